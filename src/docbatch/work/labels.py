"""Section labels across the documents of a source, as a worker reports them.

A reStructuredText document defines labels (``.. _name:`` over a section) and may have
``:ref:`` roles without a title of their own to labels it does not define: Sphinx shows
the title of the section in the other document. A worker reports, per parsed document, a
``LABELS`` row: the labels it defines with their titles, and those it refers to without
defining them. The driver keeps these rows as the source's label table
(``docbatch.state.labels``) and gives the table to the parser.

A document parsed with such references is stored under its format's fingerprint plus the
digest of the titles the table held for them (``refs_fingerprint``): when a title changes in
another document, the digest the table gives now differs from the stored one, and the
document is parsed again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import polars as pl

LABELS: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "content_hash": pl.Utf8(),  # of the content the row was read from
    "fingerprint": pl.Utf8(),  # the document's, as stored
    "labels": pl.List(pl.Utf8()),  # the section labels the document defines
    "titles": pl.List(pl.Utf8()),  # their sections' titles, side by side
    "refs": pl.List(pl.Utf8()),  # labels of its untitled :ref: roles it does not define
}
"""One row per reStructuredText document parsed with the label table."""


def refs_fingerprint(fingerprint: str, refs: Iterable[str], table: Mapping[str, str]) -> str:
    """``fingerprint`` for a document whose untitled ``:ref:`` roles name ``refs`` (labels of
    other documents), parsed with ``table``: unchanged without such references, else with the
    digest of the titles ``table`` holds for them (None for a label it does not hold).

    >>> refs_fingerprint("f", [], {"a": "A"})
    'f'
    >>> refs_fingerprint("f", ["a"], {"a": "A"}) != refs_fingerprint("f", ["a"], {"a": "B"})
    True
    """
    names = sorted(set(refs))
    if not names:
        return fingerprint
    shown = json.dumps([[name, table.get(name)] for name in names])
    return f"{fingerprint}+r{hashlib.blake2b(shown.encode(), digest_size=6).hexdigest()}"


__all__ = ["LABELS", "refs_fingerprint"]
