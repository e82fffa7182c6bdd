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
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from docbatch.plan.hashing import file_sha256
from docbatch.state.atomic import write_parquet
from docbatch.work.labels import LABELS, TitleIndex, includes_fingerprint, refs_fingerprint, source_root

log = logging.getLogger("docbatch")

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})
UNKNOWN = "+labels-unknown"
"""Ends the fingerprint expected of a stored document whose labels the table lacks: no
stored fingerprint has it, so the document is parsed again."""

_EXPECTED = {"doc_id": pl.Utf8, "fingerprint": pl.Utf8}


COMPACT_AFTER_PARTS = 64
"""A table whose file has more parts than this is merged into one file when it is loaded."""
_PART = re.compile(r"^part-(\d+)\.parquet$")


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

    @classmethod
    def load(cls, state_dir: Path, source: str) -> LabelTable:
        """The table kept for ``source`` (empty when there is none or it cannot be read:
        every document is then parsed again, which rebuilds it); more than
        ``COMPACT_AFTER_PARTS`` parts are merged into its file."""
        table = cls(state_dir / "labels" / f"{source.translate(_SAFE)}.parquet")
        if len(_part_numbers(table.parts_dir)) > COMPACT_AFTER_PARTS:
            table.save()
        return table

    def compact(self) -> None:
        """Merge the parts into the table's file, if it has any (at the end of a call)."""
        if _part_numbers(self.parts_dir):
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
        base = _read_rows(self.path)
        if base is not None:
            frames.append(base)
        numbers = sorted(_part_numbers(self.parts_dir))
        for number in numbers:
            part = _read_rows(self._part_path(number))
            if part is not None:
                frames.append(part)
        return pl.concat(frames).unique("doc_id", keep="last", maintain_order=True)

    def _part_path(self, number: int) -> Path:
        return self.parts_dir / f"part-{number:06d}.parquet"

    def add(self, rows: pl.DataFrame) -> None:
        """Replace the rows of the documents ``rows`` holds: written as a part at once (the
        rows in memory are let go, and read back when next asked for)."""
        if rows.height == 0:
            return
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        number = max(_part_numbers(self.parts_dir), default=-1) + 1
        rows = rows.unique("doc_id", keep="last", maintain_order=True).cast(LABELS)  # type: ignore[arg-type]
        write_parquet(rows, self._part_path(number))
        self._rows = None

    def drop(self, doc_ids: pl.Series) -> None:
        """Drop the rows of ``doc_ids`` (documents removed from the store); ``save`` keeps
        that."""
        kept = self.rows.filter(~pl.col("doc_id").is_in(doc_ids.implode()))
        if kept.height != self.rows.height:
            self._rows = kept

    def save(self) -> None:
        """Write the table whole in its file, atomically, then remove its parts (read back,
        a part left by a crash in between holds rows the file holds too)."""
        rows = self.rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(rows, self.path)
        for number in _part_numbers(self.parts_dir):
            self._part_path(number).unlink(missing_ok=True)

    def titles(self) -> dict[str, str]:
        """Each label and its section's title (a label two documents define: the first
        document's, by doc_id)."""
        return _titles(self.rows)

    def titles_of(self, refs: pl.Series) -> dict[str, str]:
        """``titles`` of the labels the lists ``refs`` name, only (a dict of every label of
        a large tree is large)."""
        named = refs.explode().drop_nulls().unique().alias("label").to_frame()
        pairs = _title_pairs(self.rows).join(named, on="label", how="semi")
        return dict(zip(pairs["label"].to_list(), pairs["title"].to_list(), strict=True))

    def index(self) -> TitleIndex:
        """The ``TitleIndex`` of the table: its titles, and the references of its rows."""
        return TitleIndex.of(_title_pairs(self.rows), self.rows.select("doc_id", "refs"))

    def index_with(self, scanned: pl.DataFrame) -> TitleIndex:
        """The ``TitleIndex`` of the titles as they will be once the documents of ``scanned``
        (``SCANNED`` rows: their labels, titles and references as found before parsing them)
        are parsed, and of their references; the table does not change."""
        kept = self.rows.select("doc_id", "labels", "titles").join(scanned, on="doc_id", how="anti")
        rows = pl.concat([kept, scanned.select("doc_id", "labels", "titles")])
        return TitleIndex.of(_title_pairs(rows), scanned.select("doc_id", "refs"))

    def expected(self, stored: pl.DataFrame, fingerprint: str, root: str | None = None) -> pl.DataFrame:
        """The fingerprint each of the ``stored`` reStructuredText documents (``doc_id``,
        ``content_hash``) must have to be up to date with the table and with the files under
        ``root`` they include (read now), where it is not the format's ``fingerprint``:
        ``doc_id`` and ``fingerprint`` rows."""
        joined = stored.select("doc_id", "content_hash").join(
            self.rows.select("doc_id", pl.col("content_hash").alias("_read"), "refs", "includes", "included"),
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
        titles = self.titles_of(referring["refs"]) if referring.height else {}
        hashes: dict[str, str | None] = {}
        ids = [*unknown["doc_id"], *referring["doc_id"]]
        prints = [fingerprint + UNKNOWN] * unknown.height + [
            refs_fingerprint(fingerprint + _included(includes, root, hashes), refs, titles)
            for refs, includes in referring.select("refs", "includes").iter_rows()
        ]
        return pl.DataFrame({"doc_id": ids, "fingerprint": prints}, schema=_EXPECTED)

    def stale(self, doc_ids: pl.Series, fingerprint: str) -> pl.Series:
        """Those of ``doc_ids`` whose row says they were stored under another fingerprint than
        the table expects now (the format's ``fingerprint``, plus the digest of the files they
        included as the row recorded it and that of the titles of the labels they refer to;
        included files are not read again here: ``expected`` does that when planning)."""
        rows = self.rows.filter(pl.col("doc_id").is_in(doc_ids.implode()))
        titles = self.titles_of(rows["refs"]) if rows.height else {}
        wanted = [
            refs_fingerprint(fingerprint + (included or ""), refs, titles)
            for refs, included in rows.select("refs", "included").iter_rows()
        ]
        return rows.filter(pl.col("fingerprint") != pl.Series(wanted, dtype=pl.Utf8))["doc_id"]


def _part_numbers(folder: Path) -> list[int]:
    """The numbers of the parts in ``folder``."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [int(match[1]) for name in names if (match := _PART.match(name))]


def _read_rows(path: Path) -> pl.DataFrame | None:
    """The ``LABELS`` rows of a file of the table (None when there is none, or it cannot be
    read: its documents are parsed again, which writes their rows again)."""
    try:
        rows = pl.read_parquet(path)
        missing = [
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in LABELS.items()
            if name not in rows.columns
        ]
        return rows.with_columns(missing).select(list(LABELS)).cast(LABELS)  # type: ignore[arg-type]
    except FileNotFoundError:
        return None
    except (OSError, pl.exceptions.PolarsError) as exc:
        log.warning("the label table file %s cannot be read (%s): its documents are parsed again", path, exc)
        return None


def _included(includes: list[str] | None, root: str | None, hashes: dict[str, str | None]) -> str:
    """``includes_fingerprint`` of the files ``includes`` (paths from ``root``) as they are
    now (``hashes``: those hashed already)."""
    if not includes:
        return ""
    for name in includes:
        if name not in hashes:
            hashes[name] = file_sha256(os.path.join(root, name)) if root is not None else None
    return includes_fingerprint({name: hashes[name] for name in includes})


def _title_pairs(rows: pl.DataFrame) -> pl.DataFrame:
    """``label`` and ``title`` of each label of ``rows`` (a label two documents define: the
    first document's, by doc_id)."""
    return (
        rows.sort("doc_id")
        .select(pl.col("labels").alias("label"), pl.col("titles").alias("title"))
        .explode("label", "title")
        .drop_nulls()
        .unique("label", keep="first", maintain_order=True)
    )


def _titles(rows: pl.DataFrame) -> dict[str, str]:
    pairs = _title_pairs(rows)
    return dict(zip(pairs["label"], pairs["title"], strict=True))


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
