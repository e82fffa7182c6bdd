"""Site templates found from the pages themselves: repeated regions are dropped, content
is kept, and a lone page has no template."""

from __future__ import annotations

import pytest

from docbatch.formats.html import HtmlOptions, parse, template_keys
from docbatch.formats.templates import Template, decide

TOPICS = ["Install", "Configure", "Upgrade", "Backup", "Restore", "Monitor", "Tune", "Secure"]


def page(i: int, chapter: str = "Chapter 3. Server Administration") -> str:
    """A DocBook-like page: no main element; a navigation table whose middle cell is the
    page's chapter, the content, a navigation footer and a licence line."""
    topic = TOPICS[i % len(TOPICS)]
    return (
        f"<html><head><title>{topic}</title></head><body>"
        '<div class="navheader"><table><tr><th colspan="3">3.{i}. {topic}</th></tr>'
        f'<tr><td><a href="p{i - 1}.html">Prev</a></td><td><a href="up.html">Up</a></td>'
        f'<th>{chapter}</th><td><a href="index.html">Home</a></td>'
        f'<td><a href="p{i + 1}.html">Next</a></td></tr>'
        "</table></div>"
        f'<div class="sect1"><h2>3.{i}. {topic}</h2><p>To {topic.lower()} the server, run the '
        f"{topic.lower()} command {i} times and read its report.</p><p>Details of step {i}.</p></div>"
        '<div class="navfooter"><table><tr><td><a href="prev.html">Prev</a></td>'
        '<td><a href="up.html">Up</a></td><td><a href="next.html">Next</a></td></tr></table></div>'
        "<p>Copyright 1996-2024 The Example Group. Licensed under the Example Licence.</p>"
        "</body></html>"
    )


def site_template(pages: list[str]) -> Template:
    return decide(template_keys(p) for p in pages)


def test_repeated_regions_are_dropped_and_content_is_kept() -> None:
    pages = [page(i, chapter=f"Chapter {i // 3}. Part {i // 3}") for i in range(12)]
    template = site_template(pages)
    assert template
    for i, source in enumerate(pages):
        text = parse(source, HtmlOptions(template=template)).text
        topic = TOPICS[i % len(TOPICS)]
        assert text.startswith(f"3.{i}. {topic}\n\nTo {topic.lower()} the server")
        assert f"Details of step {i}." in text
        for template_text in ("Prev", "Home", "Copyright", "Chapter"):
            assert template_text not in text, (template_text, text)
        assert template_text in parse(source).text  # without the template it was there


def test_a_lone_page_or_a_few_have_no_template() -> None:
    assert not site_template([page(1)])
    assert not site_template([page(i) for i in range(3)])
    assert parse(page(1), HtmlOptions(template=site_template([page(1)]))).text == parse(page(1)).text


def test_content_that_differs_from_page_to_page_is_never_template() -> None:
    # every page has a paragraph in the same place, with its own text: not template
    pages = [
        f"<body><div class='content'><p>Page {i} explains topic {i}.</p></div></body>" for i in range(20)
    ]
    template = site_template(pages)
    assert all(
        f"Page {i} explains" in parse(p, HtmlOptions(template=template)).text for i, p in enumerate(pages)
    )


def test_a_template_survives_json() -> None:
    template = site_template([page(i) for i in range(10)])
    again = Template.from_json(template.to_json())
    assert again == template and again.digest == template.digest and again.places == template.places


def test_content_and_drop_selectors_override() -> None:
    source = (
        "<body><div id='menu'><a href='a'>A</a></div><div class='doc'><p>Body text.</p>"
        "<div class='edit'>Edit this page</div></div></body>"
    )
    options = HtmlOptions(content_selectors=("div.doc",), drop_selectors=("div.edit",))
    assert parse(source, options).text == "Body text."
    assert "Edit this page" in parse(source).text


def test_bad_selectors_are_a_config_error_naming_the_setting() -> None:
    from docbatch.config import BatchConfig
    from docbatch.errors import ConfigError

    with pytest.raises(ConfigError, match=r"html_drop_selectors=\['div\['\] is not allowed"):
        BatchConfig(html_drop_selectors=["div["])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="html_content_selectors='main'"):
        BatchConfig(html_content_selectors="main")  # type: ignore[arg-type]


def flat_page(i: int) -> str:
    """A flat page (mdBook-like): a breadcrumb, a table of contents, paragraphs and code
    listings each under the same caption, a list of related pages, a repeated long note."""
    crumbs = "".join(f'<li><a href="../{n}.html">Part {n}</a></li>' for n in range(1 + i % 2))
    toc = "".join(f'<li><a href="#s{n}">Step {n} of {i}</a></li>' for n in range(3))
    related = "".join(f'<li><a href="p{(i + n) % 9}.html">Page {(i + n) % 9}</a></li>' for n in (1, 2))
    note = "<div class='note'><p>" + "A long shared note about licences and support. " * 15 + "</p></div>"
    return (
        f"<body><ul class='crumbs'>{crumbs}</ul><ul class='toc'>{toc}</ul>"
        f"<h1>Chapter {i}</h1><p>Chapter {i} text.</p>"
        f"<p>Filename: src/main.rs</p><pre>fn main{i}() {{}}</pre>"
        f"<p>More about chapter {i}.</p><p>Filename: src/main.rs</p><pre>fn other{i}() {{}}</pre>"
        f"<h2>See also</h2><ul class='related'>{related}</ul><div class='notes'>{note}</div>"
        f"<p class='end'>Last chapter text {i}.</p></body>"
    )


def test_tables_of_contents_and_breadcrumbs_go_and_related_pages_notes_and_captions_stay() -> None:
    pages = [flat_page(i) for i in range(10)]
    template = site_template(pages)
    for i, source in enumerate(pages):
        text = parse(source, HtmlOptions(template=template)).text
        assert "Step 0" not in text and "Part 0" not in text  # the page's contents, its breadcrumb
        assert text.count("Filename: src/main.rs") == 2  # a caption repeated among paragraphs
        assert "Page " in text and "See also" in text  # links to other pages, mid-page
        assert "A long shared note" in text  # a long repeated text is content
        assert f"Chapter {i} text." in text and f"Last chapter text {i}." in text
