"""Tests for the fast reStructuredText reader and its quality gate against docutils."""

from __future__ import annotations

import builtins
import importlib.util
import io
import socket
import time
from concurrent.futures import ThreadPoolExecutor
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

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "dev"

NESTED = """\
=====
Guide
=====

Intro paragraph.

Install
=======

Run the installer.

On Linux
--------

Use the package manager.

Usage
=====

Call the tool.
"""

SPHINX = """\
Reference
=========

.. versionadded:: 3.1
   The FOO option appeared.

.. deprecated:: 3.20
   Use the BAR option.

.. cmake:command:: frobnicate(<name>)
   :target: frob

   Frobnicates the named thing.

.. py:function:: spam(eggs)
   :noindex:

   Return spam with eggs.

.. signature:: add_thing(<name> [OPTIONS...])

   Adds a thing.

.. seealso::

   The companion guide.

.. note:: Mind the gap.

.. glossary::

   widget
      A small gadget.

.. productionlist::
   expr: term ("+" term)*
"""

SAFETY = """\
Safe
====

.. include:: /etc/passwd

.. raw:: html

   <script>alert('raw-marker')</script>

.. csv-table:: Hosts
   :file: /etc/hostname

.. csv-table:: Remote
   :url: http://127.0.0.1:9/data.csv

.. literalinclude:: /etc/passwd

.. image:: /etc/passwd

.. figure:: /etc/passwd

   The figure caption.

.. index:: secret-index-entry

.. highlight:: cmake

.. contents::

.. meta::
   :keywords: meta-marker

.. |logo| image:: /etc/passwd

.. This comment holds comment-marker text.
   and more comment-marker text.

Visible body.
"""


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


# -- sections ---------------------------------------------------------------------------


def test_levels_follow_the_order_styles_first_appear() -> None:
    doc = parse(NESTED)
    assert doc.title == "Guide"
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "On Linux"),
        ("Guide", "Usage"),
    ]
    assert "=====" not in doc.text and "-----" not in doc.text
    assert_sections_consistent(doc)


def test_text_before_the_first_heading_and_inconsistent_titles() -> None:
    doc = parse("Preamble.\n\nLater\n=====\n\nBody.\n\nDeep\n~~~~\n\nJump\n^^^^\n\nmore\n")
    assert [s.heading_path for s in doc.sections] == [
        (),
        ("Later",),
        ("Later", "Deep"),
        ("Later", "Deep", "Jump"),
    ]
    assert doc.title == "Later"
    doc = parse("A\n=\n\nB\n-\n\nC\n~\n\nD\n=\n\nE\n~\n\nlost title, kept text\n")
    assert [s.heading_path[-1] for s in doc.sections] == ["A", "B", "C", "D"]
    assert "E" not in doc.text.split() and doc.text.endswith("lost title, kept text")


def test_short_underlines_and_titles_in_nested_bodies() -> None:
    doc = parse("Long title here\n===\n\n- Item title\n  ==========\n\n  item text\n")
    assert doc.sections[0].heading_path == ()
    assert doc.text.startswith("Long title here ===")
    assert "Item title" not in doc.text and "item text" in doc.text


def test_title_directive_and_section_numbers() -> None:
    assert parse(".. title:: Window Title\n\nFirst\n=====\n\nx\n").title == "Window Title"
    doc = parse(".. sectnum::\n\nOne\n===\n\nSub\n---\n\nTwo\n===\n")
    assert [s.heading_path[-1] for s in doc.sections] == ["1 One", "1.1 Sub", "2 Two"]


# -- blocks -----------------------------------------------------------------------------


def test_literal_blocks_are_verbatim() -> None:
    doc = parse(
        "Run this::\n\n   cmake -S . -B build  # **not bold**\n     indented `x`_\n\n"
        "Expanded form: ::\n\n   code two\n\n::\n\n   code three\n\n"
        "> quoted *literal*\n> block\n\n>>> print('doctest')\ndoctest\n"
    )
    blocks = doc.text.split("\n\n")
    assert blocks[:3] == [
        "Run this:",
        "cmake -S . -B build  # **not bold**\n  indented `x`_",
        "Expanded form:",
    ]
    assert "code two" in blocks and "code three" in blocks
    assert ">>> print('doctest')\ndoctest" in blocks
    assert "::" not in doc.text


