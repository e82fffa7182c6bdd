"""The quality gate's markup-leak measure (``benchmarks/rst_quality.py``): role, directive,
substitution and target syntax left in the text outside literal blocks, per 1,000 words,
for both engines; ``.txt`` snippets on request; the files docutils rejects named."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rst_quality_leaks", REPO / "benchmarks" / "rst_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "text",
    [
        "See :ref:`label` here.",
        "Use :py:func:`spam` here.",
        ".. note:: left over",
        "  .. _label:",
        "cell | .. _target: https://example.org",
        "A |name| substitution.",
        "An _`inline target` here.",
        "A `reference`_ here.",
        "cell .. code-block:: python",
    ],
)
def test_markup_syntax_counts_as_a_leak(gate: ModuleType, text: str) -> None:
    assert gate.leaks(text) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Plain prose: a ratio 3:4 and time 10:30.",
        "name | value | default",
        "a | b | c",
        "Ellipsis... and .. inside a line",
        "snake_case_names and __dunder__ ones",
        "an email user@example.org",
        "Added merge (|) and update (|=) operators",
    ],
)
def test_prose_and_tables_are_no_leak(gate: ModuleType, text: str) -> None:
    assert gate.leaks(text) == 0


def test_literal_blocks_do_not_count(gate: ModuleType) -> None:
    source = """\
Title
=====

Example::

   .. note:: shown as code
   :ref:`kept` too

Prose with ``:ref:`inline``` literal.
"""
    assert gate.leak_count(source, gate.get_parser("rst", rst_engine="docutils")(source).text) == (0, 5)


def test_the_gate_reports_leaks_snippets_and_rejected_files(gate: ModuleType, tmp_path: Path) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    (tree / "good.rst").write_text(
        "Title\n=====\n\nSee :ref:`label` and |name|.\n\n.. |name| replace:: Name\n"
    )
    (tree / "snippet.txt").write_text("An include snippet with :option:`--fast`.\n")
    (tree / "table.rst").write_text(
        "T\n=\n\n=====  =====  ======\n   Inputs     Output\n------------  ------\n"
        "A      B      C\n=====  =====  ======\n"
    )
    result = gate.quality_gate(tree, repeat=1)
    assert result["files"] == 2
    assert "leaks_per_1k_words" in result["fast"] and "leaks_per_1k_words" in result["docutils"]
    assert result["fast"]["leaks"] <= result["docutils"]["leaks"]
    assert result["passes"]
    with_snippets = gate.quality_gate(tree, repeat=1, snippets=True)
    assert with_snippets["files"] == 3
    assert "| markup leaks per 1,000 words" in gate.table(with_snippets)


def test_files_docutils_rejects_are_named(
    gate: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    (tree / "a.rst").write_text("A\n=\n\nText.\n")
    (tree / "b.rst").write_text("B\n=\n\nBroken.\n")
    exact = gate.get_parser("rst", rst_engine="docutils")

    def rejecting(text: str) -> object:
        if "Broken" in text:
            raise gate.ParseError("docutils failed: test")
        return exact(text)

    real = gate.get_parser
    monkeypatch.setattr(
        gate,
        "get_parser",
        lambda fmt, rst_engine="fast": rejecting if rst_engine == "docutils" else real(fmt),
    )
    result = gate.quality_gate(tree, repeat=1)
    assert result["compared"] == 1
    assert result["docutils"]["rejected_files"] == ["b.rst"]
    assert "docutils rejects 1 file: b.rst" in gate.table(result)


def test_the_gate_fails_when_the_fast_reader_leaks_more(
    gate: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    (tree / "a.rst").write_text("A\n=\n\nSee the guide.\n")
    real = gate.get_parser
    fast = real("rst", rst_engine="fast")

    def leaky(text: str) -> object:
        doc = fast(text)
        return dataclasses.replace(doc, text=doc.text + "\n\n.. note:: leaked")

    monkeypatch.setattr(
        gate,
        "get_parser",
        lambda fmt, rst_engine="fast": leaky if rst_engine == "fast" else real(fmt, rst_engine=rst_engine),
    )
    result = gate.quality_gate(tree, repeat=1)
    assert result["fast"]["leaks"] == 1 and result["docutils"]["leaks"] == 0
    assert not result["passes"]
