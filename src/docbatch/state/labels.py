"""The label table of a source: the section labels of its reStructuredText documents.

Kept in ``<state>/labels/<source>.parquet`` (``docbatch.work.labels.LABELS`` rows, one per
document, written atomically) and the parts beside it (``<source>.parquet.parts/``), it
outlives the run: a later call that parses only the changed files still knows the labels
of the others. The rows of the commits are added as a part right after the store has the
commits' documents, so the table never holds a document's labels before the store holds
the document.

The table decides which stored documents must be parsed again (``expected``): one whose
row is missing or was read from other content (a crash between the store's commit and the
table's, an older store, an unreadable table, a table written before included files were
read), one whose references to other documents' labels were resolved with other titles
than the table holds now, and one including a file whose content changed since.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import polars as pl

from docbatch.plan.hashing import file_sha256
from docbatch.state import label_files, label_titles
from docbatch.state.atomic import sink_parquet, write_parquet
from docbatch.work.labels import (
    LABELS,
    TitleIndex,
    includes_fingerprint,
    refs_fingerprints,
    source_root,
)

log = logging.getLogger("docbatch")

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})
UNKNOWN = "+labels-unknown"
"""Ends the fingerprint expected of a stored document whose labels the table lacks: no
stored fingerprint has it, so the document is parsed again."""

_EXPECTED = {"doc_id": pl.Utf8, "fingerprint": pl.Utf8}


COMPACT_AFTER_PARTS = 64
"""A table whose file has more parts than this is merged into one file when it is loaded."""
BATCH_ROWS = 20_000
"""Rows of the table ``stale`` looks at at a time."""


class LabelTable:
    """The label rows of one source's documents, by doc_id.

    On disk: the table's file and, beside it in ``<file>.parts/``, the rows added since it
    was written, as parts (``add``): a run writes only its new rows, never the whole table,
    and holds none of them. ``rows`` reads the file and its parts back when they are asked
    for (the latest row of a document wins)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts_dir = path.with_name(path.name + ".parts")
        self._rows: pl.DataFrame | None = None
        self._named_titles: pl.DataFrame | None = None  # of _rows: let go with them

    @classmethod
    def load(cls, state_dir: Path, source: str) -> LabelTable:
        """The table kept for ``source`` (empty when there is none or it cannot be read:
        every document is then parsed again, which rebuilds it); more than
        ``COMPACT_AFTER_PARTS`` parts are merged into its file."""
        table = cls(state_dir / "labels" / f"{source.translate(_SAFE)}.parquet")
        if len(label_files.part_numbers(table.parts_dir)) > COMPACT_AFTER_PARTS:
            table.save()
        return table

    def compact(self) -> None:
        """Merge the parts into the table's file, if it has any (at the end of a call)."""
        if label_files.part_numbers(self.parts_dir):
            self.save()

    @property
    def rows(self) -> pl.DataFrame:
        """The table's rows (read back from disk after ``add`` let them go)."""
        if self._rows is None:
            self._rows = self._read()
        return self._rows

    def _read(self) -> pl.DataFrame:
        """The rows of the file and its parts."""
        frames = [pl.DataFrame(schema=LABELS)]
        base = label_files.read_rows(self.path)
        if base is not None:
            frames.append(base)
        numbers = sorted(label_files.part_numbers(self.parts_dir))
        for number in numbers:
            part = label_files.read_rows(self._part_path(number))
            if part is not None:
                frames.append(part)
        rows = pl.concat(frames)
        ids = rows["doc_id"]
        # a table written in one go is in doc_id order (ranges of it are then slices), one row
        # a document: none is left out, and telling so needs no hashing of every doc_id
        if not ids.is_sorted() or (ids.len() > 1 and (ids.slice(1) == ids.slice(0, ids.len() - 1)).any()):
            rows = rows.unique("doc_id", keep="last", maintain_order=True)
        return rows.with_columns(pl.col("doc_id").set_sorted()) if rows["doc_id"].is_sorted() else rows

    def _part_path(self, number: int) -> Path:
        return self.parts_dir / f"part-{number:06d}.parquet"

    def add(self, rows: pl.DataFrame) -> None:
        """Replace the rows of the documents ``rows`` holds: written as a part at once (the
        rows in memory are let go, and read back when next asked for)."""
        if rows.height == 0:
            return
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        number = max(label_files.part_numbers(self.parts_dir), default=-1) + 1
        rows = rows.unique("doc_id", keep="last", maintain_order=True).cast(LABELS)  # type: ignore[arg-type]
        write_parquet(rows, self._part_path(number))
        self._rows = self._named_titles = None

    def drop(self, doc_ids: pl.Series) -> None:
        """Drop the rows of ``doc_ids`` (documents removed from the store): the table is
        written whole (``save``) without them."""
        self.save(without=doc_ids)

    def save(self, without: pl.Series | None = None) -> None:
        """Write the table whole in its file (less the rows of the documents ``without``),
        atomically, then remove its parts (read back, a part left by a crash in between holds
        rows the file holds too). The rows stream from the old file and its parts to the
        new file: the table is never in memory whole."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._rows is None:
            try:
                sink_parquet(_without(self._latest(list(LABELS)), without), self.path)
            except (OSError, pl.exceptions.PolarsError) as exc:  # a file damaged past its footer
                log.debug("the label table %s is read whole to be written (%s)", self.path, exc)
                self._rows = self._read()
        if self._rows is not None:
            write_parquet(_without(self._rows.lazy(), without).collect(), self.path)
        self._rows = self._named_titles = None
        for number in label_files.part_numbers(self.parts_dir):
            self._part_path(number).unlink(missing_ok=True)

    def _latest(self, columns: list[str]) -> pl.LazyFrame:
        """``columns`` (``doc_id`` among them) of the latest row of each document, as a query
        over the file and its parts, which streams them (``_pieces``): one scan of them all
        when no row of one is superseded (as after a first run) and they have the same
        columns (a scan of each file took twice the memory at 500 parts)."""
        readable, superseded = self._readable(columns)
        if not readable:
            return pl.LazyFrame(schema={name: LABELS[name] for name in columns})
        if not superseded and all(whole for _, _, whole in readable):
            return pl.scan_parquet([path for path, _, _ in readable]).select(columns)
        return pl.concat(self._pieces(columns, readable=(readable, superseded)))

    def _readable(
        self, columns: list[str]
    ) -> tuple[list[tuple[Path, pl.LazyFrame, bool]], dict[Path, pl.Series]]:
        """The table's files that can be read, oldest first, with a query of each (of
        ``columns``) and whether it holds exactly the table's columns; and the doc ids of
        each that a later one has a row of."""
        files = [self.path, *map(self._part_path, sorted(label_files.part_numbers(self.parts_dir)))]
        wanted = ["doc_id", *(name for name in columns if name != "doc_id")]
        scans = ((path, label_files.scan_rows(path, wanted)) for path in files)
        readable = [(path, *scan) for path, scan in scans if scan is not None]
        return readable, label_files.superseded([path for path, _, _ in readable])

    def _pieces(
        self,
        columns: list[str],
        rows: int = 0,
        readable: tuple[list[tuple[Path, pl.LazyFrame, bool]], dict[Path, pl.Series]] | None = None,
    ) -> Iterator[pl.LazyFrame]:
        """``_latest`` as queries of the file and of each part (of ``rows`` rows of one at
        most, when given), oldest first. Each of them holds one row a document (``add`` and
        ``save`` write them so); a document's row in a later one wins: the others are left
        out (``label_files.superseded``)."""
        files, superseded = readable if readable is not None else self._readable(columns)
        for path, scan, _ in files:
            if path in superseded:
                scan = scan.filter(~pl.col("doc_id").is_in(superseded[path].implode()))
            scan = scan.select(columns)
            if rows <= 0:
                yield scan
                continue
            height = pl.scan_parquet(path).select(pl.len()).collect().item()
            for offset in range(0, height, rows):
                yield scan.slice(offset, rows) if height > rows else scan

    def _query(self, query: Callable[[pl.LazyFrame], pl.LazyFrame], columns: list[str]) -> pl.DataFrame:
        """``query`` (of rows one at a time: a filter, a selection) of the ``columns`` of the
        table's rows, ``BATCH_ROWS`` rows of one file at a time (one query over them all
        took several times the memory); of the rows read whole when they are already, or a
        file of the table cannot be streamed (its damaged rows are then left out, with a
        warning: ``label_files.read_rows``)."""
        if self._rows is None:
            try:
                found = [query(piece).collect() for piece in self._pieces(columns, BATCH_ROWS)]
            except (OSError, pl.exceptions.PolarsError) as exc:
                log.debug("the label table %s is read whole (%s)", self.path, exc)
                self._rows = self._read()
            else:
                if found:
                    return pl.concat(found)
        rows = self._rows if self._rows is not None else pl.DataFrame(schema=LABELS)
        return query(rows.lazy().select(columns)).collect()

    def _batches(
        self, query: Callable[[pl.LazyFrame], pl.LazyFrame], columns: list[str]
    ) -> Iterator[pl.DataFrame]:
        """``query`` of the ``columns`` of the table's rows, ``BATCH_ROWS`` rows of one file
        at a time at most (of the rows read whole when they are already)."""
        if self._rows is not None:
            for batch in self._rows.select(columns).iter_slices(BATCH_ROWS):
                yield query(batch.lazy()).collect()
            return
        for piece in self._pieces(columns, BATCH_ROWS):
            yield query(piece).collect()

    def titles(self) -> dict[str, str]:
        """Each label and its section's title (a label two documents define: the first
        document's, by doc_id)."""
        pairs = self.title_pairs()
        return dict(zip(pairs["label"].to_list(), pairs["title"].to_list(), strict=True))

    def title_pairs(self, named: pl.Series | None = None) -> pl.DataFrame:
        """``titles`` as ``label`` and ``title`` rows sorted by ``label``: of the labels
        ``named`` only, when given (those the documents refer to: ``named``), which is all
        that is held in memory of the table."""
        return label_titles.first_titles(
            self._query(lambda rows: label_titles.definitions(rows, named), ["doc_id", "labels", "titles"])
        )

    def named(self) -> pl.Series:
        """The labels the table's documents refer to, once each."""
        named = self._query(
            lambda rows: (
                label_titles.referring(rows, None).select(pl.col("refs").explode().alias("label")).unique()
            ),
            ["refs"],
        )
        return named["label"].unique()

    def titles_of(self, refs: pl.Series) -> dict[str, str]:
        """``titles`` of the labels the lists ``refs`` name, only (a dict of every label of
        a large tree is large)."""
        pairs = self.title_pairs(refs.explode().drop_nulls().unique())
        return dict(zip(pairs["label"].to_list(), pairs["title"].to_list(), strict=True))

    def index(self, doc_ids: pl.Series | None = None, titles: pl.DataFrame | None = None) -> TitleIndex:
        """The ``TitleIndex`` of the table: its titles and the references of its rows; with
        ``doc_ids``, of those documents' rows and the titles they name only (of ``titles``,
        when given: ``title_pairs`` of labels these are among)."""
        refs = self._query(
            lambda rows: label_titles.referring(rows, doc_ids).select("doc_id", "refs"), ["doc_id", "refs"]
        )
        named = refs["refs"].explode().drop_nulls().unique() if doc_ids is not None else None
        if titles is None:
            titles = self.title_pairs(named)
        elif named is not None:
            titles = titles.filter(pl.col("label").is_in(named.implode()))
        return TitleIndex.of(titles, refs)

    def index_with(self, scanned: pl.DataFrame) -> TitleIndex:
        """The ``TitleIndex`` of the titles as they will be once the documents of ``scanned``
        (``SCANNED`` rows: their labels, titles and references as found before parsing them)
        are parsed, and of their references; the table does not change."""
        kept = self.rows.select("doc_id", "labels", "titles").join(scanned, on="doc_id", how="anti")
        found = scanned.select("doc_id", "labels", "titles")
        if kept.height == 0:  # a first run
            rows = found
        elif kept["doc_id"].is_sorted() and found["doc_id"].is_sorted():
            rows = kept.merge_sorted(found, key="doc_id")
        else:
            rows = pl.concat([kept, found])
        return TitleIndex.of(label_titles.title_pairs(rows), scanned.select("doc_id", "refs"))

    def expected(self, stored: pl.DataFrame, fingerprint: str, root: str | None = None) -> pl.DataFrame:
        """The fingerprint each of the ``stored`` reStructuredText documents (``doc_id``,
        ``content_hash``) must have to be up to date with the table and with the files under
        ``root`` they include (read now), where it is not the format's ``fingerprint``:
        ``doc_id`` and ``fingerprint`` rows. Only the table's rows of the range of doc ids
        ``stored`` spans are looked at (``_rows_within``)."""
        rows = self._rows_within(stored["doc_id"])
        joined = stored.select("doc_id", "content_hash").join(
            rows.select("doc_id", pl.col("content_hash").alias("_read"), "refs", "includes", "included"),
            on="doc_id",
            how="left",
        )
        # a row of a table written before includes were read (no "included") is not current
        current = (pl.col("_read") == pl.col("content_hash")) & pl.col("included").is_not_null()
        unknown = joined.filter(~current.fill_null(False))
        referring = joined.filter(
            current.fill_null(False)
            & ((pl.col("refs").list.len() > 0) | (pl.col("includes").list.len().fill_null(0) > 0))
        )
        titles = label_titles.lookup(self._referenced_titles(), referring["refs"]) if referring.height else {}
        starts = pl.repeat(fingerprint, referring.height, dtype=pl.Utf8, eager=True)
        including = (referring["includes"].list.len().fill_null(0) > 0).arg_true()
        if including.len():
            hashes: dict[str, str | None] = {}
            read = referring["includes"].gather(including).to_list()
            starts = starts.scatter(
                including, [fingerprint + _included(names, root, hashes) for names in read]
            )
        return pl.concat(
            [
                unknown.select("doc_id", pl.lit(fingerprint + UNKNOWN).alias("fingerprint")),
                referring.select("doc_id", refs_fingerprints(starts, referring["refs"], titles)),
            ]
        ).cast(_EXPECTED)  # type: ignore[arg-type]

    def _referenced_titles(self) -> pl.DataFrame:
        """``title_pairs`` of the labels the table's rows refer to, found once for the rows
        read (planning asks for them a part of the tree at a time)."""
        if self._named_titles is None:
            self._named_titles = self.title_pairs(self.named())
        return self._named_titles

    def _rows_within(self, doc_ids: pl.Series) -> pl.DataFrame:
        """The table's rows from the least of ``doc_ids`` to the greatest (of the columns
        ``expected`` reads): read from its files for that range alone, their row groups
        outside it passed over by their statistics (read whole, a million files' table took
        100 MB); of the rows in memory when they are already (a slice when they are sorted
        by doc_id: ``_read`` marks them so)."""
        if doc_ids.len() == 0:
            return pl.DataFrame(schema={name: LABELS[name] for name in _EXPECTED_FROM})
        low, high = str(doc_ids.min()), str(doc_ids.max())
        if self._rows is None:
            within = (pl.col("doc_id") >= low) & (pl.col("doc_id") <= high)
            try:
                found = [piece.filter(within).collect() for piece in self._pieces(list(_EXPECTED_FROM))]
            except (OSError, pl.exceptions.PolarsError) as exc:  # a file damaged past its footer
                log.debug("the label table %s is read whole (%s)", self.path, exc)
                self._rows = self._read()
            else:
                return pl.concat([pl.DataFrame(schema={n: LABELS[n] for n in _EXPECTED_FROM}), *found])
        rows = self.rows.select(_EXPECTED_FROM)
        column = rows["doc_id"]
        if column.flags["SORTED_ASC"]:
            start = int(column.search_sorted(low, side="left"))
            return rows.slice(start, int(column.search_sorted(high, side="right")) - start)
        return rows.filter((pl.col("doc_id") >= low) & (pl.col("doc_id") <= high))

    def stale(
        self, doc_ids: pl.Series | pl.LazyFrame, fingerprint: str, titles: pl.DataFrame | None = None
    ) -> pl.Series:
        """Those of ``doc_ids`` whose row says they were stored under another fingerprint than
        the table expects now (the format's ``fingerprint``, plus the digest of the files they
        included as the row recorded it and that of the titles of the labels they refer to,
        of ``titles``: ``title_pairs`` of at least those labels, found when not given;
        included files are not read again here: ``expected`` does that when planning).

        The rows are streamed from the table's files, ``BATCH_ROWS`` at a time: the table is
        never in memory whole."""
        if titles is None:
            titles = self.title_pairs(self.named())
        try:
            return self._stale(doc_ids, fingerprint, titles)
        except (OSError, pl.exceptions.PolarsError) as exc:  # a file damaged past its footer
            if self._rows is not None:
                raise
            log.debug("the label table %s is read whole (%s)", self.path, exc)
            self._rows = self._read()
            return self._stale(doc_ids, fingerprint, titles)

    def _stale(self, doc_ids: pl.Series | pl.LazyFrame, fingerprint: str, titles: pl.DataFrame) -> pl.Series:
        start = (pl.lit(fingerprint) + pl.col("included").fill_null("")).alias("start")
        stale = []
        for batch in self._batches(
            lambda rows: rows.select("doc_id", "fingerprint", start, "refs"),
            ["doc_id", "fingerprint", "refs", "included"],
        ):
            named = label_titles.lookup(titles, batch["refs"])
            wanted = refs_fingerprints(batch["start"], batch["refs"], named)
            stale.append(batch.filter(pl.col("fingerprint") != wanted)["doc_id"])
        # of every row, then of those asked for: a join of each batch with these hashed them all each time
        found = pl.concat(stale) if stale else pl.Series("doc_id", [], dtype=pl.Utf8)
        if isinstance(doc_ids, pl.LazyFrame):  # streamed (a million files' ids are 20 MB), few kept
            asked = doc_ids.select("doc_id").join(found.to_frame().lazy(), on="doc_id", how="semi")
            return asked.collect()["doc_id"]
        return found.filter(found.is_in(doc_ids.implode()))


