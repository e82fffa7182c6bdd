"""Tests for the plain-text parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.text import TITLE_MAX_CHARS, parse

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "dev"

NESTED = """\
Guide
=====

Intro paragraph
on two lines.

Install
-------

Run the installer.


Usage
-----

Call the tool.
"""


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc)


def test_registry_returns_this_parser() -> None:
    assert get_parser("text") is parse


def test_setext_headings_make_sections() -> None:
    doc = parse(NESTED)
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Usage"),
    ]
    assert "=====" not in doc.text
    assert "-----" not in doc.text
    install = doc.sections[1]
    assert doc.text[install.start : install.end] == "Install\n\nRun the installer."
    assert_sections_consistent(doc)


def test_overlined_title_is_one_heading() -> None:
    doc = parse("=========\n My Title\n=========\n\nBody.\n")
    assert doc.title == "My Title"
    assert doc.text == "My Title\n\nBody."
    assert doc.sections[0].heading_path == ("My Title",)


def test_without_headings_there_is_one_section() -> None:
    doc = parse("First line\nsecond line\n\n\n  Second block  \n")
    assert doc.text == "First line\nsecond line\n\n  Second block"
    assert [s.heading_path for s in doc.sections] == [()]
    assert_sections_consistent(doc)


def test_short_rules_are_not_underlines() -> None:
    doc = parse("Term\n--\n\nx\n")
    assert doc.sections[0].heading_path == ()
    assert doc.text == "Term\n--\n\nx"


def test_title_is_first_non_empty_line() -> None:
    assert parse("\n\n   Hello   world  \nmore\n").title == "Hello world"
    long_line = "word " * 100
    title = parse(long_line).title
    assert title is not None
    assert len(title) <= TITLE_MAX_CHARS
    assert title.startswith("word word")


def test_crlf_and_blank_lines_with_spaces_split_blocks() -> None:
    doc = parse("\ufeffOne\r\n \t\r\nTwo\r\n")
    assert doc.text == "One\n\nTwo"
    assert doc.title == "One"


@pytest.mark.parametrize("source", ["", " \n\t\n"])
def test_empty_input_gives_empty_text(source: str) -> None:
    doc = parse(source)
    assert doc.text == ""
    assert doc.sections == ()
    assert doc.title is None


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason="shared dev corpus not available")
def test_real_text_files() -> None:
    paths = sorted((CORPUS / "rst").rglob("*.rst"))
    sample = paths[:: max(1, len(paths) // 8)][:8]
    assert sample
    for path in sample:
        doc = parse(path.read_text(encoding="utf-8"))
        assert doc.title, path
        assert doc.text.strip(), path
        assert_sections_consistent(doc)
