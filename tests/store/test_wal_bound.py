"""The SQLite store's write-ahead log stays within a bound that does not grow with the
store: no commit of a run merges the full-text indexes' parts at once, merging them after
a run goes in steps of their own transactions, checkpointed in between (stopping while a
reader holds the log), and a log once grown is cut back."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest

from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.store import SQLiteStore, sqlite_schema
from docbatch.store.sqlite_schema import FTS_INDEXES, MAX_SEGMENTS, segments

MB = 1024 * 1024
STEP_PAGES = 64
"""The merge step of these tests (a step of 64 pages of 40 parts' index holds 1.5 MB in the
log)."""


def _words(seed: int) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(20000)]


def _slice(rng: random.Random, words: list[str], name: str, docs: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    documents, passages = [], []
    for d in range(docs):
        doc_id = f"{name}-{d}.md"
        documents.append(
            {"doc_id": doc_id, "title": f"Page {name} {d}", "format": "markdown", "size": 1, "mtime_ns": 1}
            | {"content_hash": "h", "n_chars": 1, "n_passages": 2, "fingerprint": "fp"}
        )
        for seq in range(2):
            text = ("widget " if seq == 0 else "") + " ".join(rng.choice(words) for _ in range(60))
            passages.append(
                {"doc_id": doc_id, "seq": seq, "passage_id": f"{doc_id}#{seq}", "heading_path": "Intro"}
                | {"start": 0, "end": len(text), "text": text, "anchor": "", "line_start": 1, "line_end": 2}
            )
    return pl.DataFrame(documents, schema=DOCUMENTS), pl.DataFrame(passages, schema=PASSAGES)


def _write(store: SQLiteStore, slices: int, docs: int = 50, seed: int = 7, *, merging: bool = False) -> int:
    """``slices`` commits of ``docs`` documents of two passages each (the first of them
    holds "widget"); the passages written. Unless ``merging``, the index is not merged
    while they are written: a part each."""
    if not merging:
        _automerge(store, 0)
    rng, words = random.Random(seed), _words(seed)
    for s in range(slices):
        documents, passages = _slice(rng, words, f"s{seed}-{s}", docs)
        store.write_slice("src", documents, passages, pl.DataFrame(schema=TOUCHED))
    _automerge(store, sqlite_schema.FTS_AUTOMERGE)
    return slices * docs * 2


def _automerge(store: SQLiteStore, parts: int) -> None:
    for index in FTS_INDEXES:
        store._con.execute(f"INSERT INTO {index}({index}, rank) VALUES ('automerge', {parts})")


class _WalPeak:
    """The largest size the store's ``-wal`` file reaches, from empty (the log checkpointed
    and cut to nothing when entered), read before every statement the store's connection
    runs (the file grows only while a statement writes)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.wal = Path(f"{store.path}-wal")
        self.con: sqlite3.Connection = store._con
        self.peak = 0

    def sample(self, _statement: object = None) -> None:
        self.peak = max(self.peak, self.size())

    def size(self) -> int:
        return self.wal.stat().st_size if self.wal.exists() else 0

    def __enter__(self) -> _WalPeak:
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.peak = self.size()
        self.con.set_trace_callback(self.sample)
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.set_trace_callback(None)
        self.sample()


def _hits(store: SQLiteStore) -> list[list[str]]:
    """What a few searches find: the word of every document's first passage, and words of
    the text."""
    return [store.search(word, limit=3000)["passage_id"].to_list() for word in ["widget", *_words(7)[:6]]]


