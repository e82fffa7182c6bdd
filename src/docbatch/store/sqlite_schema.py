"""The tables of a SQLite store and how a connection makes them: the documents, passages,
sources and removed_passages tables, the FTS5 indexes of the passages (exact words, and stemmed words) and
the trigger that unindexes deleted passages, the schema version this docbatch reads, and
the steps that upgrade a store of an older version when it is opened."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from docbatch.errors import StoreError
from docbatch.store.sqlite_records import add_removed_passages, transaction
from docbatch.store.tokens import codes

SCHEMA_VERSION = 7
FTS_AUTOMERGE = 16
FTS_CRISISMERGE = 64
"""The parts of one level of an index that merge at once, in the commit that made the
last of them (FTS5's default, 16, is ``FTS_AUTOMERGE``: every merge waited for it, and
the 256th commit merged the index's first 256 parts in one go, the 4096th nearly the
whole index; at 100,000 files one commit held 250 MB in the write-ahead log). Above it,
the parts merge a little at each commit (``automerge``)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    title TEXT,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    n_chars INTEGER NOT NULL,
    n_passages INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    git_commit TEXT,
    git_author TEXT,
    git_date TEXT,
    ingested_at TEXT NOT NULL,
    PRIMARY KEY (source, doc_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    passage_id TEXT NOT NULL,
    title TEXT,
    heading_path TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    codes TEXT NOT NULL DEFAULT '',
    anchor TEXT NOT NULL DEFAULT '',
    line_start INTEGER,
    line_end INTEGER,
    UNIQUE (source, doc_id, seq)
);
{fts}
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    root TEXT,
    last_ingest TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passage_ranges (
    source TEXT PRIMARY KEY,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL
) WITHOUT ROWID;
DROP TRIGGER IF EXISTS passages_ai;
"""
FTS_TABLES = """
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, heading_path, text, codes,
    content='passages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_stem USING fts5(
    title, heading_path, text, codes,
    content='passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""
"""Two indexes of the same columns: ``passages_fts`` holds the words as written (an exact
match ranks higher), ``passages_stem`` their Porter stems (what a search matches).
``codes`` holds the terms of ``docbatch.store.tokens.codes``."""
FTS_INDEXES = ("passages_fts", "passages_stem")
# the sources table came after schema version 3: a store without it gets it when opened

DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, heading_path, text, codes)
    VALUES ('delete', old.id, old.title, old.heading_path, old.text, old.codes);
    INSERT INTO passages_stem(passages_stem, rowid, title, heading_path, text, codes)
    VALUES ('delete', old.id, old.title, old.heading_path, old.text, old.codes);
