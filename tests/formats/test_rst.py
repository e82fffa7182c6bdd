"""Tests for the reStructuredText parser and its Sphinx fallbacks."""

from __future__ import annotations

import builtins
import io
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import directives, roles

from docbatch.errors import ParseError
from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.rst_docutils import parse, sphinx_compat

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "dev"

NESTED = """\
Guide
=====

Intro paragraph.

Install
-------

Run the installer.

On Linux
~~~~~~~~

Use the package manager.

Usage
-----

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

.. autofunction:: pkg.module.helper

.. seealso::

   The companion guide.

.. glossary::

   widget
      A small gadget.

.. productionlist::
   expr: term ("+" term)*

.. todo:: Remember the milk.
"""

SAFETY = """\
Safe
====

.. include:: /etc/passwd

.. raw:: html

   <script>alert('raw-marker')</script>

.. csv-table:: Hosts
   :file: /etc/hostname

.. literalinclude:: /etc/passwd

.. image:: /etc/passwd

Visible body.
"""


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc, complete=False)


def test_registry_returns_this_parser_for_the_docutils_engine() -> None:
    assert get_parser("rst", rst_engine="docutils") is parse
    assert get_parser("rst") is not parse  # the fast reader is the default


def test_title_and_nested_heading_paths() -> None:
    doc = parse(NESTED)
    assert doc.title == "Guide"
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "On Linux"),
        ("Guide", "Usage"),
    ]
    assert "=====" not in doc.text and "~~~" not in doc.text
    assert_sections_consistent(doc)


def test_text_before_first_heading_has_empty_path() -> None:
    doc = parse("Preamble text.\n\nLater\n=====\n\nBody.\n")
    assert [s.heading_path for s in doc.sections] == [(), ("Later",)]
    assert doc.title == "Later"
    assert_sections_consistent(doc)


def test_empty_text_gives_empty_document() -> None:
    assert parse("") == ParsedDocument(title=None, text="", sections=())
    assert parse("  \n\n ").text == ""


def test_inline_markup_is_removed() -> None:
    doc = parse("Some **bold**, *soft*, ``code`` and `Python <https://python.org>`_ text.\n")
    assert doc.text == "Some bold, soft, code and Python text."


