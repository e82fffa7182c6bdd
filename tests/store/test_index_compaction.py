"""After a run, the SQLite store merges its full-text indexes' parts when they are many
(every search reads each part): at once after a run that wrote much of the store, a
little at a time after small ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docbatch.store import sqlite
from docbatch.store.sqlite_schema import FTS_INDEXES, MAX_SEGMENTS, segments

if TYPE_CHECKING:
    from tests.conftest import MakeService


def _tree(root: Path, files: int, start: int = 0) -> Path:
    root.mkdir(exist_ok=True)
    for i in range(start, start + files):
        (root / f"page{i:03d}.md").write_text(f"# Page {i}\n\nWord{i} and the widget number {i}.\n")
    return root


def _segments(db: Path) -> list[int]:
    with sqlite3.connect(db) as con:
        return [segments(con, index) for index in FTS_INDEXES]


def test_a_run_that_wrote_the_store_leaves_its_index_in_one_part(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path / "docs", 120)
    service = make_service(max_batch_size=4)  # a commit every 4 files
    monkeypatch.setattr(sqlite, "compact", lambda con, written: None)
    service.ingest_batch(tree, pattern="*.md", progress=None, executor="serial")
    assert all(n > MAX_SEGMENTS for n in _segments(tmp_path / "s.db")), _segments(tmp_path / "s.db")
    monkeypatch.undo()
    service.ingest_batch(tree, pattern="*.md", progress=None, executor="serial", force=True)
    assert _segments(tmp_path / "s.db") == [1, 1]
    assert service.search("widget", limit=200).height == 120


def test_a_small_run_merges_the_parts_too(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path / "docs", 400)
    service = make_service(max_batch_size=4)
    monkeypatch.setattr(sqlite, "compact", lambda con, written: None)
    service.ingest_batch(tree, pattern="*.md", progress=None, executor="serial")
    before = _segments(tmp_path / "s.db")
    assert all(n > MAX_SEGMENTS for n in before)
    monkeypatch.undo()
    _tree(tree, 8, start=400)  # 8 passages written: 2% of the store
    service.ingest_batch(tree, pattern="*.md", progress=None, executor="serial")
    after = _segments(tmp_path / "s.db")
    assert all(a < b for a, b in zip(after, before, strict=True)), (before, after)
    assert service.search("widget", limit=1000).height == 408
