"""reStructuredText behaviour both engines share: every test runs on the fast reader and on
docutils (the ``rst_engine`` fixture). Where the engines differ on purpose, the tests are in
test_rst_fast.py and test_rst.py, which say why."""

from __future__ import annotations

import builtins
import io
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import Parser, check_sections

from .rst_cases import NESTED, NESTED_HEADINGS, NESTED_OVERLINED, SAFETY, SPHINX


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc, complete=False)


# -- sections ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [NESTED, NESTED_OVERLINED], ids=["underlined", "overlined"])
def test_title_and_nested_heading_paths(source: str, rst_engine: Parser) -> None:
    doc = rst_engine(source)
    assert doc.title == "Guide"
    assert [s.heading_path for s in doc.sections] == NESTED_HEADINGS
    assert "=====" not in doc.text and "-----" not in doc.text and "~~~" not in doc.text
    assert_sections_consistent(doc)


@pytest.mark.parametrize("source", ["", "  \n\n ", " \n\t\n"])
def test_empty_or_blank_text_gives_an_empty_document(source: str, rst_engine: Parser) -> None:
    assert rst_engine(source) == ParsedDocument(title=None, text="", sections=())


# -- directives -------------------------------------------------------------------------


def test_sphinx_directives_degrade_to_their_text(rst_engine: Parser) -> None:
    doc = rst_engine(SPHINX)
    for expected in (
        "3.1 The FOO option appeared.",
        "3.20 Use the BAR option.",
        "frobnicate(<name>)",
        "Frobnicates the named thing.",
        "spam(eggs)",
        "Return spam with eggs.",
        "add_thing(<name> [OPTIONS...])",
        "Adds a thing.",
        "pkg.module.helper",
        "The companion guide.",
        "Mind the gap.",
        "widget\nA small gadget.",
        'expr: term ("+" term)*',
        "Remember the milk.",
    ):
        assert expected in doc.text
    for leaked in ("Unknown directive", "No directive entry", ":target:", ":noindex:", ".. ", "::"):
        assert leaked not in doc.text
    assert doc.warnings == ()


@pytest.mark.parametrize(
    "directive",
    [
        ".. cmake-module:: ../../Modules/FindBoost.cmake",
        ".. kernel-doc:: include/linux/device.h\n   :internal:",
        ".. mermaid:: diagrams/flow.mmd",
        ".. mdinclude:: ../README.md",
        ".. doxygenfile:: widget.hpp\n   :project: demo",
        ".. plot:: pyplots/ellipses.py",
    ],
)
def test_an_extension_directive_naming_a_file_shows_no_path(directive: str, rst_engine: Parser) -> None:
    """Sphinx extensions read such a file (a module's doc comment, a header's kernel-doc, a
    diagram); docbatch does not, and its path is no text of the page."""
    doc = rst_engine(f"Page\n====\n\nBefore.\n\n{directive}\n\nAfter.\n")
    assert doc.text == "Page\n\nBefore.\n\nAfter."
    alone = rst_engine(directive + "\n")
    assert alone.text == "" and alone.sections == ()


@pytest.mark.parametrize(
    ("directive", "shown"),
    [
        (".. py:class:: pkg.Widget", "pkg.Widget"),
        (".. py:module:: os.path", "os.path"),
        (".. variable:: CMAKE_<LANG>_FLAGS", "CMAKE_<LANG>_FLAGS"),
        (".. option:: --prefix=<dir/sub>", "--prefix=<dir/sub>"),
        (".. envvar:: PATH", "PATH"),
        (".. describe:: see docs/setup.cfg for the defaults", "see docs/setup.cfg for the defaults"),
    ],
)
def test_an_extension_directive_naming_a_thing_keeps_it(
    directive: str, shown: str, rst_engine: Parser
) -> None:
    assert shown in rst_engine(f"{directive}\n\n   Body.\n").text


def test_include_raw_and_friends_embed_nothing(rst_engine: Parser) -> None:
    doc = rst_engine(SAFETY)
    assert doc.text == "Safe\n\nThe figure caption.\n\nVisible body."
    hostname = Path("/etc/hostname")
    if hostname.is_file() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in doc.text
    for leaked in (
        "passwd",
        "root:",
        "raw-marker",
        "<script>",
        "hostname",
        "secret-index-entry",
        "meta-marker",
        "comment",
        "directive disabled",
        "deactivated",
    ):
        assert leaked not in doc.text


