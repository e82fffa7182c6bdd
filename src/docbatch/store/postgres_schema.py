"""The tables of a PostgreSQL store and how a connection makes them: created when missing
(``documents`` from the ``DOCUMENTS`` frame), brought up to date (the sources table, new
``DOCUMENTS`` columns), and checked for the schema version this docbatch reads."""

from __future__ import annotations

from typing import Any

import polars as pl
import psycopg
from psycopg import sql

from docbatch.errors import StoreError
from docbatch.frames import DOCUMENTS
from docbatch.store.postgres_lock import LOCK_CLASS
from docbatch.store.postgres_records import add_removed_passages
from docbatch.store.postgres_search import WORD_SEPARATORS

SCHEMA_VERSION = 4
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docbatch_meta (key text PRIMARY KEY, value text NOT NULL);
{documents}
CREATE TABLE IF NOT EXISTS passages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL,
    doc_id text NOT NULL,
    seq integer NOT NULL,
    passage_id text NOT NULL,
    title text,
    heading_path text NOT NULL,
    start bigint NOT NULL,
    "end" bigint NOT NULL,
    text text NOT NULL,
    anchor text NOT NULL DEFAULT '',
    line_start integer,
    line_end integer,
    {tsv},
    UNIQUE (source, doc_id, seq)
);
CREATE INDEX IF NOT EXISTS passages_tsv ON passages USING GIN (tsv);
"""
_CODES_FUNCTION = r"""
CREATE OR REPLACE FUNCTION docbatch_codes(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $codes$
SELECT coalesce(string_agg(DISTINCT c, ' '), '') FROM (
    SELECT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(lower(w), '+', '0p'), '#', '0h'), '.', '0d'), '-', '0m'), '_', '0u'),
        ':', '0c'), '/', '0s'), '@', '0a'), '$', '0v'), '<', '0l'), '>', '0g'), '=', '0e'), '~', '0t')
        AS c
    FROM (
        SELECT replace(replace(regexp_replace(regexp_replace(
            m[1], '^["''`,;()\[\]{}«»“”‘’|]+', ''), '["''`,;()\[\]{}«»“”‘’|.,;:?!]+$', ''),
            '&', '0n'), '%', '0r') AS w
        FROM regexp_matches(t, '(\S+)', 'g') AS m
    ) AS chunk
    WHERE length(w) <= 60 AND w ~ '[[:alnum:]]' AND w ~ '[^[:alnum:]]'
        AND w ~ '^[[:alnum:]+#.\-_:/@$<>=~0]+$'
    UNION ALL
    SELECT lower(m[1] || m[2] || m[3])
    FROM regexp_matches(t, '(?<![[:alnum:]_\]])([[:alpha:]]*)\[([[:alpha:]]{1,3})\]([[:alpha:]]+)', 'g') AS m
) AS codes
$codes$
"""
"""``docbatch.store.tokens.codes`` in SQL, for the generated ``tsv`` (the same codes for
the usual tokens; accents are not folded)."""
_TSV = """tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', translate(coalesce(title, ''), '{separators}', '{spaces}')), 'A')
        || setweight(to_tsvector('english', translate(heading_path, '{separators}', '{spaces}')), 'B')
        || setweight(to_tsvector('english', translate(text, '{separators}', '{spaces}')), 'D')
        || setweight(to_tsvector('simple', docbatch_codes(
            coalesce(title, '') || ' ' || heading_path || ' ' || text)), 'C')
    ) STORED,
    tsv_exact tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(
        coalesce(title, '') || ' ' || heading_path || ' ' || text, '{separators}', '{spaces}'
    ))) STORED"""
"""What a search matches (``tsv``: English stems of the title, heading path and text, and
the codes, each under its own weight) and the words as written (``tsv_exact``, ranking)."""
_SOURCES_TABLE = """
CREATE TABLE IF NOT EXISTS docbatch_sources (
    name text PRIMARY KEY,
    root text,
    last_ingest timestamptz
)
"""
"""Each source's root folder and last ingest (a store made before it gets it when opened)."""

_SCHEMA_READY = (
    "SELECT to_regclass('docbatch_meta') IS NOT NULL AND to_regclass('documents') IS NOT NULL "
    "AND to_regclass('passages_tsv') IS NOT NULL"
)
_SOURCES_READY = "SELECT to_regclass('docbatch_sources') IS NOT NULL"
_REQUIRED = frozenset(
    {"doc_id", "format", "size", "mtime_ns", "content_hash", "n_chars", "n_passages", "fingerprint"}
)
"""Columns of ``DOCUMENTS`` that are NOT NULL; any other (title, git metadata) may be null."""


