"""The label table of a source: the section labels of its reStructuredText documents.

Kept in ``<state>/labels/<source>.parquet`` (``docbatch.work.labels.LABELS`` rows, one per
document, written atomically), it outlives the run: a later call that parses only the
changed files still knows the labels of the others. The rows of each commit are merged
in right after the store has the commit's documents, so the table never holds a
document's labels before the store holds the document.

The table decides which stored documents must be parsed again (``expected``): one whose
row is missing or was read from other content (a crash between the store's commit and the
table's, an older store, an unreadable table, a table written before included files were
read), one whose references to other documents' labels were resolved with other titles
than the table holds now, and one including a file whose content changed since.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from docbatch.plan.hashing import file_sha256
from docbatch.state.atomic import write_parquet
from docbatch.work.labels import LABELS, includes_fingerprint, refs_fingerprint, source_root

log = logging.getLogger("docbatch")

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})
UNKNOWN = "+labels-unknown"
"""Ends the fingerprint expected of a stored document whose labels the table lacks: no
stored fingerprint has it, so the document is parsed again."""

_EXPECTED = {"doc_id": pl.Utf8, "fingerprint": pl.Utf8}


class LabelTable:
    """The label rows of one source's documents, by doc_id."""

    def __init__(self, path: Path, rows: pl.DataFrame | None = None) -> None:
        self.path = path
        self.rows = rows if rows is not None else pl.DataFrame(schema=LABELS)
        self._titles: dict[str, str] | None = None

    @classmethod
    def load(cls, state_dir: Path, source: str) -> LabelTable:
        """The table kept for ``source`` (empty when there is none or it cannot be read:
        every document is then parsed again, which rebuilds it)."""
        path = state_dir / "labels" / f"{source.translate(_SAFE)}.parquet"
        try:
            rows = pl.read_parquet(path)
            missing = [
                pl.lit(None, dtype=dtype).alias(name)
                for name, dtype in LABELS.items()
                if name not in rows.columns
            ]
            rows = rows.with_columns(missing).select(list(LABELS)).cast(LABELS)  # type: ignore[arg-type]
        except FileNotFoundError:
            rows = None
        except (OSError, pl.exceptions.PolarsError) as exc:
            log.warning("the label table %s cannot be read (%s): it is built again", path, exc)
            rows = None
        return cls(path, rows)

    def merge(self, rows: pl.DataFrame) -> None:
        """Replace the rows of the documents ``rows`` holds."""
        if rows.height == 0:
            return
        rows = rows.unique("doc_id", keep="last", maintain_order=True)
        kept = self.rows.join(rows.select("doc_id"), on="doc_id", how="anti")
        self.rows = pl.concat([kept, rows.cast(LABELS)])  # type: ignore[arg-type]
        self._titles = None

    def drop(self, doc_ids: pl.Series) -> None:
        """Drop the rows of ``doc_ids`` (documents removed from the store)."""
        kept = self.rows.filter(~pl.col("doc_id").is_in(doc_ids.implode()))
        if kept.height != self.rows.height:
            self.rows = kept
            self._titles = None

    def save(self) -> None:
        """Write the table in its file, atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(self.rows, self.path)

    def titles(self) -> dict[str, str]:
        """Each label and its section's title (a label two documents define: the first
        document's, by doc_id)."""
        if self._titles is None:
            self._titles = _titles(self.rows)
        return self._titles

    def titles_with(self, scanned: pl.DataFrame) -> dict[str, str]:
        """``titles`` as they will be once the documents of ``scanned`` (``doc_id``,
        ``labels``, ``titles``: their labels as found before parsing them) are parsed; the
        table does not change."""
        if scanned.height == 0:
            return self.titles()
        kept = self.rows.select("doc_id", "labels", "titles").join(scanned, on="doc_id", how="anti")
        return _titles(pl.concat([kept, scanned.select("doc_id", "labels", "titles")]))

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
        titles = self.titles() if referring.height else {}
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
        titles = self.titles() if rows.height else {}
        wanted = [
            refs_fingerprint(fingerprint + (included or ""), refs, titles)
            for refs, included in rows.select("refs", "included").iter_rows()
        ]
        return rows.filter(pl.col("fingerprint") != pl.Series(wanted, dtype=pl.Utf8))["doc_id"]


def _included(includes: list[str] | None, root: str | None, hashes: dict[str, str | None]) -> str:
    """``includes_fingerprint`` of the files ``includes`` (paths from ``root``) as they are
    now (``hashes``: those hashed already)."""
    if not includes:
        return ""
    for name in includes:
        if name not in hashes:
            hashes[name] = file_sha256(os.path.join(root, name)) if root is not None else None
    return includes_fingerprint({name: hashes[name] for name in includes})


def _titles(rows: pl.DataFrame) -> dict[str, str]:
    pairs = (
        rows.sort("doc_id")
        .select("labels", "titles")
        .explode("labels", "titles")
        .drop_nulls()
        .unique("labels", keep="first", maintain_order=True)
    )
    return dict(zip(pairs["labels"], pairs["titles"], strict=True))


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
