"""Tests of the fast reStructuredText reader where it differs from docutils on purpose (it
drops footnote references, never raises on any input, and reads in linear time), and its
quality gate against docutils. What both engines do alike is tested in test_rst_engines.py."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import docbatch.formats.rst_docutils as docutils_engine
from docbatch.errors import ParseError
from docbatch.formats import RST_ENGINES, ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.rst_fast import parse
from docbatch.sample import write_sample_tree

from .rst_cases import NESTED

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "dev"


# fmt: off
MARKUP_PIECES = (
    "\n", "\n\n", "   ", "- ", "1. ", "#. ", ":f: ", "::", ".. ", ".. _x: ", ".. |s| replace:: ",
    "note:: ", "code-block:: ", "only:: ", "`", "``", "*", "**", "|", "_", "[#]_", "<", ">",
    "http://x.y/", "a@b.c", "====", "----", "+--+", "| a |", "== ==", ">>> ", "word", "\\", "\t",
    "\u65e5",
)
# fmt: on


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc, complete=False)


def gate_module() -> ModuleType:
    """``benchmarks/rst_quality.py``, loaded from its file."""
    spec = importlib.util.spec_from_file_location("rst_quality", REPO / "benchmarks" / "rst_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- registry ---------------------------------------------------------------------------


def test_registry_defaults_to_the_fast_reader_and_keeps_docutils() -> None:
    assert RST_ENGINES == ("fast", "docutils")
    assert get_parser("rst") is parse
    assert get_parser("rst", rst_engine="fast") is parse
    assert get_parser("rst", rst_engine="docutils") is docutils_engine.parse
    assert get_parser("markdown", rst_engine="docutils") is get_parser("markdown")
    with pytest.raises(ValueError, match="fast, docutils"):
        get_parser("rst", rst_engine="sphinx")


# -- inline markup and links ------------------------------------------------------------


def test_inline_markup_is_removed() -> None:
    # an auto-numbered footnote reference ([#]_) is dropped here; docutils shows its number
    doc = parse(
        "Some **bold**, *soft*, ``code *x*``, `title`, \\*escaped\\*, a|b, [#]_ footnote, "
        "and |name| here.\n\n.. |name| replace:: *the replacement*\n\n.. [#] Note.\n"
    )
    assert doc.text.split("\n\n")[0] == (
        "Some bold, soft, code *x*, title, *escaped*, a|b, footnote, and the replacement here."
    )
    assert "[1] Note." in doc.text


# -- robustness -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "\x00\x01\x02 garbage \ufffd",
        "`unclosed *emphasis **strong ``literal |sub _`target",
        ".. \n..\n.. _\n.. |\n.. [\n.. x::\n.. code-block::\n   :bad",
        "+--+\n|\n+--+--+\n| a | b\n",
        "====  ====\nno bottom border\n",
        "\n".join("  " * level + "- item" for level in range(400)),
        "\n".join(" " * level + "quote" for level in range(0, 3000, 3)),
        "Title\n=====\n" * 500 + "Other\n-----\n" * 500,
        ".. |a| replace:: |b|\n.. |b| replace:: |a|\n\n|a| |b|\n",
    ],
)
def test_garbage_never_raises(source: str) -> None:
    # docutils gives up on some of these (400 nested lists: ParseError, see test_rst.py)
    doc = parse(source)
    assert isinstance(doc, ParsedDocument)
    assert_sections_consistent(doc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(MARKUP_PIECES), max_size=80))
def test_random_markup_never_raises(parts: list[str]) -> None:
    assert_sections_consistent(parse("".join(parts)))


@pytest.mark.parametrize(
    "source",
    [
        " ".join(["word **bold** ``lit`` :ref:`x <y>` `a <http://x.org>`_ name_ |s| a@b.org"] * 30_000),
        "*a " * 700_000,
        "`a " * 700_000,
        "a_ " * 700_000,
        "a-" * 1_000_000 + "a_",
        "- " * 1_000_000,
        "x" * 2_000_000,
    ],
    ids=["prose", "stars", "backquotes", "references", "long-name", "bullets", "one-word"],
)
def test_two_megabyte_single_lines_are_linear(source: str) -> None:
    started = time.perf_counter()
    parse(source)
    assert time.perf_counter() - started < 20


@pytest.mark.parametrize(
    "source",
    [
        "\n".join(f"- item {i}" for i in range(50_000)),
        "\n".join(" " * (i % 120) + "- x" for i in range(50_000)),
        "\n".join(("term" if i % 2 == 0 else "   definition") for i in range(50_000)),
        "\n".join(f"Title {i}\n{'=~-'[i % 3] * 12}\n\ntext {i}\n" for i in range(12_500)),
        "+--+--+\n" + "\n".join("|a |b |\n+--+--+" for _ in range(25_000)),
        "\n".join(f".. _t{i}: http://x/{i}" for i in range(25_000))
        + "\n\n"
        + " ".join(f"t{i}_" for i in range(25_000)),
    ],
    ids=["bullets", "indents", "definitions", "sections", "grid-table", "targets"],
)
def test_fifty_thousand_line_files_are_linear(source: str) -> None:
    started = time.perf_counter()
    parse(source)
    assert time.perf_counter() - started < 20


def test_failures_are_parse_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from docbatch.formats import rst_fast

    def broken(*args: object) -> None:
        raise RuntimeError("bug\nwith lines")

    monkeypatch.setattr(rst_fast, "_render", broken)
    with pytest.raises(ParseError, match="rst reader failed: RuntimeError: bug with lines"):
        parse("Some text.\n")


# -- quality gate -----------------------------------------------------------------------


def test_quality_gate_on_the_sample_tree(tmp_path: Path) -> None:
    gate = gate_module()
    sample_tree = write_sample_tree(tmp_path / "sample")
    assert list(sample_tree.rglob("*.rst"))
    result = gate.quality_gate(sample_tree, repeat=1)
    assert result["files"] == result["compared"] == len(list(sample_tree.rglob("*.rst")))
    assert result["heading_agreement"] >= 0.97
    assert result["mean_f1"] >= 0.9
    assert result["fast"]["files_per_s"] > 0 and result["docutils"]["files_per_s"] > 0
    out = tmp_path / "gate.json"
    assert gate.main([str(sample_tree), "--repeat", "1", "--json", str(out)]) == 0
    assert '"heading_agreement"' in out.read_text()


def test_quality_gate_metrics() -> None:
    gate = gate_module()
    assert gate.token_f1("a b b", "a b b") == 1.0
    assert gate.token_f1("", "") == 1.0 and gate.token_f1("x", "y") == 0.0
    assert gate.token_f1("A a b", "a a") == pytest.approx(0.8)
    assert gate.headings(parse(NESTED)) == ["Guide", "Install", "On Linux", "Usage"]


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "rst").is_dir(), reason="shared dev corpus not available")
def test_quality_gate_on_the_dev_corpus() -> None:
    result = gate_module().quality_gate(CORPUS / "rst", limit=200, repeat=1)
    assert result["compared"] == 200
    assert result["heading_agreement"] >= 0.97
    assert result["mean_f1"] >= 0.95
    assert result["passes"]
