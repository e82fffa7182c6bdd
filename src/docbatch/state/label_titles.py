"""Which title each section label shows, from label table rows (``docbatch.work.labels.LABELS``):
a label two documents define shows the first document's title (by doc_id), one a document
defines twice its first. Frame functions, used by ``docbatch.state.labels``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from docbatch.work.labels import TitleIndex


def definitions(rows: pl.LazyFrame, named: pl.Series | None = None) -> pl.LazyFrame:
    """The labels ``rows`` define (of those ``named``, when given): ``label``, ``title``,
    ``doc_id`` and ``at`` (its place among the document's labels)."""
    found = rows.select(
        "doc_id",
        pl.col("labels").alias("label"),
        pl.col("titles").alias("title"),
        pl.int_ranges(pl.col("labels").list.len()).alias("at"),
    ).explode("label", "title", "at")
    if named is not None:
        found = found.filter(pl.col("label").is_in(named.implode()))
    return found.drop_nulls()


def first_titles(definitions: pl.DataFrame) -> pl.DataFrame:
    """``label`` and ``title`` of each label of ``definitions`` (``definitions``; a label two
    documents define: the first document's, by doc_id; one defines twice: its first), sorted
    by ``label``. Sorted, not grouped: hashing every label took several times the memory."""
    if not definitions["doc_id"].is_sorted():
        definitions = definitions.sort("doc_id", "at")
    return _first_of_each(definitions.select("label", "title"))


def _first_of_each(pairs: pl.DataFrame) -> pl.DataFrame:
    """The first row of each label of ``pairs`` (``label`` and ``title``), sorted by label:
    a stable order of the labels alone (a sort of them with their documents and places took
    a third more memory)."""
    order = pairs.select(pl.arg_sort_by("label", maintain_order=True)).to_series()
    labels = pairs["label"].gather(order)
    return pairs[order.filter(labels.ne_missing(labels.shift(1)))]


def title_pairs(rows: pl.DataFrame) -> pl.DataFrame:
    """``first_titles`` of the labels ``rows`` define, without their doc ids and places."""
    return _titles([_defined(rows)])


def _defined(rows: pl.DataFrame) -> pl.DataFrame:
    """``doc_id``, ``label`` and ``title`` of each label ``rows`` define, in their order."""
    found = rows.lazy().select("doc_id", pl.col("labels").alias("label"), pl.col("titles").alias("title"))
    return found.explode("label", "title").drop_nulls().collect()


REFS_FILE_ROWS = 16_384
"""Rows of each file of references ``scanned_index`` writes."""


def scanned_index(parts: Iterable[pl.DataFrame], folder: Path | None = None) -> TitleIndex:
    """``TitleIndex.of(title_pairs(rows), rows)`` of ``SCANNED`` rows given a part at a time
    (``docbatch.work.label_scan.scanned_parts``), each part cut as it comes to what the
    index keeps: the labels its documents define, with their titles and doc ids (for their
    order), and the labels they name; these written to files in ``folder`` when given (the
    index reads them a slice's range at a time). At a million files the scan's rows held
    whole took 60 MB of the driver, and the index made from them as much again."""
    defined: list[pl.DataFrame] = []
    named: list[pl.DataFrame] = []
    written: list[Path] = []
    token = uuid.uuid4().hex[:8]

    def write_named() -> None:
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"scanned-refs-{token}-{len(written):05d}.parquet"
        pl.concat(named).write_parquet(path, compression="lz4", row_group_size=1024)
        written.append(path)
        named.clear()

    for part in parts:
        defined.append(_defined(part))
        named.append(part.select("doc_id", "refs").filter(pl.col("refs").list.len() > 0))
        if folder is not None and sum(piece.height for piece in named) >= REFS_FILE_ROWS:
            write_named()
    if folder is not None and written:
        if any(piece.height for piece in named):
            write_named()
        return TitleIndex.of(_titles(defined), pl.scan_parquet(written))
    return TitleIndex.of(_titles(defined), pl.concat(named) if named else _NO_REFS)


_NO_REFS = pl.DataFrame(schema={"doc_id": pl.Utf8, "refs": pl.List(pl.Utf8)})


def _titles(defined: list[pl.DataFrame]) -> pl.DataFrame:
    """``first_titles`` of the ``_defined`` rows of ``defined`` (emptied): a document's
    labels in their order, so sorting by doc_id alone, stably, is enough."""
    schema = {"doc_id": pl.Utf8, "label": pl.Utf8, "title": pl.Utf8}
    pairs = pl.concat(defined) if defined else pl.DataFrame(schema=schema)
    defined.clear()
    if not pairs["doc_id"].is_sorted():  # stable: a document's labels keep their order
        pairs = pairs.sort("doc_id", maintain_order=True)
    return _first_of_each(pairs.drop("doc_id"))


def referring(rows: pl.LazyFrame, doc_ids: pl.Series | None) -> pl.LazyFrame:
    """The ``rows`` (of ``doc_ids``, when given) that refer to labels."""
    if doc_ids is not None:
        rows = rows.join(doc_ids.alias("doc_id").to_frame().lazy(), on="doc_id", how="semi")
    return rows.filter(pl.col("refs").list.len().fill_null(0) > 0)


def lookup(titles: pl.DataFrame, refs: pl.Series) -> dict[str, str]:
    """The titles (``title_pairs``, sorted by label) of the labels the lists ``refs`` name."""
    named = refs.explode().drop_nulls().unique().sort()
    if named.len() == 0 or titles.height == 0:
        return {}
    at = titles["label"].search_sorted(named, side="left").clip(upper_bound=titles.height - 1)
    pairs = titles[at].filter(pl.col("label") == named)
    return dict(zip(pairs["label"].to_list(), pairs["title"].to_list(), strict=True))