END
"""
"""Deleting a passage removes it from the index (passages are indexed in bulk when written)."""


def prepare_schema(con: sqlite3.Connection, location: str) -> None:
    """Make the tables ``con``'s file lacks, and check or record the schema version.

    Raises:
        StoreError: the file holds a docbatch schema of another version.
        sqlite3.Error: SQLite failed.
    """
    con.executescript(_SCHEMA.format(fts=FTS_TABLES))
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        _set_automerge(con)
        add_removed_passages(con)
    elif int(row[0]) != SCHEMA_VERSION:
        _upgrade(con, location, int(row[0]))
    con.execute(DELETE_TRIGGER)


MAX_SEGMENTS = 8
"""An index in more parts than this is merged after a run: a search reads every part (a
full ingest of ten copies of the dev corpus leaves 22, and its searches take twice as long
as over one)."""
WHOLE_SHARE = 0.1
"""A run that wrote this share of the store's passages or more merges the index into one
part (a pass over the whole index, 2 s at 100,000 passages); a smaller run merges about
as many pages as it wrote (``MIN_MERGE_PAGES`` at least), so that the parts go down over
a few runs."""
MIN_MERGE_PAGES = 256
MERGE_STEP_PAGES = 2048
"""The index pages one step of a merge writes, in a transaction of its own that is
checkpointed before the next (about 12 MB in the write-ahead log): a merge in one transaction
held the whole index in the log at once (250 MB at 100,000 files)."""
WAL_LIMIT_BYTES = 64 * 1024 * 1024
"""The size a store's write-ahead log is cut back to once checkpointed
(``journal_size_limit``); a merge stops, to go on after a later run, when a reader keeps
the log from being checkpointed and it has reached this size."""


def compact(con: sqlite3.Connection, written_passages: int) -> None:
    """Merge each full-text index's parts when they are more than ``MAX_SEGMENTS`` (see
    ``SQLiteStore.compact_index``), ``MERGE_STEP_PAGES`` at a time, then checkpoint the
    write-ahead log and cut it back to nothing when no reader holds it.

    Raises:
        sqlite3.Error: SQLite failed (``database is locked``: another writer holds the store;
            the steps done so far are kept).
    """
    if written_passages <= 0:
        return
    # the passages stored, from the span of their ids (count(*) reads the whole table)
    (stored,) = con.execute("SELECT coalesce(max(id), 0) - coalesce(min(id), 0) + 1 FROM passages").fetchone()
    # the whole index (as 'optimize' would), or about as many pages as the run wrote
    budget = None if written_passages >= WHOLE_SHARE * stored else max(MIN_MERGE_PAGES, written_passages)
    log = _Log(con)
    merged = False
    for index in FTS_INDEXES:
        if segments(con, index) <= MAX_SEGMENTS:
            continue
        merged = True
        if not _merge(con, index, budget, log):
            return
    if merged:
        _truncate_log(con)


def _merge(con: sqlite3.Connection, index: str, budget: int | None, log: _Log) -> bool:
    """Merge ``index``'s parts in steps, each after a checkpoint of the log, until about
    ``budget`` pages are written (None: until it is in one part): False when it stopped
    because a reader holds the log (``_Log.held``); the merge goes on after a later run."""
    left = budget
    while left is None or left > 0:
        if log.held():
            return False
        pages = MERGE_STEP_PAGES if left is None else min(left, MERGE_STEP_PAGES)
        with transaction(con):
            before = con.total_changes
            # negative: parts of any level merge, down to one
            con.execute(f"INSERT INTO {index}({index}, rank) VALUES ('merge', ?)", (-pages,))
            worked = con.total_changes - before >= 2  # fewer: nothing was left to merge
        if not worked:
            break
        if left is not None:
            left -= pages
    return True


class _Log:
    """The write-ahead log of a connection, checkpointed before each step of a merge."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        (self.page_size,) = con.execute("PRAGMA page_size").fetchone()

    def held(self) -> bool:
        """Checkpoint the log without waiting: whether it has reached ``WAL_LIMIT_BYTES``
        and a reader holds frames of it that could not be copied back (a reader of an
        older snapshot, or one that kept the last write from starting the log again)."""
        _, frames, copied = self.con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(copied < frames and frames * self.page_size >= WAL_LIMIT_BYTES)


def _truncate_log(con: sqlite3.Connection) -> None:
    """Checkpoint the whole log and cut it to nothing, unless another connection is using
    it (then it is left as it is: this never waits)."""
    (timeout,) = con.execute("PRAGMA busy_timeout").fetchone()
    con.execute("PRAGMA busy_timeout = 0")
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def segments(con: sqlite3.Connection, index: str) -> int:
    """The parts (b-tree segments) ``index`` is in, read from its structure record: a
    4-byte cookie (plus a 4-byte marker in newer versions), then the varints of the number
    of levels and of segments."""
    row = con.execute(f"SELECT block FROM {index}_data WHERE id = 10").fetchone()
    if row is None or len(row[0]) < 6:
        return 0
    block: bytes = row[0]
    at = 8 if block[4:8] == b"\xff\x00\x00\x01" else 4
    _, at = _varint(block, at)
    count, _ = _varint(block, at)
    return count


def _varint(block: bytes, at: int) -> tuple[int, int]:
    """SQLite's varint at ``at``: its value and where the next one starts."""
    value = 0
    for k in range(9):
        byte = block[at]
        at += 1
        if k == 8:
            return (value << 8) | byte, at
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return value, at


def _set_automerge(con: sqlite3.Connection) -> None:
    # merge index segments 16 at a time instead of 4: a full ingest of the dev corpus
    # spends a fifth less on indexing, and searches take as long (kept in the index)
    for index in FTS_INDEXES:
        con.execute(f"INSERT INTO {index}({index}, rank) VALUES ('automerge', {FTS_AUTOMERGE})")
    set_crisismerge(con)


