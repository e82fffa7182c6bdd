"""Each passage names its place in the source: the anchor a link to its section uses and
the source lines its words come from."""

from __future__ import annotations

import re

import pytest

from docbatch.formats import html, markdown, text
from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.formats.rst_docutils import parse as parse_rst_docutils
from docbatch.formats.rst_fast import parse as parse_rst_fast
from docbatch.work.chunking import Passage, PassageRules, chunk

_WORD = re.compile(r"\w+")


def _passages(doc: ParsedDocument, max_size: int = 1500, min_size: int = 0) -> list[Passage]:
    return chunk("doc", doc, PassageRules(max_size=max_size, min_size=min_size))


def _assert_in_lines(source: str, passages: list[Passage]) -> None:
    """Every word of each passage occurs within the source lines it names."""
    lines = source.split("\n")
    for p in passages:
        assert p.line_start is not None and p.line_end is not None, p
        assert 1 <= p.line_start <= p.line_end <= len(lines), p
        region = "\n".join(lines[p.line_start - 1 : p.line_end])
        missing = [w for w in _WORD.findall(p.text) if w not in region]
        assert not missing, (p, missing, region)


MARKDOWN = """\
---
title: Front
---
# Getting Started

Intro paragraph that
spans two lines.

## Install the *tool*!

- first item
- second item
  - nested item

```python
print("code block")
```

## Install the tool

| name | value |
|------|-------|
| alpha | one |

## Custom place {#custom-id}

Last words here.
"""


def test_markdown_passages_know_their_anchor_and_lines() -> None:
    doc = markdown.parse(MARKDOWN)
    assert [s.anchor for s in doc.sections] == [
        "getting-started",
        "install-the-tool",
        "install-the-tool-1",
        "custom-id",
    ]
    assert doc.sections[-1].heading_path[-1] == "Custom place"  # the {#id} is no text
    passages = _passages(doc)
    assert [p.anchor for p in passages] == [s.anchor for s in doc.sections]
    _assert_in_lines(MARKDOWN, passages)
    assert [(p.line_start, p.line_end) for p in passages] == [(4, 7), (9, 17), (19, 23), (25, 27)]


def test_markdown_lines_count_characters_not_bytes() -> None:
    source = "# Été à Zürich\n\nÇa va très bien.\n\n## Ünïcödé\n\nÉnd wörds.\n"
    doc = markdown.parse(source)
    passages = _passages(doc, max_size=20)
    _assert_in_lines(source, passages)
    assert [p.anchor for p in passages] == ["été-à-zürich", "été-à-zürich", "ünïcödé"]
    assert passages[-1].line_start == 5


def test_markdown_smaller_passages_have_narrower_ranges() -> None:
    source = "# Long\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(8)) + "\n"
    passages = _passages(markdown.parse(source), max_size=400)
    assert len(passages) > 2
    _assert_in_lines(source, passages)
    assert passages[1].line_start is not None and passages[1].line_start > 3
    assert all(p.anchor == "long" for p in passages)


def test_a_merged_passage_takes_the_first_sections_anchor() -> None:
    source = "# Top\n\nShort.\n\n## Next\n\nAlso short.\n"
    passages = _passages(markdown.parse(source), max_size=200, min_size=100)
    assert len(passages) == 1
    assert passages[0].anchor == "top"
    assert (passages[0].line_start, passages[0].line_end) == (1, 7)


RST = """\
Guide
=====

Intro para
second line.

.. _install-label:

Install
-------

- item one
- item two

  nested para

::

   code
   more

Install
-------

Term
   definition

.. note:: A note
   continues

=== ===
a   b
=== ===

=========
Overlined
=========

Final words.
"""


def test_docutils_passages_know_their_anchor_and_lines() -> None:
    doc = parse_rst_docutils(RST)
    assert [s.anchor for s in doc.sections] == ["guide", "install-label", "install-1", "overlined"]
    passages = _passages(doc)
    assert [p.anchor for p in passages] == [s.anchor for s in doc.sections]
    _assert_in_lines(RST, passages)
    assert passages[0].line_start == 1
    assert passages[1].line_start == 9
    assert passages[-1].line_start == 36  # the title's line (under its overline)


def _blocks(doc: ParsedDocument) -> list[tuple[str, int, int]]:
    """Each stretch of the clean text the line map tells apart, with its source lines."""
    entries = doc.line_map
    if not entries:
        return []
    ends = [offset for offset, _, _ in entries[1:]] + [len(doc.text)]
    return [(doc.text[o:e].strip(), a, b) for (o, a, b), e in zip(entries, ends, strict=True)]


