"""The optional hooks the protocols declare: ``outcomes`` on a progress sink, ``change_mark``
on a store. A sink or store without them works; one with them is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from docbatch import BatchIngestService, SQLiteStore
from docbatch.metrics import BatchProgress
from docbatch.run.kept import change_mark
from docbatch.run.runner import OutcomeSink
from docbatch.store.base import ChangeMarker, DocumentStore


class Bar:
    """A user's own sink, without the optional hook."""

    def __init__(self) -> None:
        self.updates = 0

    def start(self, progress: BatchProgress) -> None:
        pass

    def update(self, progress: BatchProgress, commit_row: dict[str, Any]) -> None:
        self.updates += 1

    def stop(self, progress: BatchProgress) -> None:
        pass


class FileList(Bar):
    """A sink that shows files too."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[pl.DataFrame] = []

    def outcomes(self, progress: BatchProgress | None, frame: pl.DataFrame) -> None:
        self.frames.append(frame)


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha\n")
    (docs / "b.md").write_text("# B\n\nbeta\n")
    (docs / "empty.md").write_text("")
    return docs


def test_a_sink_with_the_outcomes_hook_receives_every_row_and_one_without_still_works(
    tmp_path: Path,
) -> None:
    docs = _docs(tmp_path)
    assert isinstance(FileList(), OutcomeSink) and not isinstance(Bar(), OutcomeSink)
    with BatchIngestService(tmp_path / "s.db") as service:
        bar, files = Bar(), FileList()
        service.ingest_batch(docs, progress=[bar, files])
        assert bar.updates >= 1
        shown = pl.concat(files.frames)
        assert sorted(zip(shown["doc_id"], shown["status"], strict=True)) == [
            ("a.md", "succeeded"),
            ("b.md", "succeeded"),
            ("empty.md", "failed"),
        ]
        again = FileList()
        service.ingest_batch(docs, progress=again)  # nothing changed: rows decided before parsing
        assert sorted(pl.concat(again.frames)["status"]) == ["failed", "skipped", "skipped"]


class Delegating:
    """A store that keeps no change mark: it forwards the protocol's methods only."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner
        self.location = inner.location

    def __getattr__(self, name: str) -> Any:
        if name == "change_mark":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_a_store_declares_change_mark_through_its_protocol(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    sqlite = SQLiteStore(tmp_path / "s.db")
    plain = Delegating(sqlite)
    assert isinstance(sqlite, ChangeMarker) and not isinstance(plain, ChangeMarker)
    assert isinstance(plain, DocumentStore)
    before = change_mark(sqlite)
    assert before is not None and change_mark(plain) is None
    with BatchIngestService(plain) as service:  # a store without the hook is read each call
        assert service.ingest_batch(docs).succeeded == 2
        assert service.ingest_batch(docs).skipped == 2
        assert change_mark(sqlite) != before  # the hook itself answers what the writes did
