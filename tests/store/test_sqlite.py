"""What only the SQLite store does; the behaviour every store shares is tested in
``tests/store/test_contract.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docbatch.errors import ConfigError, StoreError
from docbatch.store import SQLiteStore, open_store
from docbatch.store.query import to_fts5
from docbatch.store.sqlite_schema import FTS_AUTOMERGE


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def test_query_translation() -> None:
    assert to_fts5('install c++ "quick start" OR setup*') == '"install" "c++" "quick start" OR "setup"*'
    assert to_fts5("NOT x") == 'NOT "x"'


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


def test_a_new_store_merges_index_segments_sixteen_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    reopened = SQLiteStore(path)  # set once, when the store is created; kept in the index
    (value,) = reopened._con.execute("SELECT v FROM passages_fts_config WHERE k = 'automerge'").fetchone()
    assert value == FTS_AUTOMERGE == 16
    reopened.close()


def test_the_change_mark_moves_with_every_commit_by_anyone(tmp_path: Path) -> None:
    import polars as pl

    from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED

    def one_document(store: SQLiteStore, doc_id: str) -> None:
        doc = {"doc_id": doc_id, "format": "text", "size": 1, "mtime_ns": 1, "content_hash": "h"}
        doc |= {"n_chars": 1, "n_passages": 0, "fingerprint": "fp"}
        store.write_slice(
            "s",
            pl.DataFrame([doc], schema=DOCUMENTS),
            pl.DataFrame(schema=PASSAGES),
            pl.DataFrame(schema=TOUCHED),
        )

    ours, theirs = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
    mark = ours.change_mark()
    ours.known_documents("s")
    ours.search("anything")
    assert ours.change_mark() == mark  # reading changes nothing
    one_document(ours, "a.txt")
    assert ours.change_mark() != mark  # a commit of its own
    mark = ours.change_mark()
    one_document(theirs, "b.txt")
    assert ours.change_mark() != mark  # a commit through another connection
    mark = ours.change_mark()
    assert theirs.delete_documents("s", ["a.txt"]) == 1
    assert ours.change_mark() != mark
    ours.close()
    theirs.close()


def test_known_documents_read_in_parts_are_the_whole_source(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl

    from docbatch.frames import DOCUMENTS, KNOWN_DOCUMENTS, PASSAGES, TOUCHED
    from docbatch.store import sqlite as sqlite_module

    docs = pl.DataFrame(
        [
            {"doc_id": f"d{i}.md", "title": "t", "format": "markdown", "size": i, "mtime_ns": 10 * i}
            | {"content_hash": f"h{i}", "n_chars": 1, "n_passages": 0, "fingerprint": "fp"}
            for i in range(7)
        ],
        schema=DOCUMENTS,
    )
    store.write_slice("s", docs, pl.DataFrame(schema=PASSAGES), pl.DataFrame(schema=TOUCHED))
    whole = store.known_documents("s").sort("doc_id")
    monkeypatch.setattr(sqlite_module, "ROWS_PER_READ", 3)
    assert store.known_documents("s").sort("doc_id").equals(whole)
    assert whole.height == 7 and whole.schema == pl.Schema(KNOWN_DOCUMENTS)
    assert whole["mtime_ns"].to_list() == [10 * i for i in range(7)]
    assert store.known_documents("none").schema == pl.Schema(KNOWN_DOCUMENTS)


def test_known_documents_read_through_adbc_are_those_sqlite3_reads(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl

    from docbatch.frames import DOCUMENTS, KNOWN_DOCUMENTS, PASSAGES, TOUCHED
    from docbatch.store import sqlite_arrow

    ids = ["a.md", "it's.md", "naïve/ü.md", 'q"uote.md', "z/日本.md", "zz.md"]
    docs = pl.DataFrame(
        [
            {"doc_id": d, "title": "t", "format": "markdown", "size": i, "mtime_ns": 2**62 + i}
            | {"content_hash": f"h{i}", "n_chars": 1, "n_passages": 0, "fingerprint": f"fp{i}"}
            for i, d in enumerate(ids)
        ],
        schema=DOCUMENTS,
    )
    store.write_slice("s", docs, pl.DataFrame(schema=PASSAGES), pl.DataFrame(schema=TOUCHED))
    ranges = [(None, None), (None, "it's.md"), ("it's.md", 'q"uote.md'), ("z/日本.md", None), ("zz.md", None)]
    read = {bounds: store.known_documents_between("s", *bounds) for bounds in ranges}
    assert store._arrow._connection is not None  # read through ADBC
    assert read[(None, None)]["doc_id"].to_list() == sorted(ids, key=str.encode)
    assert read[("it's.md", 'q"uote.md')]["doc_id"].to_list() == ["naïve/ü.md", 'q"uote.md']
    assert read[(None, None)]["mtime_ns"].to_list()[0] == 2**62
    assert all(frame.schema == pl.Schema(KNOWN_DOCUMENTS) for frame in read.values())
    assert read[("zz.md", None)].height == 0

    # without the driver, or when it cannot read, the rows are the same through sqlite3
    def unavailable(uri: str) -> None:
        raise OSError("no driver here")

    monkeypatch.setattr("adbc_driver_sqlite.connect", unavailable)
    fallback = SQLiteStore(store.path)
    for bounds, frame in read.items():
        assert fallback.known_documents_between("s", *bounds).equals(frame)
    assert fallback._arrow._connection is None
    fallback.close()
    monkeypatch.setattr(sqlite_arrow.ArrowReads, "frame", lambda *args: None)
    assert store.known_documents("s").equals(read[(None, None)])