def test_fast_rst_passages_know_their_anchor_and_lines() -> None:
    doc = parse_rst_fast(RST)
    assert [s.anchor for s in doc.sections] == ["guide", "install-label", "install-1", "overlined"]
    passages = _passages(doc)
    assert [p.anchor for p in passages] == [s.anchor for s in doc.sections]
    _assert_in_lines(RST, passages)
    # each block covers its own lines; a heading its title and adornments
    assert [(p.line_start, p.line_end) for p in passages] == [(1, 5), (9, 20), (22, 33), (35, 39)]


NESTED_RST = """\
Top
===

.. note::

   First para
   of the note.

   - alpha
   - beta

     beta body

.. code-block:: python
   :caption: The caption

   x = 1
   y = 2

Term
   Definition one.

   Definition two.

   Quoted text
   in a quote.

   -- Someone

:Field: value
:Other: first para

   second para

.. [1] A footnote
   body.

.. figure:: pic.png
   :alt: the alt

   Figure caption.
"""


def test_fast_rst_blocks_of_nested_bodies_know_their_lines() -> None:
    doc = parse_rst_fast(NESTED_RST)
    assert _blocks(doc) == [
        ("Top", 1, 2),
        ("First para of the note.", 6, 7),
        ("- alpha", 9, 9),
        ("- beta", 10, 10),
        ("beta body", 12, 12),
        ("The caption", 14, 15),
        ("x = 1\ny = 2", 17, 18),
        ("Term", 20, 20),
        ("Definition one.", 21, 21),
        ("Definition two.", 23, 23),
        ("Quoted text in a quote.", 25, 26),
        ("-- Someone", 28, 28),
        ("Field:\n\nvalue", 30, 30),  # one entry for blocks on the same lines
        ("Other:\n\nfirst para", 31, 31),
        ("second para", 33, 33),
        ("[1] A footnote body.", 35, 36),
        ("the alt", 38, 39),
        ("Figure caption.", 41, 41),
    ]
    _assert_in_lines(NESTED_RST, _passages(doc, max_size=40))


LABELS_RST = """\
.. _My  Label:

Title
=====

.. _first:
.. _Second_One:

Chained
-------

Title
-----

.. _title:

Labelled Again
--------------

.. _a-comment-between:

..  just a comment

Étude über Straße
-----------------

2024 Release
------------

.. _after-a-list:

- item

Last
----

.. |CPS| replace:: Common Package Specification

About the |CPS|
---------------
"""


def test_fast_rst_section_anchors_are_the_docutils_ids() -> None:
    expected = [
        "my-label",
        "second-one",
        "title-1",
        "title-2",  # the label's id: "title" and "title-1" are taken by then
        "etude-uber-strasze",
        "release",
        "last",
        "about-the-cps",  # named before the substitution is made
    ]
    assert [s.anchor for s in parse_rst_docutils(LABELS_RST).sections] == expected
    assert [s.anchor for s in parse_rst_fast(LABELS_RST).sections] == expected


def test_fast_rst_lines_count_every_line_break_of_the_source() -> None:
    source = "Title\r\n=====\r\n\r\nFirst\r\npara.\r\n\r\nSecond para.\r\n"
    assert _blocks(parse_rst_fast(source)) == [("Title", 1, 2), ("First para.", 4, 5), ("Second para.", 7, 7)]
    source = "Title\n=====\n\nOne\u2028two.\n\nLast\rpara.\n\nEnd.\n"  # breaks only str.splitlines sees
    expected = [("Title", 1, 2), ("One two.", 4, 4), ("Last para.", 6, 6), ("End.", 8, 8)]
    assert _blocks(parse_rst_fast(source)) == expected


HTML = """\
<html><head><title>Page</title></head>
<body>
<nav>Menu</nav>
<main>
<p>Lead text before headings.</p>
<h1 id="top">Top heading</h1>
<p>First paragraph.</p>
<section id="second">
  <h2>Second heading<a class="headerlink" href="#second">#</a></h2>
  <p>Second body
  on two lines.</p>
</section>
<div class="section" id="third"><h2>Third heading</h2>
<p>Third body.</p></div>
<h2><a name="fourth"></a>Fourth heading</h2>
<p>Fourth body.</p>
<h2>Unnamed heading</h2>
<p>Unnamed body.</p>
<div id="not-this"><p>Not first.</p><h2>Fifth heading</h2></div>
</main>
</body></html>
"""


