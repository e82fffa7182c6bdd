"""The tables of a SQLite store and how a connection makes them: the documents, passages
and sources tables, the FTS5 index of the passages and the trigger that unindexes deleted
passages, and the schema version this docbatch reads."""

from __future__ import annotations

import sqlite3

from docbatch.errors import StoreError

SCHEMA_VERSION = 3
FTS_AUTOMERGE = 16

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
    UNIQUE (source, doc_id, seq)
);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, heading_path, text,
    content='passages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    root TEXT,
    last_ingest TEXT
) WITHOUT ROWID;
DROP TRIGGER IF EXISTS passages_ai;
"""
# the sources table came after schema version 3: a store without it gets it when opened

DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, heading_path, text)
    VALUES ('delete', old.id, old.title, old.heading_path, old.text);
END
"""
"""Deleting a passage removes it from the index (passages are indexed in bulk when written)."""


def prepare_schema(con: sqlite3.Connection, location: str) -> None:
    """Make the tables ``con``'s file lacks, and check or record the schema version.

    Raises:
        StoreError: the file holds a docbatch schema of another version.
        sqlite3.Error: SQLite failed.
    """
    con.executescript(_SCHEMA)
    con.execute(DELETE_TRIGGER)
    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        # merge index segments 16 at a time instead of 4: a full ingest of the dev corpus
        # spends a fifth less on indexing, and searches take as long (kept in the index)
        con.execute(f"INSERT INTO passages_fts(passages_fts, rank) VALUES ('automerge', {FTS_AUTOMERGE})")
    elif int(row[0]) != SCHEMA_VERSION:
        raise StoreError(
            f"store {location} has schema version {row[0]}, this docbatch reads version {SCHEMA_VERSION}"
        )
