"""Tests for the Markdown parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbatch.errors import ParseError
from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.markdown import front_matter_title, html_to_text, parse

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "dev"

NESTED = """\
# Guide

Intro paragraph.

## Install

Run the installer.

### On Linux

Use the package manager.

## Usage

Call the tool.
"""


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc)


def test_registry_returns_this_parser() -> None:
    assert get_parser("markdown") is parse


def test_heading_paths_follow_nesting() -> None:
    doc = parse(NESTED)
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "On Linux"),
        ("Guide", "Usage"),
    ]
    assert_sections_consistent(doc)
    linux = doc.sections[2]
    assert doc.text[linux.start : linux.end] == "On Linux\n\nUse the package manager."


def test_text_before_first_heading_has_empty_path() -> None:
    doc = parse("Preface.\n\n# Title\n\nBody.\n")
    assert doc.sections[0].heading_path == ()
    assert doc.text[doc.sections[0].start : doc.sections[0].end] == "Preface."
    assert_sections_consistent(doc)


def test_heading_keeps_inline_code_and_drops_emphasis() -> None:
    doc = parse("## The `where` *function*\n\ntext\n")
    assert doc.sections[0].heading_path == ("The where function",)


def test_title_from_front_matter_wins_over_h1() -> None:
    doc = parse('---\ntitle: "Front title"\ndraft: true\n---\n\n# Heading title\n\nBody.\n')
    assert doc.title == "Front title"
    assert "draft" not in doc.text
    assert "Front title" not in doc.text
    assert doc.text.startswith("Heading title")
    assert_sections_consistent(doc)


def test_title_falls_back_to_first_heading() -> None:
    doc = parse("---\nweight: 3\n---\n\n# Heading title\n\nBody.\n")
    assert doc.title == "Heading title"
    assert "weight" not in doc.text


def test_toml_front_matter_is_read_and_hidden() -> None:
    doc = parse('+++\ntitle = "Toml title"\nweight = 3\n+++\n\nBody.\n')
    assert doc.title == "Toml title"
    assert doc.text == "Toml title\n\nBody."


def test_a_page_without_its_own_h1_opens_with_the_front_matter_title_and_description() -> None:
    # as a site generator shows it: the title as the page's heading, the description under it
    source = (
        "---\ntitle: math.Product\ndescription: Returns the product of all numbers.\n"
        "categories: []\n---\n\n```go\n{{ math.Product 1 2 }} → 2\n```\n\n## Examples\n\nMore.\n"
    )
    doc = parse(source)
    assert doc.text.startswith(
        "math.Product\n\nReturns the product of all numbers.\n\n{{ math.Product 1 2 }}"
    )
    assert [s.heading_path for s in doc.sections] == [("math.Product",), ("math.Product", "Examples")]
    assert "categories" not in doc.text
    assert_sections_consistent(doc)
    # front matter with a description and no body is still a page
    assert parse("---\ntitle: T\ndescription: What it is.\n---\n").text == "T\n\nWhat it is."


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("title: Plain words\n", "Plain words"),
        ("title: 'It''s quoted'\n", "It's quoted"),
        ('linkTitle: Short\ntitle: "Long one"\n', "Long one"),
        ("params:\n  title: nested\n", None),
        ("title: >\n  folded\n", None),
        ("title:\n", None),
    ],
    ids=["plain", "single-quoted", "not-linkTitle", "nested-key", "block-scalar", "empty"],
)
def test_front_matter_title(meta: str, expected: str | None) -> None:
    assert front_matter_title(meta) == expected


def test_code_blocks_are_kept_verbatim() -> None:
    source = (
        "Text.\n\n```python\ndef f(x):\n    return x ** 2  # *not* emphasis\n```\n\n"
        "    indented  code\n        deeper\n"
    )
    doc = parse(source)
    assert "def f(x):\n    return x ** 2  # *not* emphasis" in doc.text
    assert "indented  code\n    deeper" in doc.text
    assert "```" not in doc.text


def test_table_rows_become_lines_of_cells() -> None:
    doc = parse("| Name | Value |\n|------|-------|\n| `alpha` | **1** |\n| beta | 2 |\n")
    assert doc.text == "Name | Value\nalpha | 1\nbeta | 2"


def test_links_are_collected_in_order() -> None:
    source = (
        "See [first](https://a.example/1) and <https://auto.example>.\n\n"
        "![diagram](img.png) then [ref][r] and [second](../two.md).\n\n"
        "[r]: https://ref.example\n"
    )
    doc = parse(source)
    assert doc.links == (
        "https://a.example/1",
        "https://auto.example",
        "https://ref.example",
        "../two.md",
    )


def test_inline_markup_is_removed() -> None:
    source = (
        "# Heading\n\nSome **bold**, _em_, ~~gone~~ and `code` with a [link text](x.md) "
        "and ![alt words](i.png) and <a href='y'>html link</a>.\n"
    )
    doc = parse(source)
    body = doc.text.split("\n\n", 1)[1]
    assert body == "Some bold, em, gone and code with a link text and alt words and html link."
    for marker in ("**", "~~", "`", "](", "<a", "# "):
        assert marker not in doc.text


def test_lists_and_quotes_become_blocks() -> None:
    doc = parse("- one\n- two\n  - nested\n\n> quoted **text**\n")
    assert doc.text.split("\n\n") == ["one", "two", "nested", "quoted text"]


def test_html_blocks_are_reduced_to_text() -> None:
    doc = parse("<div class='x'>\n<p>Raw &amp; ready</p>\n<!-- hidden note -->\n</div>\n\nAfter.\n")
    assert doc.text == "Raw & ready\n\nAfter."
    assert html_to_text("<script>var a = 1;</script><b>kept</b>") == "kept"


def test_hugo_shortcodes_do_not_break_parsing() -> None:
    doc = parse("{{< new-in 0.140.0 />}}\n\n## Example\n\n{{% note %}}Careful.{{% /note %}}\n")
    assert doc.sections[-1].heading_path == ("Example",)
    assert "Careful." in doc.text


@pytest.mark.parametrize("source", ["", "   \n\n", "---\ntitle: Only meta\n---\n"])
def test_empty_input_gives_empty_text(source: str) -> None:
    doc = parse(source)
    assert doc.text == ""
    assert doc.sections == ()


def test_crlf_and_bom_are_handled() -> None:
    doc = parse("\ufeff---\r\ntitle: Win\r\n---\r\n\r\n```\r\na\r\nb\r\n```\r\n")
    assert doc.title == "Win"
    assert doc.text == "Win\n\na\nb"


def test_unencodable_text_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        parse("bad \ud800 surrogate")


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason="shared dev corpus not available")
def test_real_hugo_pages() -> None:
    paths = sorted((CORPUS / "md").rglob("*.md"))
    pages = [p for p in paths if not any(part.startswith("_") for part in p.parts)]
    sample = pages[:: max(1, len(pages) // 8)][:8]
    assert sample
    for path in sample:
        doc = parse(path.read_text(encoding="utf-8"))
        assert doc.title, path
        assert doc.text.strip(), path
        assert not doc.text.startswith("---"), path
        assert_sections_consistent(doc)
