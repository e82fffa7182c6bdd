"""Reading a SQLite store's passages back out (``docbatch.store.base.PassageReader``), and
the ``removed_passages`` table that keeps the passage ids its writes removed."""

from __future__ import annotations

import fnmatch
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.store.base import SOURCES
from docbatch.store.records import (
    DOCUMENT_RECORD,
    KEY,
    PASSAGE_RECORDS,
    REMOVED_PASSAGES,
    SQL_COLUMNS,
    SQL_FROM,
    PassageFilter,
    check_batch_size,
    check_columns,
    parse_times,
    utc_text,
)

REMOVED_TABLE = """
CREATE TABLE IF NOT EXISTS removed_passages (
    source TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    removed_at TEXT NOT NULL,
    PRIMARY KEY (source, passage_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS passages_passage_id ON passages (passage_id);
"""
"""The passage ids removed from the store (by source), and the index that finds a passage
by its id."""

_RECORD_REMOVED = """
INSERT INTO removed_passages (source, passage_id, doc_id, removed_at)
SELECT source, passage_id, doc_id, ? FROM passages WHERE source = ? AND doc_id = ?
ON CONFLICT (source, passage_id) DO UPDATE SET doc_id = excluded.doc_id, removed_at = excluded.removed_at
"""
_WRITTEN_AGAIN = """
DELETE FROM removed_passages WHERE source = ? AND passage_id IN (SELECT passage_id FROM passages WHERE id > ?)
"""


def add_removed_passages(con: sqlite3.Connection) -> None:
    """From version 5 (and in a new store): the ``removed_passages`` table, empty (passages
    removed before it are not known), and the index of passage ids."""
    for statement in REMOVED_TABLE.split(";"):
        if statement.strip():
            con.execute(statement)


def record_removed(con: sqlite3.Connection, source: str, doc_ids: list[str], now: str) -> None:
    """Before the passages of these documents are deleted: keep their ids as removed."""
    con.executemany(_RECORD_REMOVED, ((now, source, d) for d in doc_ids))


def forget_written_again(con: sqlite3.Connection, source: str, after_id: int) -> None:
    """After passages were inserted (row ids above ``after_id``): their ids are no longer removed."""
    con.execute(_WRITTEN_AGAIN, (source, after_id))


def _conditions(where: PassageFilter) -> tuple[list[str], list[Any]]:
    conditions, params = [], []
    if where.source is not None:
        conditions.append("p.source = ?")
        params.append(where.source)
    if where.format is not None:
        conditions.append("d.format = ?")
        params.append(where.format)
    if where.path is not None:
        conditions.append("docbatch_glob(?, p.doc_id)")
        params.append(where.path)
    if where.since is not None:
        conditions.append("d.ingested_at >= ?")
        params.append(utc_text(where.since))
    return conditions, params


def _frame(rows: list[tuple[Any, ...]], names: list[str]) -> pl.DataFrame:
    schema = {n: pl.Utf8() if n in ("git_date", "ingested_at") else PASSAGE_RECORDS[n] for n in names}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return parse_times(frame, "git_date", "ingested_at")


READ_TIMEOUT_S = 5.0
"""How long a read of ``passage_batches`` waits for the file (a WAL reader rarely waits)."""