def _index_bytes(db: Path) -> int:
    with closing(sqlite3.connect(db)) as con:
        (size,) = con.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN (?, ?)", tuple(f"{i}_data" for i in FTS_INDEXES)
        ).fetchone()
    return int(size)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def test_merging_a_large_index_holds_a_step_in_the_log_not_the_index(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _write(store, 40)
    parts = [segments(store._con, index) for index in FTS_INDEXES]
    assert all(n > MAX_SEGMENTS for n in parts), parts
    index = _index_bytes(store.path)
    assert index > 3 * MB, index
    hits = _hits(store)
    assert len(hits[0]) == written // 2
    monkeypatch.setattr(sqlite_schema, "MERGE_STEP_PAGES", STEP_PAGES)

    with _WalPeak(store) as wal:
        store.compact_index(written)  # the run wrote the whole store: merged into one part

    assert [segments(store._con, index) for index in FTS_INDEXES] == [1, 1]
    assert wal.peak < 2 * MB < index / 3, (wal.peak, index)
    assert wal.size() == 0  # checkpointed and cut back when the merge is done
    assert _hits(store) == hits


def test_a_small_run_merges_in_steps_too(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(store, 40)
    written = _write(store, 1, seed=8)  # 100 passages: a small share of the store
    before = [segments(store._con, index) for index in FTS_INDEXES]
    hits = _hits(store)
    monkeypatch.setattr(sqlite_schema, "MIN_MERGE_PAGES", 16 * STEP_PAGES)
    monkeypatch.setattr(sqlite_schema, "MERGE_STEP_PAGES", STEP_PAGES)

    with _WalPeak(store) as wal:
        store.compact_index(written)

    after = [segments(store._con, index) for index in FTS_INDEXES]
    assert all(a < b for a, b in zip(after, before, strict=True)), (before, after)
    assert wal.peak < 2 * MB, wal.peak
    assert _hits(store) == hits


def test_a_merge_stops_while_a_reader_keeps_the_log_from_being_checkpointed(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _write(store, 40)
    hits = _hits(store)
    monkeypatch.setattr(sqlite_schema, "MERGE_STEP_PAGES", STEP_PAGES)
    monkeypatch.setattr(sqlite_schema, "WAL_LIMIT_BYTES", 2 * MB)
    reader = sqlite3.connect(store.path, isolation_level=None)

    with _WalPeak(store) as wal:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM passages").fetchone()  # holds its snapshot
        store.compact_index(written)

    # the log could not be checkpointed past the reader: the merge stopped near the limit
    assert wal.peak < 4 * MB, wal.peak
    assert _hits(store) == hits
    assert any(segments(store._con, index) > 1 for index in FTS_INDEXES)
    reader.execute("COMMIT")
    reader.close()
    store.compact_index(written)  # merged later, once nothing holds the log
    assert [segments(store._con, index) for index in FTS_INDEXES] == [1, 1]
    assert _hits(store) == hits


def test_a_log_grown_by_a_large_commit_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_schema, "WAL_LIMIT_BYTES", MB // 4)
    store = SQLiteStore(tmp_path / "s.db")
    wal = Path(f"{store.path}-wal")
    rng, words = random.Random(7), _words(7)
    store.write_slice("src", *_slice(rng, words, "big", 1200), pl.DataFrame(schema=TOUCHED))
    grown = wal.stat().st_size
    assert grown > 4 * MB, grown  # one commit is whole in the log, whatever the limit
    for k in range(3):  # the next commits start the log again once it is checkpointed
        store.write_slice("src", *_slice(rng, words, f"small{k}", 1), pl.DataFrame(schema=TOUCHED))
    assert wal.stat().st_size <= MB // 4, wal.stat().st_size
    store.close()


def test_no_commit_of_a_long_run_merges_the_index_at_once(store: SQLiteStore) -> None:
    """FTS5 merged 16 parts of a level in the commit that made the 16th: the 256th commit
    rewrote the first 256 commits' index (the 4096th, nearly the whole index)."""
    rng, words = random.Random(7), _words(7)
    store._con.execute("PRAGMA synchronous = OFF")  # a checkpoint a commit: no waits on the disk
    largest = 0
    for s in range(260):
        store._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log holds the next commit alone
        store.write_slice("src", *_slice(rng, words, f"c{s}", 20), pl.DataFrame(schema=TOUCHED))
        largest = max(largest, Path(f"{store.path}-wal").stat().st_size)
    index = _index_bytes(store.path)
    assert largest < index / 4, (largest, index)


def test_a_store_made_before_merges_a_little_at_each_commit_once_written(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as con:  # as an earlier docbatch made it
        for index in FTS_INDEXES:
            con.execute(f"DELETE FROM {index}_config WHERE k = 'crisismerge'")
    store = SQLiteStore(path)
    _write(store, 1)
    store.close()
    with closing(sqlite3.connect(path)) as con:
        for index in FTS_INDEXES:
            (value,) = con.execute(f"SELECT v FROM {index}_config WHERE k = 'crisismerge'").fetchone()
            assert value == sqlite_schema.FTS_CRISISMERGE
