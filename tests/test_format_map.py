"""``format_map``: files of an extension read as another format (``.txt=rst`` makes Sphinx's
include snippets reStructuredText), from the config, the inventory, the plan fingerprint
and the command line (``--format EXT=FORMAT``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from docbatch import BatchConfig, BatchIngestService
from docbatch.config import FORMAT_NAMES
from docbatch.errors import ConfigError
from docbatch.formats import detect_format, supported_formats
from docbatch.plan.fingerprint import parser_fingerprints
from docbatch.plan.inventory import scan, scan_listed

SNIPPET = """\
Options
=======

Use :option:`--fast` and see `the guide <https://example.org/guide>`_.

.. note:: Mind the ``gap``.
"""


def test_the_setting_takes_pairs_of_extension_and_format() -> None:
    assert BatchConfig().format_map == ()
    config = BatchConfig(format_map=(("txt", "rst"), (".inc", "rst")))
    assert config.format_map == (("txt", "rst"), (".inc", "rst"))
    config.format_map = ((".TXT", "markdown"),)
    assert FORMAT_NAMES == supported_formats()


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ((("txt", "sphinx"),), "'sphinx'"),
        ((("", "rst"),), "''"),
        ((("rst.txt", "rst"),), "'rst.txt'"),
        ((("txt",),), "('txt',)"),
        ({"txt": "rst"}, "{'txt': 'rst'}"),
        ("txt=rst", "'txt=rst'"),
    ],
    ids=["unknown-format", "empty-extension", "dotted-extension", "not-a-pair", "dict", "text"],
)
def test_a_bad_value_names_the_setting_the_value_and_what_is_allowed(value: object, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        BatchConfig(format_map=value)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("format_map=") and named in message
    assert "html, markdown, rst, text" in message
    config = BatchConfig()
    with pytest.raises(ConfigError, match="format_map="):
        config.format_map = value  # type: ignore[assignment]


def test_detection_uses_the_map_first() -> None:
    mapped = {"txt": "rst", "inc": "rst"}
    assert detect_format("snippet.txt", mapped) == "rst"
    assert detect_format("page.rst.txt", mapped) == "rst"
    assert detect_format("part.inc", mapped) == "rst"
    assert detect_format("guide.md", mapped) == "markdown"
    assert detect_format("snippet.txt") == "text"
    assert detect_format("part.inc") is None


def test_the_inventory_gives_mapped_files_their_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(SNIPPET)
    (tmp_path / "b.inc").write_text(SNIPPET)
    (tmp_path / "c.md").write_text("# C\n")
    mapped = {".txt": "rst", "inc": "rst"}
    frame = scan(tmp_path, "*.txt,*.inc,*.md", format_map=mapped)
    assert dict(zip(frame["doc_id"], frame["format"], strict=True)) == {
        "a.txt": "rst",
        "b.inc": "rst",
        "c.md": "markdown",
    }
    assert set(frame["status"]) == {""}
    listed = scan_listed(tmp_path, ["a.txt", "b.inc"], "*.txt,*.inc", format_map=mapped)
    assert listed["format"].to_list() == ["rst", "rst"]
    plain = scan(tmp_path, "*.txt,*.inc")
    assert plain["format"].to_list() == ["text", None]


def test_the_map_is_part_of_the_fingerprints() -> None:
    plain = parser_fingerprints(BatchConfig(), {})
    mapped = parser_fingerprints(BatchConfig(format_map=(("txt", "rst"),)), {})
    assert mapped["rst"] != plain["rst"]
    assert mapped["markdown"] == plain["markdown"] and mapped["html"] == plain["html"]
    same = parser_fingerprints(BatchConfig(format_map=((".TXT", "rst"),)), {})
    assert same == mapped


def _texts(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [row[0] for row in con.execute("SELECT text FROM passages")]


def test_an_ingest_reads_snippets_as_rst_and_a_changed_map_reparses(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "options.txt").write_text(SNIPPET)

    def ingest(**settings: object) -> tuple[int, int]:
        service = BatchIngestService(tmp_path / "d.db", config=BatchConfig(**settings))  # type: ignore[arg-type]
        result = service.ingest_batch(docs, pattern="*.txt", executor="serial")
        return result.succeeded, result.skipped

    assert ingest(format_map=(("txt", "rst"),)) == (1, 0)
    (text,) = _texts(tmp_path / "d.db")
    assert "--fast" in text and "Mind the gap." in text and ".. note" not in text and "`" not in text
    assert ingest(format_map=(("txt", "rst"),)) == (0, 1)
    assert ingest() == (1, 0)
    assert ".. note::" in "\n".join(_texts(tmp_path / "d.db"))


def test_the_command_line_takes_format_options_and_names_a_bad_one(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "options.txt").write_text(SNIPPET)
    cli = [
        sys.executable,
        "-m",
        "docbatch",
        "ingest-docs-batch",
        "docs",
        "--pattern",
        "*.txt",
        "--db",
        "d.db",
    ]
    good = subprocess.run(
        [*cli, "--format", ".txt=rst", "--format", "inc=rst"], cwd=tmp_path, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr
    assert ".. note" not in "\n".join(_texts(tmp_path / "d.db"))
    for bad in ("txt=sphinx", "txt"):
        run = subprocess.run([*cli, "--format", bad], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == 2 and "format_map" in run.stderr and "Traceback" not in run.stderr
