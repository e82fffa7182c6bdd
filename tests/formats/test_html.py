"""Tests for the HTML parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.html import MAIN_CONTENT_SELECTORS, parse

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "dev"

PAGE = """\
<!DOCTYPE html>
<html><head><title> Guide |
  Site </title><script>var tracking = 1;</script><style>p { color: red }</style></head>
<body>
<header><a href="/home">Site header</a></header>
<nav><a href="/nav">Nav menu</a></nav>
<main>
<h1>Guide<a class="headerlink" href="#guide">¶</a></h1>
<p>Intro with <a href="https://ex.example/a">a link</a>.</p>
<h2>Install</h2>
<p>Run the installer.</p>
<h3>On Linux</h3>
<p>Use the package manager.</p>
<h2>Usage</h2>
<p>Call the tool.</p>
<script>alert("inline script")</script>
<form><label>Search form</label><input name="q"></form>
</main>
<footer>Footer text <a href="/legal">Legal</a></footer>
</body></html>
"""


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc)


def test_registry_returns_this_parser() -> None:
    assert get_parser("html") is parse


def test_heading_paths_follow_nesting() -> None:
    doc = parse(PAGE)
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "On Linux"),
        ("Guide", "Usage"),
    ]
    assert_sections_consistent(doc)
    linux = doc.sections[2]
    assert doc.text[linux.start : linux.end] == "On Linux\n\nUse the package manager."


def test_title_comes_from_title_element() -> None:
    assert parse(PAGE).title == "Guide | Site"


def test_title_falls_back_to_first_h1() -> None:
    doc = parse("<html><body><h2>Second level</h2><h1>Main <em>heading</em></h1></body></html>")
    assert doc.title == "Main heading"
    assert parse("<p>No headings at all</p>").title is None


def test_boilerplate_is_absent() -> None:
    doc = parse(PAGE)
    for gone in ("Site header", "Nav menu", "tracking", "inline script", "Search form", "Footer"):
        assert gone not in doc.text
    assert "color" not in doc.text
    assert "¶" not in doc.text


def test_links_come_from_the_whole_document_in_order() -> None:
    doc = parse(PAGE.replace("<p>Run", '<p><a name="anchor-only">x</a>Run'))
    assert doc.links == ("/home", "/nav", "#guide", "https://ex.example/a", "/legal")


@pytest.mark.parametrize(
    ("selector", "html"),
    [
        ("div[role=main]", '<div role="main"><p>MAIN TEXT</p></div>'),
        ("main", "<main><p>MAIN TEXT</p></main>"),
        ("article", "<article><p>MAIN TEXT</p></article>"),
        ("#page-content", '<div id="page-content"><p>MAIN TEXT</p></div>'),
    ],
)
def test_main_content_selector_is_used(selector: str, html: str) -> None:
    assert selector in MAIN_CONTENT_SELECTORS
    doc = parse(f"<body><div class='sidebar'><p>SIDEBAR</p></div>{html}<p>AFTER</p></body>")
    assert doc.text == "MAIN TEXT"


def test_main_content_selectors_are_tried_in_order() -> None:
    doc = parse("<body><article><p>ARTICLE</p></article><div role='main'><p>SPHINX MAIN</p></div></body>")
    assert doc.text == "SPHINX MAIN"


def test_body_is_the_fallback() -> None:
    doc = parse("<body><p>one</p><div>two</div></body>")
    assert doc.text == "one\n\ntwo"


def test_pre_text_is_verbatim() -> None:
    doc = parse("<p>Before</p><pre>def f(x):\n    <span>return</span>   x\n\n\nend</pre>")
    assert doc.text == "Before\n\ndef f(x):\n    return   x\n\n\nend"


def test_table_rows_become_lines_of_cells() -> None:
    doc = parse(
        "<table><thead><tr><th>Name</th><th>Value</th></tr></thead>"
        "<tbody><tr><td><code>alpha</code></td><td>1</td></tr>"
        "<tr><td>beta</td><td> 2 </td></tr></tbody></table>"
    )
    assert doc.text == "Name | Value\nalpha | 1\nbeta | 2"


def test_a_table_whose_cells_hold_paragraphs_keeps_one_line_per_row() -> None:
    doc = parse(
        "<main><table><tr><th><p>Name</p></th><th><p>What</p></th></tr>"
        "<tr><td><p>a</p><p>more a</p></td><td><div><p>b</p></div></td></tr>"
        "<tr><td><ul><li>x</li><li>y</li></ul></td><td>z</td></tr></table><p>After.</p></main>"
    )
    assert doc.text == "Name | What\na more a | b\nx y | z\n\nAfter."


def test_image_alt_text_and_figure_captions_are_text() -> None:
    doc = parse(
        '<main><p>See <img src="p.png" alt="the pipeline  diagram"> below.</p>'
        '<figure><img src="q.png" alt=""><figcaption>Figure 2: stages</figcaption></figure></main>'
    )
    assert doc.text == "See the pipeline diagram below.\n\nFigure 2: stages"


def test_whitespace_is_normalised_and_inline_text_glued() -> None:
    doc = parse("<p>foo\n   <b>bar</b>\n\t baz <b>W</b>ord<br>next</p>")
    assert doc.text == "foo bar baz Word\nnext"


def test_every_visible_text_appears_once() -> None:
    doc = parse(
        "<div>loose <span>inline</span><p>inner para</p>tail text"
        "<ul><li>item <ul><li>sub item</li></ul></li></ul>"
        "<dl><dt>term</dt><dd>definition</dd></dl><blockquote>quoted</blockquote></div>"
    )
    assert doc.text.split("\n\n") == [
        "loose inline",
        "inner para",
        "tail text",
        "item",
        "sub item",
        "term",
        "definition",
        "quoted",
    ]


def test_deeply_nested_html_does_not_crash() -> None:
    from docbatch.formats.html import MAX_NESTING

    depth = MAX_NESTING - 2  # the deepest accepted (html and body are not counted; h2 is)
    doc = parse("<html><body>" + "<div>" * depth + "<h2>Deep</h2><p>bottom</p>" + "</div>" * depth)
    assert doc.text == "Deep\n\nbottom"
    assert doc.sections[-1].heading_path == ("Deep",)


@pytest.mark.parametrize("html", ["", "   ", "<html><head></head></html>", "<!-- only -->"])
def test_empty_input_gives_empty_text(html: str) -> None:
    doc = parse(html)
    assert doc.text == ""
    assert doc.sections == ()


def test_document_without_body() -> None:
    doc = parse("<html><head><title>Frames</title></head><frameset><frame src='a'></frameset>")
    assert doc.title == "Frames"
    assert doc.text == ""


def test_xhtml_with_encoding_declaration() -> None:
    doc = parse(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Caf\u00e9</title></head>'
        "<body><p>R\u00e9sum\u00e9 &amp; more</p></body></html>"
    )
    assert doc.title == "Caf\u00e9"
    assert doc.text == "R\u00e9sum\u00e9 & more"
    assert "xml" not in doc.text


def test_control_characters_in_input_do_not_break_structure() -> None:
    doc = parse("<h1>A\x04\x01</h1><p>x&#1;y\x03</p><pre>z\x02</pre>")
    assert doc.text == "A\n\nxy\n\nz"
    assert_sections_consistent(doc)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason="shared dev corpus not available")
def test_real_httpd_pages() -> None:
    paths = sorted(p for p in (CORPUS / "html").rglob("*.html.en*") if p.name.endswith((".en", ".en.utf8")))
    sample = paths[:: max(1, len(paths) // 8)][:8]
    assert sample
    for path in sample:
        doc = parse(path.read_text(encoding="utf-8"))
        assert doc.title, path
        assert doc.text.strip(), path
        assert "Modules | Directives" not in doc.text, path
        assert doc.links, path
        assert_sections_consistent(doc)