# -- inline markup and links ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "shown", "clean"),
    [
        (":ref:`Getting started <guide-start>`", "Getting started", True),
        (":ref:`guide-start`", "guide-start", True),
        (":cmake:command:`add_executable`", "add_executable", True),
        (":command:`target_link_libraries`", "target_link_libraries", True),
        (":variable:`CMAKE_<LANG>_FLAGS`", "CMAKE_<LANG>_FLAGS", True),
        (":prop_tgt:`OUTPUT_NAME <prop_tgt:OUTPUT_NAME>`", "OUTPUT_NAME", True),
        (":genex:`$<CONFIG>`", "$<CONFIG>", True),
        (":func:`~pkg.mod.helper`", "helper", True),
        (":doc:`/manual/cmake.1`", "/manual/cmake.1", True),
        ("`text`:title-reference:", "text", True),
        (":pep:`8`", "PEP 8", True),
        # unresolved: docutils reports them (test_rst.py), the fast reader reports nothing
        ("|undefined|", "undefined", False),
        ("missing_", "missing", False),
    ],
)
def test_roles_and_references_show_their_text(
    source: str, shown: str, clean: bool, rst_engine: Parser
) -> None:
    doc = rst_engine(f"See {source} here.\n")
    assert doc.text == f"See {shown} here."
    if clean:
        assert doc.warnings == ()


def test_text_before_first_heading_has_empty_path(rst_engine: Parser) -> None:
    doc = rst_engine("Preamble text.\n\nLater\n=====\n\nBody.\n")
    assert [s.heading_path for s in doc.sections] == [(), ("Later",)]
    assert doc.title == "Later"
    assert_sections_consistent(doc)


def test_code_block_kept_verbatim_with_caption(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Intro.\n\n"
        ".. code-block:: cmake\n"
        "   :caption: Building foo\n"
        "   :linenos:\n"
        "   :emphasize-lines: 2\n\n"
        "   add_executable(foo main.c)\n"
        "     # indented **not markup**\n"
    )
    assert "add_executable(foo main.c)\n  # indented **not markup**" in doc.text
    assert "Building foo" in doc.text
    assert doc.warnings == ()


def test_code_directive_accepts_sphinx_options(rst_engine: Parser) -> None:
    doc = rst_engine(".. code:: python\n   :linenos:\n   :force:\n\n   print('hi')\n")
    assert doc.text == "print('hi')"
    assert doc.warnings == ()


def test_grid_and_list_tables_become_rows_of_cells(rst_engine: Parser) -> None:
    doc = rst_engine(
        "+------+-------+\n| Name | Value |\n+======+=======+\n"
        "| a    | 1     |\n+------+-------+\n\n"
        ".. list-table:: Options\n   :header-rows: 1\n\n"
        "   * - Key\n     - Meaning\n   * - ``-v``\n     - verbose output\n"
    )
    assert "Name | Value\na | 1" in doc.text
    assert "Options" in doc.text
    assert "Key | Meaning\n-v | verbose output" in doc.text


def test_other_blocks_keep_their_text(rst_engine: Parser) -> None:
    doc = rst_engine(
        "term\n   The definition.\n\n"
        ":Author: Someone\n\n"
        "Para.\n\n:field: a value\n\n"
        ".. note:: Mind the gap.\n\n"
        "| first line\n| second line\n\n"
        "- one\n- two\n\n"
        "Footnote ref [#f]_.\n\n.. [#f] The footnote body.\n"
    )
    for expected in (
        "term\nThe definition.",
        "field: a value",
        "Mind the gap.",
        "first line\nsecond line",
        "- one\n- two",
        "The footnote body.",
    ):
        assert expected in doc.text


def test_toctree_lists_entries_without_errors(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Index\n=====\n\n.. toctree::\n   :maxdepth: 2\n   :hidden:\n\n"
        "   Installing <install>\n   usage/basics\n"
    )
    assert doc.warnings == ()
    assert "Installing" in doc.text and "usage/basics" in doc.text
    assert "<install>" not in doc.text and "maxdepth" not in doc.text


