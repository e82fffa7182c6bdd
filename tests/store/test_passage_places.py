"""Stores keep where each passage is in its source (anchor and source lines), and search
hits carry them with the passage id; stores made before have the columns added."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from docbatch.frames import DOCUMENTS, PASSAGES, SEARCH_HITS, TOUCHED
from docbatch.store import DocumentStore, SQLiteStore, open_store
from docbatch.store.sqlite_schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from tests.conftest import MakeService

_PLACE = ["passage_id", "anchor", "line_start", "line_end"]


def _slice(doc_id: str = "guide.md") -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    docs = pl.DataFrame(
        [
            {
                "doc_id": doc_id,
                "title": "Guide",
                "format": "markdown",
                "size": 10,
                "mtime_ns": 1,
                "content_hash": "h",
                "n_chars": 40,
                "n_passages": 2,
                "fingerprint": "fp",
            }
        ],
        schema=DOCUMENTS,
    )
    passages = pl.DataFrame(
        [
            (doc_id, 0, "p-0", "Guide", 0, 20, "Guide\n\nwombat intro", "guide", 1, 3),
            (doc_id, 1, "p-1", "Guide > Notes", 22, 40, "Notes\n\nplatypus", "", None, None),
        ],
        schema=PASSAGES,
        orient="row",
    )
    return docs, passages, pl.DataFrame(schema=TOUCHED)


def test_passages_keep_anchor_and_lines(store: DocumentStore) -> None:
    store.write_slice("s", *_slice())
    stored = store.passages("s", "guide.md")
    assert stored.schema == pl.Schema(PASSAGES)
    assert stored.select(_PLACE).rows() == [("p-0", "guide", 1, 3), ("p-1", "", None, None)]


def test_search_hits_carry_the_passage_and_its_place(store: DocumentStore) -> None:
    store.write_slice("s", *_slice())
    hits = store.search("wombat")
    assert hits.schema == pl.Schema(SEARCH_HITS)
    assert hits.select("doc_id", "heading_path", *_PLACE).rows() == [
        ("guide.md", "Guide", "p-0", "guide", 1, 3)
    ]
    hits = store.search("platypus")
    assert hits.select(_PLACE).rows() == [("p-1", "", None, None)]


def test_a_passages_frame_without_the_place_columns_is_stored(store: DocumentStore) -> None:
    docs, passages, touched = _slice()
    store.write_slice("s", docs, passages.drop("anchor", "line_start", "line_end"), touched)
    assert store.passages("s", "guide.md").select(_PLACE).rows() == [
        ("p-0", "", None, None),
        ("p-1", "", None, None),
    ]


def test_an_older_sqlite_store_gets_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    docs, passages, touched = _slice()
    store.write_slice("s", docs, passages, touched)
    store.close()
    con = sqlite3.connect(path)
    with con:  # the store as the version before wrote it
        for column in ("anchor", "line_start", "line_end"):
            con.execute(f"ALTER TABLE passages DROP COLUMN {column}")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")  # before the columns
    con.close()

    store = SQLiteStore(path)
    try:
        assert store.passages("s", "guide.md").select(_PLACE).rows() == [
            ("p-0", "", None, None),
            ("p-1", "", None, None),
        ]
        assert store.search("wombat").select(_PLACE).rows() == [("p-0", "", None, None)]
        store.write_slice("s", docs, passages, touched)
        assert store.passages("s", "guide.md").select(_PLACE).rows()[0] == ("p-0", "guide", 1, 3)
    finally:
        store.close()
    con = sqlite3.connect(path)
    (version,) = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    con.close()
    assert int(version) == SCHEMA_VERSION


def test_an_older_postgres_store_gets_the_columns(postgres_schema_url: str) -> None:
    import psycopg

    from docbatch.store.postgres_schema import SCHEMA_VERSION as PG_VERSION

    store = open_store(postgres_schema_url)
    store.write_slice("s", *_slice())
    store.close()
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        for column in ("anchor", "line_start", "line_end"):
            conn.execute(f"ALTER TABLE passages DROP COLUMN {column}")
        conn.execute("UPDATE docbatch_meta SET value = '1' WHERE key = 'schema_version'")
    store = open_store(postgres_schema_url)
    try:
        assert store.passages("s", "guide.md").select(_PLACE).rows() == [
            ("p-0", "", None, None),
            ("p-1", "", None, None),
        ]
        store.write_slice("s", *_slice())
        assert store.search("wombat").select(_PLACE).rows() == [("p-0", "guide", 1, 3)]
    finally:
        store.close()
    with psycopg.connect(postgres_schema_url) as conn:
        row = conn.execute("SELECT value FROM docbatch_meta WHERE key = 'schema_version'").fetchone()
    assert row is not None and int(row[0]) == PG_VERSION


def test_an_ingest_stores_where_each_passage_is(tmp_path: Path, make_service: MakeService) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    source = "# Quick Start\n\nInstall the wombat.\n\n## Configure it {#config}\n\nSet the platypus.\n"
    (root / "guide.md").write_text(source)
    service = make_service(min_passage_chars=0)
    service.ingest_batch(root, pattern="**/*.md")
    hits = service.search("platypus")
    assert hits.select("doc_id", "anchor", "line_start", "line_end").rows() == [("guide.md", "config", 5, 7)]
    assert hits["passage_id"][0]
    hits = service.search("wombat")
    assert hits.select("anchor", "line_start", "line_end").rows() == [("quick-start", 1, 3)]