def passage_batches(
    path: Path, where: PassageFilter | None, columns: list[str] | None, batch_size: int
) -> Iterator[pl.DataFrame]:
    """The rows of ``PassageReader.passage_batches``, one keyset page at a time, read on a
    connection of their own in one read transaction: the batches are one snapshot of the
    store whatever is written meanwhile, and may be read in another thread (as polars does)."""
    names = check_columns(columns)
    batch_size = check_batch_size(batch_size)
    conditions, params = _conditions(where or PassageFilter())
    selected = ", ".join([*(f"p.{k}" for k in KEY), *(SQL_COLUMNS[n] for n in names)])
    order = " ORDER BY p.source, p.doc_id, p.seq LIMIT ?"
    con = sqlite3.connect(path, timeout=READ_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        con.execute("PRAGMA query_only = 1")
        con.create_function("docbatch_glob", 2, _glob, deterministic=True)
        con.execute("BEGIN")
        after: tuple[Any, ...] | None = None
        while True:
            keyset = ["(p.source, p.doc_id, p.seq) > (?, ?, ?)"] if after is not None else []
            sql = f"SELECT {selected} {SQL_FROM}"
            if conditions or keyset:
                sql += " WHERE " + " AND ".join([*keyset, *conditions])
            rows = con.execute(sql + order, [*(after or ()), *params, batch_size]).fetchall()
            if not rows:
                return
            after = rows[-1][: len(KEY)]
            yield _frame([row[len(KEY) :] for row in rows], names)
            if len(rows) < batch_size:
                return
    finally:
        con.close()


def passage(con: sqlite3.Connection, passage_id: str, source: str | None) -> dict[str, Any] | None:
    names = list(PASSAGE_RECORDS)
    sql = f"SELECT {', '.join(SQL_COLUMNS[n] for n in names)} {SQL_FROM} WHERE p.passage_id = ?"
    params: list[Any] = [passage_id]
    if source is not None:
        sql += " AND p.source = ?"
        params.append(source)
    row = con.execute(sql + " ORDER BY p.source, p.doc_id, p.seq LIMIT 1", params).fetchone()
    return _frame([row], names).row(0, named=True) if row else None


def document(con: sqlite3.Connection, doc_id: str, source: str | None) -> dict[str, Any] | None:
    sql = f"SELECT {', '.join(DOCUMENT_RECORD)} FROM documents WHERE doc_id = ?"
    params: list[Any] = [doc_id]
    if source is not None:
        sql += " AND source = ?"
        params.append(source)
    row = con.execute(sql + " ORDER BY source LIMIT 1", params).fetchone()
    if row is None:
        return None
    schema = {n: pl.Utf8() if n in ("git_date", "ingested_at") else t for n, t in DOCUMENT_RECORD.items()}
    frame = parse_times(pl.DataFrame([row], schema=schema, orient="row"), "git_date", "ingested_at")
    return frame.row(0, named=True)


def removed_passages(con: sqlite3.Connection, source: str | None, since: datetime | None) -> pl.DataFrame:
    sql = f"SELECT {', '.join(REMOVED_PASSAGES)} FROM removed_passages WHERE true"
    params: list[Any] = []
    if source is not None:
        sql += " AND source = ?"
        params.append(source)
    if since is not None:
        sql += " AND removed_at >= ?"
        params.append(utc_text(since))
    rows = con.execute(sql + " ORDER BY source, passage_id", params).fetchall()
    schema = {**REMOVED_PASSAGES, "removed_at": pl.Utf8()}
    return parse_times(pl.DataFrame(rows, schema=schema, orient="row"), "removed_at")


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


_SOURCES = """
SELECT n.name, s.root, coalesce(d.n, 0), coalesce(s.last_ingest, d.last)
FROM (SELECT name FROM sources UNION SELECT DISTINCT source FROM documents) AS n
LEFT JOIN sources AS s ON s.name = n.name
LEFT JOIN (
    SELECT source, count(*) AS n, max(ingested_at) AS last FROM documents GROUP BY source
) AS d ON d.source = n.name
ORDER BY n.name
"""


def sources(con: sqlite3.Connection) -> pl.DataFrame:
    """``SOURCES``: each source with its root, document count and last ingest."""
    rows = con.execute(_SOURCES).fetchall()
    return pl.DataFrame(
        [(name, root, n, _when(last)) for name, root, n, last in rows], schema=SOURCES, orient="row"
    )


def _when(text: str | None) -> datetime | None:
    """A timestamp written by this store (ISO 8601, UTC) read back; None if unreadable."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC) if text else None
    except ValueError:
        return None


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (take the write lock now) ... ``COMMIT``, or roll back."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