def test_code_directives_keep_code_and_caption() -> None:
    doc = parse(
        "Intro.\n\n.. code-block:: cmake\n   :caption: Building foo\n   :linenos:\n\n"
        "   add_executable(foo main.c)\n     # **not markup**\n\n"
        ".. sourcecode:: python\n\n   print('hi')\n\n"
        ".. literalinclude:: example.py\n   :language: python\n\n   inline_body = 1\n"
    )
    assert doc.text.split("\n\n") == [
        "Intro.",
        "Building foo",
        "add_executable(foo main.c)\n  # **not markup**",
        "print('hi')",
        "inline_body = 1",
    ]


def test_lists_fields_definitions_and_line_blocks() -> None:
    doc = parse(
        "- one\n- two\n\n3. three\n4. four\n\nBreak.\n\n#. auto\n\n"
        "term : classifier\n   The *definition*.\n\n:Field: a value\n:Other: more\n\n"
        "| first line\n| second line\n\n1. Not a list\nbecause the next line is text.\n"
    )
    for block in (
        "- one\n- two",
        "3. three\n4. four",
        "1. auto",
        "term : classifier\nThe definition.",
        "Field: a value\nOther: more",
        "first line\nsecond line",
        "1. Not a list because the next line is text.",
    ):
        assert block in doc.text.split("\n\n")


def test_nested_list_items_get_their_marker_once() -> None:
    doc = parse("- item with a quote::\n\n      code\n\n- plain\n")
    assert doc.text.split("\n\n") == ["- item with a quote:", "code", "- plain"]


def test_comments_and_targets_are_dropped() -> None:
    doc = parse(".. a comment\n   still comment\n\n..\n\nKept.\n\n.. _label:\n\nAlso kept.\n")
    assert doc.text == "Kept.\n\nAlso kept."


def test_tables_become_rows_of_cells() -> None:
    doc = parse(
        "+------+----------+\n| Name | Value    |\n+======+==========+\n| a    | ``1``    |\n"
        "|      | more     |\n+------+----------+\n\n"
        "=====  =====\nKey    Means\n=====  =====\n-v     verbose\n-q     quiet\n=====  =====\n\n"
        ".. list-table:: Options\n   :header-rows: 1\n\n   * - Key\n     - Meaning\n"
        "   * - ``-x``\n     - extra\n\n"
        '.. csv-table:: Sizes\n   :header: "Size", "Bytes"\n\n   small, 10\n   "big, really", 99\n'
    )
    blocks = doc.text.split("\n\n")
    assert "Name | Value\na | 1 more" in blocks
    assert "Key | Means\n-v | verbose\n-q | quiet" in blocks
    assert "Options" in blocks and "Key | Meaning\n-x | extra" in blocks
    assert "Sizes" in blocks and "Size | Bytes\nsmall | 10\nbig, really | 99" in blocks


def test_malformed_tables_keep_nothing() -> None:
    doc = parse("Before.\n\n+-----+\n| a |\n+-----+\n\nAfter.\n")
    assert doc.text == "Before.\n\nAfter."


# -- directives -------------------------------------------------------------------------


def test_directives_degrade_to_their_text() -> None:
    doc = parse(SPHINX)
    for expected in (
        "3.1 The FOO option appeared.",
        "3.20 Use the BAR option.",
        "frobnicate(<name>)",
        "Frobnicates the named thing.",
        "spam(eggs)",
        "Return spam with eggs.",
        "add_thing(<name> [OPTIONS...])",
        "Adds a thing.",
        "The companion guide.",
        "Mind the gap.",
        "widget\nA small gadget.",
        'expr: term ("+" term)*',
    ):
        assert expected in doc.text
    for leaked in (":target:", ":noindex:", ".. ", "::"):
        assert leaked not in doc.text


def test_toctree_only_and_ifconfig() -> None:
    doc = parse(
        "Index\n=====\n\n.. toctree::\n   :maxdepth: 2\n\n   Installing <install>\n   usage/basics\n\n"
        ".. only:: html\n\n   HTML-only text.\n\n   Inner\n   -----\n\n   Inner text.\n\n"
        ".. ifconfig:: release >= '1.0'\n\n   Config text.\n"
    )
    assert "- Installing\n- usage/basics" in doc.text
    assert "<install>" not in doc.text and "maxdepth" not in doc.text
    assert "HTML-only text." in doc.text and "Config text." in doc.text
    assert [s.heading_path for s in doc.sections] == [("Index",), ("Index", "Inner")]