def test_code_block_kept_verbatim_with_caption() -> None:
    doc = parse(
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


def test_code_directive_accepts_sphinx_options() -> None:
    doc = parse(".. code:: python\n   :linenos:\n   :force:\n\n   print('hi')\n")
    assert doc.text == "print('hi')"
    assert doc.warnings == ()


def test_tables_become_rows_of_cells() -> None:
    doc = parse(
        "+------+-------+\n| Name | Value |\n+======+=======+\n"
        "| a    | 1     |\n+------+-------+\n\n"
        ".. list-table:: Options\n   :header-rows: 1\n\n"
        "   * - Key\n     - Meaning\n   * - ``-v``\n     - verbose output\n"
    )
    assert "Name | Value\na | 1" in doc.text
    assert "Options" in doc.text
    assert "Key | Meaning\n-v | verbose output" in doc.text


def test_other_blocks_keep_their_text() -> None:
    doc = parse(
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


@pytest.mark.parametrize(
    ("source", "expected"),
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
    ],
)
def test_unknown_roles_degrade_to_display_text(source: str, expected: str) -> None:
    doc = parse(f"See {source} here.\n")
    assert doc.text == f"See {expected} here."
    assert doc.warnings == ()


def test_unknown_directives_keep_their_text() -> None:
    doc = parse(SPHINX)
    for expected in (
        "3.1",
        "The FOO option appeared.",
        "Use the BAR option.",
        "frobnicate(<name>)",
        "Frobnicates the named thing.",
        "Return spam with eggs.",
        "pkg.module.helper",
        "The companion guide.",
        "widget\nA small gadget.",
        'expr: term ("+" term)*',
        "Remember the milk.",
    ):
        assert expected in doc.text
    for leaked in ("Unknown directive", "No directive entry", ":target:", ":noindex:", ".. "):
        assert leaked not in doc.text
    assert doc.warnings == ()


def test_toctree_lists_entries_without_errors() -> None:
    doc = parse(
        "Index\n=====\n\n.. toctree::\n   :maxdepth: 2\n   :hidden:\n\n"
        "   Installing <install>\n   usage/basics\n"
    )
    assert doc.warnings == ()
    assert "Installing" in doc.text and "usage/basics" in doc.text
    assert "<install>" not in doc.text and "maxdepth" not in doc.text


def test_only_and_ifconfig_parse_into_the_parent() -> None:
    doc = parse(
        "Top\n===\n\n.. only:: html\n\n   .. contents::\n\n   HTML-only text.\n\n"
        ".. ifconfig:: release >= '1.0'\n\n   Config text.\n\nNext\n----\n\nMore.\n"
    )
    assert "HTML-only text." in doc.text and "Config text." in doc.text
    assert [s.heading_path for s in doc.sections] == [("Top",), ("Top", "Next")]
    assert doc.warnings == ()


def test_sections_inside_only_join_the_document_outline() -> None:
    doc = parse(
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


def test_parsing_reads_no_files_and_embeds_no_raw_content() -> None:
    doc = parse(SAFETY)
    assert "Visible body." in doc.text
    assert "root:" not in doc.text
    assert "raw-marker" not in doc.text and "<script>" not in doc.text
    hostname = Path("/etc/hostname")
    if hostname.is_file() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in doc.text
    for leaked in ("directive disabled", "deactivated", "/etc/passwd"):
        assert leaked not in doc.text


def test_no_file_or_network_access_during_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-42\n")
    source = (
        f"Doc\n===\n\n.. include:: {secret}\n\n.. include:: {secret}\n   :literal:\n\n"
        f".. raw:: html\n   :file: {secret}\n\n.. csv-table::\n   :file: {secret}\n\n"
        f".. csv-table::\n   :url: http://127.0.0.1:9/data.csv\n\n"
        f".. literalinclude:: {secret}\n\n.. figure:: {secret}\n   :figwidth: image\n\nEnd.\n"
    )
    parse(source)  # warm up imports before watching the file system

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"parse tried to open or connect: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    doc = parse(source)
    assert "SECRET-TOKEN-42" not in doc.text
    assert "End." in doc.text


def test_links_include_external_and_resolved_indirect_targets() -> None:
    doc = parse(
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


def test_errors_are_summarised_not_embedded() -> None:
    doc = parse("Points at missing_.\n\nUses |undefined| here.\n")
    assert doc.warnings == ('2 rst errors: Unknown target name: "missing".',)
    assert doc.text == "Points at missing.\n\nUses undefined here."


def test_nothing_is_written_to_stdout_or_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    parse(SAFETY + "\n" + SPHINX + "\nBroken `ref_ and *emphasis and missing_.\n\n.. bogus::\n")
    parse("Title\n===\n\nNot a title\n=\n\n.. image::\n")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_docutils_failure_becomes_one_line_parse_error() -> None:
    deep = "\n".join("  " * level + "- item" for level in range(400))
    with pytest.raises(ParseError) as info:
        parse(deep)
    assert "\n" not in str(info.value)
    with pytest.raises(ParseError, match="line-length-limit"):
        parse("x" * 20_000)


def test_shim_is_idempotent_and_scoped_to_parsing() -> None:
    sphinx_compat.install()
    sphinx_compat.install()
    wrapped = directives.directive.__dict__["_docbatch_sphinx_compat"]
    assert "_docbatch_sphinx_compat" not in getattr(wrapped, "__dict__", {})
    assert "_docbatch_sphinx_compat" in roles.role.__dict__
    plain = publish_doctree(":ref:`x`\n", settings_overrides={"report_level": 5})
    assert any(m["level"] == 3 for m in plain.findall(nodes.system_message))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Title <target>", "Title"),
        ("target", "target"),
        ("!plain", "plain"),
        ("~a.b.c", "c"),
        ("$<TARGET_FILE:tgt>", "$<TARGET_FILE:tgt>"),
        ("CMAKE_<LANG>_COMPILER <CMAKE_<LANG>_COMPILER>", "CMAKE_<LANG>_COMPILER"),
    ],
)
def test_display_text(text: str, shown: str) -> None:
    assert sphinx_compat.display_text(text) == shown


def test_parallel_threads_give_the_same_result() -> None:
    sources = [NESTED, SPHINX, SAFETY] * 4
    expected = [parse(source) for source in sources]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(parse, sources)) == expected


def _corpus_sample(limit: int = 50) -> list[Path]:
    """Titled pages spread over the CMake Help folders (snippets and module stubs left out)."""
    root = CORPUS / "rst"
    pages = [
        path
        for path in sorted(root.rglob("*.rst"))
        if not {"include", "module", "presets"} & set(path.relative_to(root).parts[:-1])
    ]
    step = max(1, len(pages) // limit)
    return pages[::step][:limit]


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "rst").is_dir(), reason="shared dev corpus not available")
def test_cmake_help_corpus_sample() -> None:
    sample = _corpus_sample()
    assert len(sample) >= 40
    for path in sample:
        doc = parse(path.read_text(encoding="utf-8"))
        name = path.name
        assert doc.title, name
        assert doc.text.strip(), name
        for leaked in ("Unknown interpreted text role", "Unknown directive type", "No role entry"):
            assert leaked not in doc.text, name
        assert_sections_consistent(doc)