def prepare_schema(conn: psycopg.Connection[Any], location: str) -> None:
    """Make the tables ``conn``'s database lacks and add missing columns, in one transaction.

    Raises:
        StoreError: the database holds a docbatch schema of another version.
        psycopg.Error: the server failed.
    """
    with conn.transaction():
        # CREATE INDEX IF NOT EXISTS would wait for every open write: only when needed
        (ready,) = conn.execute(_SCHEMA_READY).fetchone() or (False,)
        if not ready:
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            conn.execute(_CODES_FUNCTION)
            conn.execute(_SCHEMA.format(documents=_documents_table(), tsv=_tsv_columns()))
        (has_sources,) = conn.execute(_SOURCES_READY).fetchone() or (False,)
        if not has_sources:
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            conn.execute(_SOURCES_TABLE)
        _add_missing_columns(conn)
        _check_version(conn, location)


_PASSAGE_PLACE = {"anchor": "text NOT NULL DEFAULT ''", "line_start": "integer", "line_end": "integer"}
"""Columns of ``passages`` since version 2: where a passage is in its source (a store of
version 1 gets them when opened, empty: a document re-parsed fills them)."""


def _check_version(conn: psycopg.Connection[Any], location: str) -> None:
    row = conn.execute("SELECT value FROM docbatch_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO docbatch_meta (key, value) VALUES ('schema_version', %s)", (str(SCHEMA_VERSION),)
        )
        add_removed_passages(conn)
    elif int(row[0]) != SCHEMA_VERSION:
        version = int(row[0])
        if version > SCHEMA_VERSION or any(v not in _MIGRATIONS for v in range(version, SCHEMA_VERSION)):
            raise StoreError(
                f"store {location} has schema version {row[0]}, this docbatch reads version {SCHEMA_VERSION}"
            )
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
        for step in range(version, SCHEMA_VERSION):
            _MIGRATIONS[step](conn)
        conn.execute(
            "UPDATE docbatch_meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )


def _add_passage_place(conn: psycopg.Connection[Any]) -> None:
    """From version 1: the columns of ``_PASSAGE_PLACE``."""
    present = _columns(conn, "passages")
    for name, definition in _PASSAGE_PLACE.items():
        if name not in present:
            conn.execute(
                sql.SQL("ALTER TABLE passages ADD COLUMN IF NOT EXISTS {} {}").format(
                    sql.Identifier(name), sql.SQL(definition)
                )
            )


def _index_stems_and_codes(conn: psycopg.Connection[Any]) -> None:
    """From version 3: the one ``simple`` tsvector becomes ``tsv`` (stems, codes, weights)
    and ``tsv_exact``, computed again from every passage."""
    conn.execute("DROP INDEX IF EXISTS passages_tsv")
    conn.execute("ALTER TABLE passages DROP COLUMN IF EXISTS tsv, DROP COLUMN IF EXISTS tsv_exact")
    conn.execute(_CODES_FUNCTION)
    conn.execute(
        "ALTER TABLE passages ADD COLUMN " + _tsv_columns().replace("tsv_exact", "ADD COLUMN tsv_exact")
    )
    conn.execute("CREATE INDEX passages_tsv ON passages USING GIN (tsv)")


_MIGRATIONS = {1: _add_passage_place, 2: add_removed_passages, 3: _index_stems_and_codes}
"""The step that upgrades a store of each older schema version to the next one."""


def _tsv_columns() -> str:
    return _TSV.format(separators=WORD_SEPARATORS, spaces=" " * len(WORD_SEPARATORS))


def _sql_type(dtype: pl.DataType) -> str:
    """The PostgreSQL type of a polars column type."""
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    simple = {
        pl.Int64: "bigint",
        pl.Int32: "integer",
        pl.Int16: "smallint",
        pl.Float64: "double precision",
        pl.Float32: "real",
        pl.Boolean: "boolean",
        pl.Date: "date",
    }
    return next((sql_type for base, sql_type in simple.items() if dtype == base), "text")


def _column(name: str, dtype: pl.DataType) -> str:
    return f"{name} {_sql_type(dtype)}" + (" NOT NULL" if name in _REQUIRED else "")


def _documents_table() -> str:
    """The documents table: the source, the ``DOCUMENTS`` frame's columns, and when."""
    columns = ["source text NOT NULL", *(_column(n, t) for n, t in DOCUMENTS.items())]
    columns += ["ingested_at timestamptz NOT NULL DEFAULT now()", "PRIMARY KEY (source, doc_id)"]
    return "CREATE TABLE IF NOT EXISTS documents (\n    " + ",\n    ".join(columns) + "\n);"


def _add_missing_columns(conn: psycopg.Connection[Any]) -> None:
    """Columns added to ``DOCUMENTS`` since the table was made are added (empty, so the
    planner re-parses those documents)."""
    present = _columns(conn, "documents")
    for name, dtype in DOCUMENTS.items():
        if name not in present:
            conn.execute(
                sql.SQL("ALTER TABLE documents ADD COLUMN {} {}").format(
                    sql.Identifier(name), sql.SQL(_sql_type(dtype))
                )
            )


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    """The names of ``table``'s columns."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND table_schema = current_schema()",
        (table,),
    ).fetchall()
    return {name for (name,) in rows}
