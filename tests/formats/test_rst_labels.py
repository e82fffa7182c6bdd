"""Section labels across documents: what each engine reports (the labels a document defines,
the untitled ``:ref:`` roles it cannot resolve itself) and how a label table given to the
parser resolves the latter. Every test runs on both engines (the ``rst_engine`` fixture)."""

from __future__ import annotations

from typing import Any

from docbatch.formats.base import Parser

DEFINES = """\
Guide
=====

.. _x-label:

Section *X*
-----------

Body of X.

.. _plain-target:

A paragraph with a target, no section.
"""

REFERS = """\
Usage
=====

See :ref:`x-label`, :ref:`other <x-label>`, :ref:`missing-label` and :ref:`here-label`.

.. _here-label:

Here
----

Text.
"""


def _parse(parser: Parser, text: str, **options: Any) -> Any:
    return parser(text, **options)


def test_a_document_reports_its_section_labels_with_their_titles(rst_engine: Parser) -> None:
    doc = _parse(rst_engine, DEFINES)
    assert dict(doc.labels) == {"x-label": "Section X"}
    assert doc.refs == ()


def test_untitled_refs_to_other_documents_are_reported_and_shown_by_label(rst_engine: Parser) -> None:
    doc = _parse(rst_engine, REFERS)
    assert doc.refs == ("x-label", "missing-label")
    assert "See x-label, other, missing-label and Here." in doc.text
    assert dict(doc.labels) == {"here-label": "Here"}


def test_a_label_table_shows_the_titles_of_other_documents_sections(rst_engine: Parser) -> None:
    table = {"x-label": "Section X", "here-label": "Not this one"}
    doc = _parse(rst_engine, REFERS, labels=table)
    assert "See Section X, other, missing-label and Here." in doc.text
    # what the document cannot resolve itself is reported whatever the table holds
    assert doc.refs == ("x-label", "missing-label")


SCANNED = [
    DEFINES,
    REFERS,
    """\
Top
===

.. _first:
.. _second:

.. index:: single: chained

Chained ``labels`` and :command:`roles`
---------------------------------------

.. _over:

==============
 Over and under
==============

.. _twice:

Twice
-----

.. _twice:

Again
-----

.. _external: https://example.org/

.. _`quoted label`:

|name| and `a link <https://example.org>`_
------------------------------------------

.. _before-note:

.. note:: A note between the label and a section.

Not labelled
------------

.. _at-the-end:

.. |name| replace:: Substituted
""",
]


def test_the_scan_before_parsing_finds_the_labels_the_parser_reports(rst_engine: Parser) -> None:
    from docbatch.formats.rst_fast.labels import scan_labels

    for text in SCANNED:
        assert scan_labels(text) == dict(_parse(rst_engine, text).labels)
    assert scan_labels(SCANNED[2]) == {
        "first": "Chained labels and roles",
        "second": "Chained labels and roles",
        "over": "Over and under",
        "quoted label": "Substituted and a link",
    }


def test_a_slice_carries_the_titles_its_documents_refer_to() -> None:
    import polars as pl

    from docbatch.work.labels import TitleIndex
    from docbatch.work.worker import ParseOptions

    table = {f"label-{i}": f"Title {i}" for i in range(1000)}
    titles = pl.DataFrame({"label": list(table), "title": list(table.values())})
    refs = pl.DataFrame(
        {
            "doc_id": ["z.rst", "b.rst", "a.rst", "d.rst"],
            "refs": [["label-5"], ["nowhere", "zzz-after-every-label"], ["label-1", "label-999"], []],
        }
    )
    options = ParseOptions(labels={}, title_index=TitleIndex.of(titles, refs))
    piece = pl.DataFrame({"doc_id": ["c.rst", "a.rst", "b.rst"]})
    assert options.for_slice(piece).labels == {"label-1": "Title 1", "label-999": "Title 999"}
    assert options.for_slice(piece).title_index is None
    assert options.for_slice(pl.DataFrame({"doc_id": ["z.rst"]})).labels == {"label-5": "Title 5"}
    assert options.for_slice(pl.DataFrame({"doc_id": ["d.rst", "e.rst"]})).labels == {}
    assert ParseOptions(labels=table).for_slice(piece).labels is table  # no index: all of them