def crisismerge_set(con: sqlite3.Connection) -> bool:
    """Whether the indexes merge ``FTS_CRISISMERGE`` parts of a level at once (a store
    made before it has FTS5's default until its next write, ``set_crisismerge``)."""
    return all(
        con.execute(f"SELECT v FROM {index}_config WHERE k = 'crisismerge'").fetchone() == (FTS_CRISISMERGE,)
        for index in FTS_INDEXES
    )


def set_crisismerge(con: sqlite3.Connection) -> None:
    """Keep ``FTS_CRISISMERGE`` in the indexes (in a write transaction)."""
    for index in FTS_INDEXES:
        con.execute(f"INSERT INTO {index}({index}, rank) VALUES ('crisismerge', {FTS_CRISISMERGE})")


def _upgrade(con: sqlite3.Connection, location: str, version: int) -> None:
    """Bring a store of schema ``version`` up to ``SCHEMA_VERSION``, one step per version,
    in one transaction.

    Raises:
        StoreError: no step upgrades ``version`` (a newer store, or one too old).
    """
    if version > SCHEMA_VERSION or any(v not in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
        raise StoreError(
            f"store {location} has schema version {version}, this docbatch reads version {SCHEMA_VERSION}"
        )
    con.execute("BEGIN IMMEDIATE")
    try:
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](con)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def _index_codes_and_stems(con: sqlite3.Connection) -> None:
    """From version 3: passages get their ``codes`` and two indexes replace the one (exact
    words and Porter stems, each with the codes), rebuilt from the passages."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(passages)")}
    if "codes" not in columns:
        con.execute("ALTER TABLE passages ADD COLUMN codes TEXT NOT NULL DEFAULT ''")
    rows = con.execute("SELECT id, title, heading_path, text FROM passages").fetchall()
    con.executemany(
        "UPDATE passages SET codes = ? WHERE id = ?",
        ((codes(title, heading, text), id_) for id_, title, heading, text in rows),
    )
    con.execute("DROP TRIGGER IF EXISTS passages_ad")
    for index in FTS_INDEXES:
        con.execute(f"DROP TABLE IF EXISTS {index}")
    for statement in FTS_TABLES.split(";"):
        if statement.strip():
            con.execute(statement)
    for index in FTS_INDEXES:
        con.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
    _set_automerge(con)


_PASSAGE_PLACE = {"anchor": "TEXT NOT NULL DEFAULT ''", "line_start": "INTEGER", "line_end": "INTEGER"}


def _add_passage_places(con: sqlite3.Connection) -> None:
    """From version 4: passages get where they are in their source (``anchor``,
    ``line_start``, ``line_end``), empty until their document is written again."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(passages)")}
    for name, definition in _PASSAGE_PLACE.items():
        if name not in columns:
            con.execute(f"ALTER TABLE passages ADD COLUMN {name} {definition}")


def _add_passage_ranges(con: sqlite3.Connection) -> None:
    """From version 6: each source's range of passage ids (``record_passage_range``)."""
    con.execute(
        "INSERT OR REPLACE INTO passage_ranges (source, first, last) "
        "SELECT source, min(id), max(id) FROM passages GROUP BY source"
    )


def record_passage_range(con: sqlite3.Connection, source: str, first: int, last: int) -> None:
    """Widen ``source``'s range of passage ids to hold ``first`` to ``last`` (in a write
    transaction). A search of one source looks in its range of the index alone: the first
    passages of the index matching a common word are another source's when the sources
    were ingested one after another. Never narrowed: a bound, not the ids."""
    con.execute(
        "INSERT INTO passage_ranges (source, first, last) VALUES (?, ?, ?) ON CONFLICT (source) "
        "DO UPDATE SET first = min(first, excluded.first), last = max(last, excluded.last)",
        (source, first, last),
    )


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    3: _index_codes_and_stems,
    4: _add_passage_places,
    5: add_removed_passages,
    6: _add_passage_ranges,
}
"""The step that upgrades a store of each older schema version to the next one."""