def _included(includes: list[str] | None, root: str | None, hashes: dict[str, str | None]) -> str:
    """``includes_fingerprint`` of the files ``includes`` (paths from ``root``) as they are
    now (``hashes``: those hashed already)."""
    if not includes:
        return ""
    for name in includes:
        if name not in hashes:
            hashes[name] = file_sha256(os.path.join(root, name)) if root is not None else None
    return includes_fingerprint({name: hashes[name] for name in includes})


_EXPECTED_FROM = ("doc_id", "content_hash", "refs", "includes", "included")
"""The columns of the table ``LabelTable.expected`` reads."""


def _without(rows: pl.LazyFrame, doc_ids: pl.Series | None) -> pl.LazyFrame:
    """``rows`` less those of ``doc_ids``."""
    if doc_ids is None or doc_ids.len() == 0:
        return rows
    return rows.join(doc_ids.alias("doc_id").to_frame().lazy(), on="doc_id", how="anti")


def plan_fingerprints(
    table: LabelTable | None, known: pl.DataFrame, inventory: pl.DataFrame, fingerprints: Mapping[str, str]
) -> pl.DataFrame | None:
    """The ``document_fingerprints`` of planning (``docbatch.plan.planning.plan``): what
    ``table`` expects of the stored (``known``) reStructuredText documents of ``inventory``;
    None without a table."""
    if table is None or "rst" not in fingerprints:
        return None
    rst = inventory.filter(pl.col("format") == "rst").select("doc_id", "path")
    root = None
    if rst.height:
        doc_id, path = rst.row(0)
        root = source_root(path, doc_id) if path else None
    return table.expected(known.join(rst, on="doc_id", how="semi"), fingerprints["rst"], root)


__all__ = ["UNKNOWN", "LabelTable", "plan_fingerprints"]