def test_html_passages_know_their_anchor_and_lines() -> None:
    doc = html.parse(HTML)
    assert [(s.heading_path[-1:], s.anchor) for s in doc.sections] == [
        ((), ""),
        (("Top heading",), "top"),
        (("Second heading",), "second"),
        (("Third heading",), "third"),
        (("Fourth heading",), "fourth"),
        (("Unnamed heading",), ""),
        (("Fifth heading",), ""),
    ]
    passages = _passages(doc)
    assert [p.anchor for p in passages] == [s.anchor for s in doc.sections]
    # lines are known from where a heading's id is, to where the next known one is
    assert [(p.line_start, p.line_end) for p in passages] == [
        (None, None),
        (6, 8),
        (8, 13),
        (13, 15),
        (15, 21),
        (None, None),  # no id: no place to look for
        (None, None),
    ]
    _assert_in_lines(HTML, passages[1:5])


def test_text_passages_have_lines_and_no_anchor() -> None:
    source = (
        "Title line\n==========\n\nFirst block\nof text.\n\n\nSecond block.\n\nPart two\n--------\n\nEnd.\n"
    )
    passages = _passages(text.parse(source), max_size=30)
    assert all(p.anchor == "" for p in passages)
    _assert_in_lines(source, passages)
    assert (passages[0].line_start, passages[-1].line_end) == (1, 13)


def test_a_parser_without_lines_gives_unknown_ranges() -> None:
    b = DocumentBuilder()
    b.heading(1, "A", anchor="a")
    b.block("words")
    doc = b.build(None)
    assert doc.line_map == ()
    (p,) = _passages(doc)
    assert (p.anchor, p.line_start, p.line_end) == ("a", None, None)


def test_a_block_of_unknown_lines_makes_the_range_unknown() -> None:
    b = DocumentBuilder()
    b.heading(1, "A", line=(1, 1))
    b.block("known", line=(3, 4))
    b.block("unknown")
    b.heading(1, "B", line=(9, 9))
    b.block("known too", line=(10, 10))
    doc = b.build(None)
    first, second = _passages(doc)
    assert (first.line_start, first.line_end) == (None, None)
    assert (second.line_start, second.line_end) == (9, 10)
    assert doc.line_range(0, 1) == (1, 1)


@pytest.mark.parametrize("parse", [markdown.parse, text.parse, parse_rst_docutils, html.parse])
def test_an_empty_document_has_no_line_map(parse: object) -> None:
    assert parse("") == ParsedDocument(title=None, text="", sections=())  # type: ignore[operator]


DIRECTIVES_RST = """\
Top
===

Intro.

.. code-block:: python
   :caption: The caption

   x = 1
   y = 2

.. toctree::
   :maxdepth: 1

   intro
   usage

.. versionadded:: 2.0
   The feature.

.. productionlist::
   rule: "a" | "b"

.. command:: frobnicate

   Frobnicates.

.. raw:: html

   <p>Raw words.</p>

Tail.
"""


def test_docutils_blocks_made_by_sphinx_directives_start_on_the_directive() -> None:
    doc = parse_rst_docutils(DIRECTIVES_RST)
    starts = {text: first for text, first, _ in _blocks(doc)}
    assert starts == {
        "Top": 1,
        "Intro.": 4,
        "The caption": 6,
        "x = 1\ny = 2": 9,
        "- intro\n- usage": 15,  # its first entry
        "2.0 The feature.": 18,
        'rule: "a" | "b"': 21,  # the directive's argument
        "frobnicate": 24,
        "Frobnicates.": 26,
        "Raw words.": 30,
        "Tail.": 32,
    }
    _assert_in_lines(DIRECTIVES_RST, _passages(doc, max_size=30))


REFS_RST = """\
Guide
=====

See :ref:`install-label` and :ref:`Install-Label`, :ref:`the steps <install-label>`,
:ref:`first` and :ref:`elsewhere-label`.

.. _install-label:

Install *it*
------------

.. _first:
.. _second:

Chained
-------

Back to :ref:`second`.
"""


@pytest.mark.parametrize("parse", [parse_rst_fast, parse_rst_docutils], ids=["fast", "docutils"])
def test_a_ref_without_title_shows_the_title_of_its_section_in_the_document(parse: object) -> None:
    doc = parse(REFS_RST)  # type: ignore[operator]
    assert "See Install it and Install it, the steps, Chained and elsewhere-label." in doc.text
    assert "Back to Chained." in doc.text  # a label defined in another document stays as written