def test_only_and_ifconfig_parse_into_the_parent(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Top\n===\n\n.. only:: html\n\n   .. contents::\n\n   HTML-only text.\n\n"
        ".. ifconfig:: release >= '1.0'\n\n   Config text.\n\nNext\n----\n\nMore.\n"
    )
    assert "HTML-only text." in doc.text and "Config text." in doc.text
    assert [s.heading_path for s in doc.sections] == [("Top",), ("Top", "Next")]
    assert doc.warnings == ()


def test_sections_inside_only_join_the_document_outline(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Intro\n#####\n\nText.\n\n.. only:: not man\n\n Guides\n ######\n\n Guide text.\n\n"
        " Tips\n ====\n\n Tip text.\n"
    )
    assert [s.heading_path for s in doc.sections] == [
        ("Intro",),
        ("Guides",),
        ("Guides", "Tips"),
    ]
    assert "Guide text." in doc.text and "Tip text." in doc.text
    assert doc.warnings == ()
    assert_sections_consistent(doc)


def test_no_file_or_network_access_during_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rst_engine: Parser
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-42\n")
    source = (
        f"Doc\n===\n\n.. include:: {secret}\n\n.. include:: {secret}\n   :literal:\n\n"
        f".. raw:: html\n   :file: {secret}\n\n.. csv-table::\n   :file: {secret}\n\n"
        f".. csv-table::\n   :url: http://127.0.0.1:9/data.csv\n\n"
        f".. literalinclude:: {secret}\n\n.. figure:: {secret}\n   :figwidth: image\n\nEnd.\n"
    )
    rst_engine(source)  # warm up imports before watching the file system

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parse tried to open or connect: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    doc = rst_engine(source)
    assert "SECRET-TOKEN-42" not in doc.text
    assert "End." in doc.text


def test_links_include_external_and_resolved_indirect_targets(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Read `the docs <https://docs.example.org/guide>`_, then `Mirror`_ and "
        "https://plain.example.net/page. Also |home|.\n\n"
        ".. _Mirror: Upstream_\n.. _Upstream: https://upstream.example.com/\n"
        ".. |home| replace:: `Home <https://home.example.com/>`__\n"
    )
    assert doc.links == (
        "https://docs.example.org/guide",
        "https://upstream.example.com/",
        "https://plain.example.net/page",
        "https://home.example.com/",
    )
    assert doc.text.endswith("Also Home.")


def test_nothing_is_written_to_stdout_or_stderr(
    capfd: pytest.CaptureFixture[str], rst_engine: Parser
) -> None:
    rst_engine(SAFETY + "\n" + SPHINX + "\nBroken `ref_ and *emphasis and missing_.\n\n.. bogus::\n")
    rst_engine("Title\n===\n\nNot a title\n=\n\n.. image::\n")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_parallel_threads_give_the_same_result(rst_engine: Parser) -> None:
    sources = [NESTED, SPHINX, SAFETY] * 4
    expected = [rst_engine(source) for source in sources]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(rst_engine, sources)) == expected


def test_inline_markup_and_link_syntax_are_removed(rst_engine: Parser) -> None:
    doc = rst_engine("Some **bold**, *soft*, ``code`` and `Python <https://python.org>`_ text.\n")
    assert doc.text == "Some bold, soft, code and Python text."


def test_text_before_the_first_heading_and_inconsistent_titles(rst_engine: Parser) -> None:
    doc = rst_engine("Preamble.\n\nLater\n=====\n\nBody.\n\nDeep\n~~~~\n\nJump\n^^^^\n\nmore\n")
    assert [s.heading_path for s in doc.sections] == [
        (),
        ("Later",),
        ("Later", "Deep"),
        ("Later", "Deep", "Jump"),
    ]
    assert doc.title == "Later"
    doc = rst_engine("A\n=\n\nB\n-\n\nC\n~\n\nD\n=\n\nE\n~\n\nlost title, kept text\n")
    assert [s.heading_path[-1] for s in doc.sections] == ["A", "B", "C", "D"]
    assert "E" not in doc.text.split() and doc.text.endswith("lost title, kept text")


def test_short_underlines_and_titles_in_nested_bodies(rst_engine: Parser) -> None:
    doc = rst_engine("Long title here\n===\n\n- Item title\n  ==========\n\n  item text\n")
    assert doc.sections[0].heading_path == ()
    assert doc.text.startswith("Long title here ===")
    assert "Item title" not in doc.text and "item text" in doc.text


