from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import polars as pl
import pytest

from docbatch.errors import ConfigError, QueryError, StoreBusyError, StoreError
from docbatch.frames import DOCUMENTS, PASSAGES, SEARCH_HITS, TOUCHED
from docbatch.store import SQLiteStore, open_store
from docbatch.store.query import to_fts5


def _docs(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(doc_id, title, "markdown", 10, 1, digest, 5, 1, "fp") for doc_id, title, digest in rows],
        schema=DOCUMENTS,
        orient="row",
    )


def _passages(doc_id: str, *texts: str) -> pl.DataFrame:
    return pl.DataFrame(
        [(doc_id, i, f"{doc_id}-{i}", "Head", 0, len(t), t) for i, t in enumerate(texts)],
        schema=PASSAGES,
        orient="row",
    )


NO_TOUCH = pl.DataFrame(schema=TOUCHED)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def test_write_and_search(store: SQLiteStore) -> None:
    store.write_slice(
        "src",
        _docs(("a.md", "Alpha", "h1"), ("b.md", "Beta", "h2")),
        pl.concat(
            [
                _passages("a.md", "install the widget", "configure things"),
                _passages("b.md", "widget removal guide"),
            ]
        ),
        NO_TOUCH,
    )
    hits = store.search("widget")
    assert hits.schema == pl.Schema(SEARCH_HITS)
    assert set(hits["doc_id"]) == {"a.md", "b.md"}
    assert hits["score"].is_sorted(descending=True)
    assert "[widget]" in hits.filter(pl.col("doc_id") == "a.md")["snippet"][0]
    assert store.search("install widget")["doc_id"].to_list() == ["a.md"]
    assert store.counts() == {"documents": 2, "passages": 3}


def test_rewriting_a_document_replaces_all_its_passages(store: SQLiteStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h1")), _passages("a.md", "one", "two", "three"), NO_TOUCH)
    store.write_slice("s", _docs(("a.md", "A", "h2")), _passages("a.md", "uno"), NO_TOUCH)
    assert store.passages("s", "a.md")["text"].to_list() == ["uno"]
    assert store.search("three").height == 0
    assert store.known_documents("s")["content_hash"].to_list() == ["h2"]


def test_sources_are_separate(store: SQLiteStore) -> None:
    store.write_slice("one", _docs(("a.md", "A", "h")), _passages("a.md", "shared word"), NO_TOUCH)
    store.write_slice("two", _docs(("a.md", "A", "h")), _passages("a.md", "shared word"), NO_TOUCH)
    assert store.search("shared").height == 2
    assert store.search("shared", source="two")["source"].to_list() == ["two"]
    assert store.known_documents("one").height == 1


def test_touched_updates_size_and_mtime_only(store: SQLiteStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "text"), NO_TOUCH)
    touched = pl.DataFrame({"doc_id": ["a.md"], "size": [10], "mtime_ns": [99]}, schema=TOUCHED)
    store.write_slice("s", _docs(), _passages("x"), touched)
    assert store.known_documents("s").row(0) == ("a.md", 10, 99, "h", "fp")
    assert store.passages("s", "a.md")["text"].to_list() == ["text"]


def test_a_failed_write_leaves_nothing_behind(store: SQLiteStore) -> None:
    bad = _passages("a.md", "one").with_columns(seq=pl.lit(None, dtype=pl.Int32))
    with pytest.raises(StoreError):
        store.write_slice("s", _docs(("a.md", "A", "h")), bad, NO_TOUCH)
    assert store.counts() == {"documents": 0, "passages": 0}


def test_locked_store_is_a_transient_busy_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", busy_timeout_s=0.05)
    blocker = sqlite3.connect(tmp_path / "s.db")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="locked"):
            store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "x"), NO_TOUCH)
    finally:
        blocker.rollback()
        blocker.close()
    store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "x"), NO_TOUCH)
    assert store.counts()["documents"] == 1


@pytest.mark.parametrize("query", ["c++", "foo-bar", "what's new?", "path:docs", "NEAR(a b)"])
def test_user_text_never_breaks_the_match_syntax(store: SQLiteStore, query: str) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h")),
        _passages("a.md", "c++ and foo-bar: what's new? path:docs"),
        NO_TOUCH,
    )
    assert isinstance(store.search(query), pl.DataFrame)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced', "unbalanced double quote"),
        ("", "empty search query"),
        ("OR", "no words"),
        ("widget OR", "operator needs words"),
    ],
)
def test_malformed_queries_give_clear_errors(store: SQLiteStore, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        store.search(query)


def test_query_translation() -> None:
    assert to_fts5('install c++ "quick start" OR setup*') == '"install" "c++" "quick start" OR "setup"*'
    assert to_fts5("NOT x") == 'NOT "x"'


def test_phrase_and_prefix_search(store: SQLiteStore) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h"), ("b.md", "B", "h")),
        pl.concat([_passages("a.md", "quick start guide"), _passages("b.md", "start quick")]),
        NO_TOUCH,
    )
    assert store.search('"quick start"')["doc_id"].to_list() == ["a.md"]
    assert set(store.search("gui*")["doc_id"]) == {"a.md"}


def test_open_store_specs(tmp_path: Path, store: SQLiteStore) -> None:
    assert open_store(store) is store
    assert isinstance(open_store(str(tmp_path / "x.db")), SQLiteStore)
    assert open_store(f"sqlite:///{tmp_path / 'y.db'}").location == str(tmp_path / "y.db")
    with pytest.raises(ConfigError, match="no store for scheme 'mongodb'"):
        open_store("mongodb://host/db")


def test_unopenable_store_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        SQLiteStore(tmp_path / "garbage.db")


def test_readers_see_committed_slices_only(tmp_path: Path) -> None:
    writer = SQLiteStore(tmp_path / "s.db")
    writer.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "first"), NO_TOUCH)
    seen: list[int] = []
    reader = threading.Thread(
        target=lambda: seen.append(SQLiteStore(tmp_path / "s.db").counts()["documents"])
    )
    reader.start()
    reader.join()
    assert seen == [1]