def test_include_raw_and_friends_embed_nothing() -> None:
    doc = parse(SAFETY)
    assert doc.text == "Safe\n\nThe figure caption.\n\nVisible body."
    for leaked in ("passwd", "raw-marker", "hostname", "secret-index-entry", "meta-marker", "comment"):
        assert leaked not in doc.text


def test_no_file_or_network_access_during_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-42\n")
    source = SAFETY.replace("/etc/passwd", str(secret)).replace("/etc/hostname", str(secret))

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parse tried to open or connect: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    doc = parse(source)
    assert "SECRET-TOKEN-42" not in doc.text and "Visible body." in doc.text


# -- inline markup and links ------------------------------------------------------------


def test_inline_markup_is_removed() -> None:
    doc = parse(
        "Some **bold**, *soft*, ``code *x*``, `title`, \\*escaped\\*, a|b, [#]_ footnote, "
        "and |name| here.\n\n.. |name| replace:: *the replacement*\n\n.. [#] Note.\n"
    )
    assert doc.text.split("\n\n")[0] == (
        "Some bold, soft, code *x*, title, *escaped*, a|b, footnote, and the replacement here."
    )
    assert "[1] Note." in doc.text


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        (":ref:`Getting started <guide-start>`", "Getting started"),
        (":ref:`guide-start`", "guide-start"),
        (":cmake:command:`add_executable`", "add_executable"),
        (":command:`target_link_libraries`", "target_link_libraries"),
        (":variable:`CMAKE_<LANG>_FLAGS`", "CMAKE_<LANG>_FLAGS"),
        (":prop_tgt:`OUTPUT_NAME <prop_tgt:OUTPUT_NAME>`", "OUTPUT_NAME"),
        (":genex:`$<CONFIG>`", "$<CONFIG>"),
        (":func:`~pkg.mod.helper`", "helper"),
        (":doc:`/manual/cmake.1`", "/manual/cmake.1"),
        ("`text`:title-reference:", "text"),
        (":pep:`8`", "PEP 8"),
        ("|undefined|", "undefined"),
        ("missing_", "missing"),
    ],
)
def test_roles_and_references_show_their_text(source: str, shown: str) -> None:
    doc = parse(f"See {source} here.\n")
    assert doc.text == f"See {shown} here."
    assert doc.text == docutils_engine.parse(f"See {source} here.\n").text


def test_links_are_resolved_external_targets_in_document_order() -> None:
    source = (
        "Read `the docs <https://docs.example.org/guide>`_, then `Mirror`_, https://plain.example.net/p, "
        "`again <the docs_>`_, first_ and `anon`__ and |home|. Mail me@example.com. "
        "See `Local`_ and missing_.\n\n.. _Mirror: Upstream_\n.. _Upstream: https://upstream.example.com/\n"
        ".. _first:\n.. _second: https://chained.example.com/\n"
        "__ https://anonymous.example.com/\n"
        ".. |home| replace:: `Home <https://home.example.com/>`__\n\nLocal\n=====\n"
    )
    doc = parse(source)
    assert doc.links == (
        "https://docs.example.org/guide",
        "https://upstream.example.com/",
        "https://plain.example.net/p",
        "https://docs.example.org/guide",
        "https://chained.example.com/",
        "https://anonymous.example.com/",
        "https://home.example.com/",
        "mailto:me@example.com",
    )
    assert doc.links == docutils_engine.parse(source).links
    assert "Read the docs, then Mirror," in doc.text and "Home." in doc.text


def test_matches_the_docutils_engine_on_sphinx_markup() -> None:
    for source in (NESTED, SPHINX, SAFETY):
        fast, slow = parse(source), docutils_engine.parse(source)
        assert (fast.title, fast.text, fast.sections, fast.links) == (
            slow.title,
            slow.text,
            slow.sections,
            slow.links,
        )


# -- robustness -------------------------------------------------------------------------


def test_empty_and_blank_input() -> None:
    assert parse("") == ParsedDocument(title=None, text="", sections=())
    assert parse(" \n\t\n").text == ""


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


def test_parallel_threads_give_the_same_result() -> None:
    sources = [NESTED, SPHINX, SAFETY] * 4
    expected = [parse(source) for source in sources]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(parse, sources)) == expected


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