def test_title_directive_and_section_numbers(rst_engine: Parser) -> None:
    assert rst_engine(".. title:: Window Title\n\nFirst\n=====\n\nx\n").title == "Window Title"
    doc = rst_engine(".. sectnum::\n\nOne\n===\n\nSub\n---\n\nTwo\n===\n")
    assert [s.heading_path[-1] for s in doc.sections] == ["1 One", "1.1 Sub", "2 Two"]


def test_literal_blocks_are_verbatim(rst_engine: Parser) -> None:
    doc = rst_engine(
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


def test_code_directives_keep_code_and_caption(rst_engine: Parser) -> None:
    doc = rst_engine(
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


def test_lists_fields_definitions_and_line_blocks(rst_engine: Parser) -> None:
    doc = rst_engine(
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


def test_nested_list_items_get_their_marker_once(rst_engine: Parser) -> None:
    doc = rst_engine("- item with a quote::\n\n      code\n\n- plain\n")
    assert doc.text.split("\n\n") == ["- item with a quote:", "code", "- plain"]


def test_comments_and_targets_are_dropped(rst_engine: Parser) -> None:
    doc = rst_engine(".. a comment\n   still comment\n\n..\n\nKept.\n\n.. _label:\n\nAlso kept.\n")
    assert doc.text == "Kept.\n\nAlso kept."


def test_tables_become_rows_of_cells(rst_engine: Parser) -> None:
    doc = rst_engine(
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


def test_malformed_tables_keep_nothing(rst_engine: Parser) -> None:
    doc = rst_engine("Before.\n\n+-----+\n| a |\n+-----+\n\nAfter.\n")
    assert doc.text == "Before.\n\nAfter."


def test_toctree_only_and_ifconfig(rst_engine: Parser) -> None:
    doc = rst_engine(
        "Index\n=====\n\n.. toctree::\n   :maxdepth: 2\n\n   Installing <install>\n   usage/basics\n\n"
        ".. only:: html\n\n   HTML-only text.\n\n   Inner\n   -----\n\n   Inner text.\n\n"
        ".. ifconfig:: release >= '1.0'\n\n   Config text.\n"
    )
    assert "- Installing\n- usage/basics" in doc.text
    assert "<install>" not in doc.text and "maxdepth" not in doc.text
    assert "HTML-only text." in doc.text and "Config text." in doc.text
    assert [s.heading_path for s in doc.sections] == [("Index",), ("Index", "Inner")]


def test_the_safety_case_opens_no_file_and_no_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rst_engine: Parser
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-42\n")
    source = SAFETY.replace("/etc/passwd", str(secret)).replace("/etc/hostname", str(secret))

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parse tried to open or connect: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    doc = rst_engine(source)
    assert "SECRET-TOKEN-42" not in doc.text and "Visible body." in doc.text


def test_links_are_resolved_external_targets_in_document_order(rst_engine: Parser) -> None:
    source = (
        "Read `the docs <https://docs.example.org/guide>`_, then `Mirror`_, https://plain.example.net/p, "
        "`again <the docs_>`_, first_ and `anon`__ and |home|. Mail me@example.com. "
        "See `Local`_ and missing_.\n\n.. _Mirror: Upstream_\n.. _Upstream: https://upstream.example.com/\n"
        ".. _first:\n.. _second: https://chained.example.com/\n"
        "__ https://anonymous.example.com/\n"
        ".. |home| replace:: `Home <https://home.example.com/>`__\n\nLocal\n=====\n"
    )
    doc = rst_engine(source)
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
    assert "Read the docs, then Mirror," in doc.text and "Home." in doc.text


def test_the_engines_give_the_same_document() -> None:
    fast, slow = get_parser("rst", rst_engine="fast"), get_parser("rst", rst_engine="docutils")
    for source in (NESTED, NESTED_OVERLINED, SPHINX, SAFETY):
        one, other = fast(source), slow(source)
        assert (one.title, one.text, _spans(one), one.links) == (
            other.title,
            other.text,
            _spans(other),
            other.links,
        )


def _spans(doc: ParsedDocument) -> list[tuple[tuple[str, ...], int, int]]:
    """The sections' heading paths and spans (the fast reader gives no anchors yet)."""
    return [(s.heading_path, s.start, s.end) for s in doc.sections]
