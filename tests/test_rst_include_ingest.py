"""The ``include`` directive in an ingested source, with both RST engines: the included file's
text is part of the including document, read relative to it and only inside the source; a
change in the included file parses the including document again on the next call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from docbatch import BatchIngestService

if TYPE_CHECKING:
    from tests.conftest import MakeService

STUB = """\
Command
=======

.. include:: include/NOTE.rst

.. note::

   .. include:: include/NOTE.rst

.. include:: ../outside.rst
.. include:: include/missing.rst
"""


@pytest.fixture(params=["fast", "docutils"])
def service(request: pytest.FixtureRequest, make_service: MakeService) -> BatchIngestService:
    return make_service(rst_engine=request.param)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "outside.rst").write_text("Secret text from outside the source.\n")
    root = tmp_path / "docs"
    (root / "include").mkdir(parents=True)
    (root / "include" / "NOTE.rst").write_text("The shared note, version one.\n")
    (root / "stub.rst").write_text(STUB)
    return root


def _text(service: BatchIngestService, doc_id: str) -> str:
    return "\n".join(service.backend.passages("docs", doc_id)["text"])


def test_an_included_file_is_part_of_the_document(service: BatchIngestService, tmp_path: Path) -> None:
    root = _tree(tmp_path)
    result = service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    text = _text(service, "stub.rst")
    assert text.count("The shared note, version one.") == 2
    assert "Secret" not in text
    reason = result.outcomes.filter(doc_id="stub.rst")["reason"][0]
    assert "include ../outside.rst: outside the source" in reason
    assert "include include/missing.rst: not found" in reason


def test_a_change_in_an_included_file_parses_the_including_document_again(
    service: BatchIngestService, tmp_path: Path
) -> None:
    root = _tree(tmp_path)
    service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    note = root / "include" / "NOTE.rst"
    before = note.stat().st_mtime_ns
    note.write_text("The shared note, version two.\n")
    os.utime(note, ns=(before + 10**9, before + 10**9))
    plan = dict(service.plan(root, source="docs", pattern="stub.rst").select("doc_id", "status").iter_rows())
    assert plan == {"stub.rst": "changed"}
    again = service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    assert again.outcomes.filter(pl.col("doc_id") == "stub.rst")["status"].to_list() == ["succeeded"]
    assert "version two" in _text(service, "stub.rst") and "version one" not in _text(service, "stub.rst")
    third = service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    assert set(third.outcomes["status"]) == {"skipped"}


def test_an_include_loop_is_cut(service: BatchIngestService, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.rst").write_text("A\n=\n\nText of a.\n\n.. include:: b.txt\n")
    (root / "b.txt").write_text("Text of b.\n\n.. include:: c.txt\n")
    (root / "c.txt").write_text("Text of c.\n\n.. include:: b.txt\n")
    result = service.ingest_batch(root, source="docs", executor="serial")
    assert result.outcomes["status"].to_list() == ["succeeded"]
    assert _text(service, "a.rst").split() == "A Text of a. Text of b. Text of c.".split()
    assert "includes itself" in result.outcomes["reason"][0]


def test_documents_stored_before_includes_were_read_are_parsed_again(
    service: BatchIngestService, tmp_path: Path
) -> None:
    """A label table written before included files were read (without its include columns)
    does not say what a stored document includes: its documents are parsed again once."""
    root = _tree(tmp_path)
    service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    for table in service.state_dir.glob("labels/*.parquet"):
        pl.read_parquet(table).drop("includes", "included").write_parquet(table)
    plan = dict(service.plan(root, source="docs", pattern="stub.rst").select("doc_id", "status").iter_rows())
    assert plan == {"stub.rst": "changed"}
    again = service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    assert again.outcomes["status"].to_list() == ["succeeded"]
    third = service.ingest_batch(root, source="docs", executor="serial", pattern="stub.rst")
    assert third.outcomes["status"].to_list() == ["skipped"]
