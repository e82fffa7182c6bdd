"""The in-memory store: injected write failures, as the runner meets them, and what it
shares with its other connections. (The store contract runs on it in test_contract.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from docbatch import BatchConfig
from docbatch.errors import StoreBusyError, StoreError
from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.state.checkpoint import Checkpoint
from docbatch.store import MemoryStore, open_store

if TYPE_CHECKING:
    from tests.conftest import MakeService

PATTERN = "guides/*.md,reference/*.md"
NO_TOUCH = pl.DataFrame(schema=TOUCHED)


def _slice(doc_id: str, *texts: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = pl.DataFrame(
        [
            {
                "doc_id": doc_id,
                "title": doc_id.upper(),
                "format": "markdown",
                "size": 1,
                "mtime_ns": 1,
                "content_hash": "h",
                "n_chars": 1,
                "n_passages": len(texts),
                "fingerprint": "fp",
            }
        ],
        schema=DOCUMENTS,
    )
    passages = pl.DataFrame(
        [(doc_id, i, f"{doc_id}-{i}", "", 0, len(t), t, "", None, None) for i, t in enumerate(texts)],
        schema=PASSAGES,
        orient="row",
    )
    return documents, passages


def test_a_transient_write_failure_is_retried_and_the_slice_lands_once(
    tmp_path: Path, sample_tree: Path, no_sleep: list[float], make_service: MakeService
) -> None:
    store = MemoryStore(fail_writes={2: "transient"})
    result = make_service(
        store=store,
        state_dir=tmp_path / "state",
        sleep=no_sleep.append,
        chunk_processing_size=3,
        max_retry_attempts=3,
        max_file_size=BatchConfig.max_file_size,
    ).ingest_batch(sample_tree, pattern=PATTERN, executor="serial")
    assert result.complete and result.failed == 0 and result.succeeded == result.total_files > 6
    commits = result.timeline.height
    assert store.write_calls == commits + 1  # the second commit was written twice
    assert no_sleep == [1.0]
    counts = store.counts()
    assert counts["documents"] == result.succeeded
    assert counts["passages"] == result.outcomes["n_passages"].sum()  # nothing written twice
    assert (result.outcomes["attempts"] == 1).all()


def test_a_terminal_write_failure_stops_the_run_and_the_next_call_completes_it(
    tmp_path: Path, sample_tree: Path, no_sleep: list[float], make_service: MakeService
) -> None:
    store = MemoryStore(fail_writes={3: "terminal"})
    service = make_service(
        store=store,
        state_dir=tmp_path / "state",
        sleep=no_sleep.append,
        chunk_processing_size=3,
        max_retry_attempts=3,
        max_file_size=BatchConfig.max_file_size,
    )
    with pytest.raises(StoreError, match="failure injected on call 3 of write_slice") as raised:
        service.ingest_batch(sample_tree, pattern=PATTERN, executor="serial")
    assert not isinstance(raised.value, StoreBusyError)
    assert store.write_calls == 3 and no_sleep == []  # not retried
    written = store.known_documents(Path(sample_tree).name)["doc_id"].to_list()
    assert len(written) == 6  # two slices of three committed, the third not at all

    checkpoint = Checkpoint(tmp_path / "state")
    manifest = json.loads((tmp_path / "state" / "run.json").read_text(encoding="utf-8"))
    assert manifest["state"] == "running"
    loaded = checkpoint.load(manifest["run_id"])
    assert loaded.problems == []
    assert sorted(loaded.outcomes.filter(status="succeeded")["doc_id"]) == sorted(written)

    again = service.ingest_batch(sample_tree, pattern=PATTERN, executor="serial")
    assert again.run_id == manifest["run_id"] and again.complete and again.failed == 0
    assert again.succeeded == again.total_files == store.counts()["documents"]
    assert again.outcomes["doc_id"].is_unique().all()
    assert store.counts()["passages"] == again.outcomes["n_passages"].sum()
    service.close()


def test_a_failed_write_changes_nothing() -> None:
    store = MemoryStore(fail_writes={2: "terminal"})
    store.write_slice("s", *_slice("a.md", "old text"), NO_TOUCH)
    mark = store.change_mark()
    with pytest.raises(StoreError):
        store.write_slice("s", *_slice("a.md", "new text"), NO_TOUCH)
    assert store.passages("s", "a.md")["text"].to_list() == ["old text"]
    assert store.change_mark() == mark
    store.write_slice("s", *_slice("a.md", "new text"), NO_TOUCH)
    assert store.passages("s", "a.md")["text"].to_list() == ["new text"]
    assert store.change_mark() != mark


def test_failures_of_deletes_a_range_of_calls_and_a_given_exception() -> None:
    store = MemoryStore(fail_deletes={1: "transient"})
    store.write_slice("s", *_slice("a.md", "x"), NO_TOUCH)
    with pytest.raises(StoreBusyError, match="call 1 of delete_documents"):
        store.delete_documents("s", ["a.md"])
    assert store.counts() == {"documents": 1, "passages": 1}
    assert store.delete_documents("s", ["a.md"]) == 1 and store.delete_calls == 2

    store.fail_write(2, "transient", times=2)
    store.fail_write(5, OSError("disk gone"))
    outcomes = []
    for _ in range(5):
        try:
            store.write_slice("s", *_slice("b.md", "y"), NO_TOUCH)
            outcomes.append("ok")
        except (StoreError, OSError) as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes == ["StoreBusyError", "StoreBusyError", "ok", "OSError", "ok"]  # calls 2 to 6
    store.fail_write(8, "terminal", times=None)
    store.write_slice("s", *_slice("c.md", "z"), NO_TOUCH)
    for _ in range(3):
        with pytest.raises(StoreError):
            store.write_slice("s", *_slice("c.md", "z"), NO_TOUCH)
    store.clear_failures()
    store.write_slice("s", *_slice("d.md", "w"), NO_TOUCH)
    assert sorted(store.known_documents("s")["doc_id"]) == ["b.md", "c.md", "d.md"]
    with pytest.raises(ValueError, match="counted from 1"):
        store.fail_write(0)


def test_connections_share_the_contents_and_not_the_failures() -> None:
    first = open_store("memory://shared")
    assert isinstance(first, MemoryStore) and first.location == "memory://shared"
    first.fail_write(1, "terminal")
    second = first.connect(busy_timeout_s=0.01)
    mark = first.change_mark()
    second.write_slice("s", *_slice("a.md", "wombat"), NO_TOUCH)
    assert first.change_mark() != mark
    assert first.search("WOMBAT")[["doc_id", "title", "score"]].rows() == [("a.md", "A.MD", 1.0)]
    with first.write_lock, pytest.raises(StoreBusyError, match="locked"):
        second.write_slice("s", *_slice("b.md", "x"), NO_TOUCH)
    second.close()
    with pytest.raises(StoreError, match="closed"):
        second.counts()
    assert first.counts() == {"documents": 1, "passages": 1}
