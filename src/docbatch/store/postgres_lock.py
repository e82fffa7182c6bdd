"""The run lock of a PostgreSQL source: a session advisory lock on a connection of its
own, held for a whole run, with its holder recorded in ``docbatch_writers`` for the
message a refused writer gets (``PostgresStore.writer_lock``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from docbatch.store.base import holder_record, lock_refused

LOCK_CLASS = 0x0DB0
"""First key of docbatch's advisory locks (the second is the source's hash)."""
WRITERS = """
CREATE TABLE IF NOT EXISTS docbatch_writers (
    source text PRIMARY KEY,
    holder jsonb NOT NULL,
    backend_pid integer NOT NULL
)
"""
"""Who holds the run lock of each source (a row left by a holder that died says who it was)."""


def take_run_lock(conn: psycopg.Connection[Any], location: str, source: str) -> RunLock:
    """Take the run lock of ``source`` on ``conn`` (an autocommit connection of its own).

    Raises:
        StoreLockedError: another run holds it; the message names that run.
        psycopg.Error: the server failed.
    """
    (schema,) = conn.execute("SELECT current_schema()").fetchone() or ("",)
    key = _run_lock_key(str(schema), source)
    (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() or (False,)
    if not got:
        raise lock_refused(location, _writer(conn, source, holding=key))
    with conn.transaction():  # one creator at a time, as for the schema
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
        conn.execute(WRITERS)
    held = RunLock(conn, source, key, previous=_writer(conn, source))
    held.write(**holder_record())
    return held


@dataclass
class RunLock:
    """The run lock of a source, held on its own connection (``PostgresStore.writer_lock``)."""

    conn: psycopg.Connection[Any]
    source: str
    key: int
    previous: dict[str, Any] | None = None
    """The record left by a holder that died (taken over), else None."""
    record: dict[str, Any] = field(default_factory=dict)

    def note(self, **fields: Any) -> None:
        """Add ``fields`` to the holder record a refused writer reads (if the server can
        still be reached: the record is only for messages)."""
        try:
            self.write(**fields)
        except psycopg.Error:
            pass

    def release(self) -> None:
        """Give the lock back (closing the session would, too) and remove the record."""
        try:
            self.conn.execute("DELETE FROM docbatch_writers WHERE source = %s", (self.source,))
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except psycopg.Error:
            pass  # closing the session releases the lock all the same

    def write(self, **fields: Any) -> None:
        self.record.update(fields)
        self.conn.execute(
            "INSERT INTO docbatch_writers (source, holder, backend_pid) VALUES (%s, %s, pg_backend_pid()) "
            "ON CONFLICT (source) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid",
            (self.source, Jsonb(self.record)),
        )


def _run_lock_key(schema: str, source: str) -> int:
    """A stable signed 64-bit key for the run lock of ``source`` in ``schema``."""
    digest = hashlib.blake2b(f"docbatch\0{schema}\0{source}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_HOLDER = """
SELECT w.holder FROM docbatch_writers AS w WHERE w.source = %s AND (%s::bigint IS NULL OR w.backend_pid IN (
    SELECT l.pid FROM pg_locks AS l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = %s::bigint AND l.objid::bigint = %s::bigint
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
))
"""


def _writer(
    conn: psycopg.Connection[Any], source: str, *, holding: int | None = None
) -> dict[str, Any] | None:
    """The holder record of ``source``'s run lock (None when there is none); ``holding``: only
    the record of the session that holds the lock of this key now."""
    high, low = ((holding >> 32) & 0xFFFFFFFF, holding & 0xFFFFFFFF) if holding is not None else (0, 0)
    try:
        row = conn.execute(_HOLDER, (source, holding, high, low)).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return dict(row[0]) if row is not None and isinstance(row[0], dict) else None
