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
document is parsed again. Its fingerprint names the content of the files its ``include``
directives read as well (``includes_fingerprint``), so that a change in one parses it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

LABELS: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "content_hash": pl.Utf8(),  # of the content the row was read from
    "fingerprint": pl.Utf8(),  # the document's, as stored
    "labels": pl.List(pl.Utf8()),  # the section labels the document defines
    "titles": pl.List(pl.Utf8()),  # their sections' titles, side by side
    "refs": pl.List(pl.Utf8()),  # labels of its untitled :ref: roles it does not define
    "includes": pl.List(pl.Utf8()),  # the files its include directives read (from the root)
    "included": pl.Utf8(),  # includes_fingerprint of what they held then
}
"""One row per reStructuredText document parsed with the label table."""


def includes_fingerprint(read: Mapping[str, str | None]) -> str:
    """What a document's fingerprint gains from the files it includes (path -> SHA-256 of
    their bytes, None: not readable): nothing without any, else their digest, which changes
    when one of them does.

    >>> includes_fingerprint({})
    ''
    >>> includes_fingerprint({"a.rst": "1"}) != includes_fingerprint({"a.rst": "2"})
    True
    """
    if not read:
        return ""
    shown = json.dumps(sorted(read.items()))
    return f"+i{hashlib.blake2b(shown.encode(), digest_size=6).hexdigest()}"


def source_root(path: str, doc_id: str) -> str:
    """The root of the source ``path`` (a file's path) is in: ``path`` minus ``doc_id``."""
    suffix = os.sep + doc_id.replace("/", os.sep)
    return path[: -len(suffix)] if path.endswith(suffix) else os.path.dirname(path)


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


def refs_fingerprints(starts: pl.Series, refs: pl.Series, table: Mapping[str, str]) -> pl.Series:
    """``refs_fingerprint`` of each row of ``starts`` (fingerprints) and ``refs`` (lists of
    labels), the same values, worked out over the columns: each label's part of the digested
    text is written once, and each distinct text is digested once.

    >>> refs = pl.Series([["b", "a", "b"], [], ["é"]])
    >>> got = refs_fingerprints(pl.Series(["f", "g", "h"]), refs, {"a": "A", "é": "É"})
    >>> got.to_list() == [refs_fingerprint(s, r, {"a": "A", "é": "É"}) for s, r in zip("fgh", refs)]
    True
    """
    frame = pl.DataFrame({"start": starts, "refs": refs}, schema={"start": pl.Utf8, "refs": pl.List(pl.Utf8)})
    odd = frame["refs"].list.eval(pl.element().is_null()).list.any().fill_null(False)
    if odd.any():  # a null label: as refs_fingerprint has it
        done = [refs_fingerprint(s, r or [], table) for s, r in frame.select("start", "refs").iter_rows()]
        return pl.Series("fingerprint", done, dtype=pl.Utf8)
    names = frame["refs"].explode().drop_nulls().unique()
    # json.dumps of the list of [name, title] pairs writes each pair as json.dumps of it
    shown = {name: json.dumps([name, table.get(name)]) for name in names.to_list()}
    pairs = pl.element().replace_strict(shown, return_dtype=pl.Utf8)
    texts = frame.select(
        pl.when(pl.col("refs").list.len() > 0).then(
            "[" + pl.col("refs").list.unique().list.sort().list.eval(pairs).list.join(", ") + "]"
        )
    ).to_series()
    distinct = texts.drop_nulls().unique()
    digests = {
        text: "+r" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest() for text in distinct.to_list()
    }
    suffix = texts.replace_strict(digests, default="", return_dtype=pl.Utf8)
    return (frame["start"] + suffix.fill_null("")).alias("fingerprint")


@dataclass(frozen=True)
class TitleIndex:
    """A source's section titles and the labels each document refers to, as frames, from
    which each slice is given the titles its documents refer to (``titles_for``).

    The driver holds it for a whole tree: frames take some tens of bytes a label, where
    Python dicts of the same took about 250 (at a million files, 150 MB).
    """

    titles: pl.DataFrame
    """``label`` and ``title``, one row per label, sorted by ``label``."""
    refs: pl.DataFrame | pl.LazyFrame
    """``doc_id`` and ``refs`` (the labels it names), sorted by ``doc_id``; a document that
    names none has no row. Or a scan of Parquet files of such rows (a first run's: a
    million files' refs took 40 MB of the driver), of which each slice reads the row
    groups of its range of doc ids (``titles_for``)."""

    @staticmethod
    def of(titles: pl.DataFrame, refs: pl.DataFrame | pl.LazyFrame) -> TitleIndex:
        """The index of ``titles`` (``label``, ``title``) and of the ``refs`` (``doc_id``,
        ``refs``) of documents in any order (a scan: as they are)."""
        titles = titles.select("label", "title")
        titles = titles if titles["label"].is_sorted() else titles.sort("label")
        if isinstance(refs, pl.LazyFrame):
            return TitleIndex(titles, refs.select("doc_id", "refs"))
        named = refs.select("doc_id", "refs").filter(pl.col("refs").list.len() > 0)
        return TitleIndex(titles, named if named["doc_id"].is_sorted() else named.sort("doc_id"))

    def titles_for(self, doc_ids: pl.Series) -> dict[str, str]:
        """The titles of the labels the documents ``doc_ids`` refer to."""
        if doc_ids.len() == 0 or (isinstance(self.refs, pl.DataFrame) and self.refs.height == 0):
            return {}
        first, last = str(doc_ids.min()), str(doc_ids.max())
        if isinstance(self.refs, pl.LazyFrame):
            refs = self.refs.filter(pl.col("doc_id").is_between(pl.lit(first), pl.lit(last))).collect()
        else:
            column = self.refs["doc_id"]
            low, high = column.search_sorted(first, side="left"), column.search_sorted(last, side="right")
            refs = self.refs.slice(low, high - low)
        named = (
            refs.filter(pl.col("doc_id").is_in(doc_ids.implode()))
            .select(pl.col("refs").explode().alias("label"))
            .drop_nulls()
            .unique()
            .to_series()
        )
        if named.len() == 0 or self.titles.height == 0:
            return {}
        # looked up in the sorted labels: a join hashed every label of the tree for each
        # slice (at a million files' 288,000 labels, 6 ms a slice against 3 ms so)
        at = self.titles["label"].search_sorted(named, side="left").clip(upper_bound=self.titles.height - 1)
        pairs = self.titles[at].filter(pl.col("label") == named)
        return dict(zip(pairs["label"].to_list(), pairs["title"].to_list(), strict=True))


__all__ = [
    "LABELS",
    "TitleIndex",
    "includes_fingerprint",
    "refs_fingerprint",
    "refs_fingerprints",
    "source_root",
]
