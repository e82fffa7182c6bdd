"""End-to-end behaviour of BatchIngestService on real files and the real SQLite store."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService, ConfigError, IngestResult, RootError
from docbatch.formats import ParsedDocument
from docbatch.frames import OUTCOMES, TIMELINE
from docbatch.sample import BAD_FILES, HIDDEN_FILES, KNOWN_WORDS, SAMPLE_MAX_FILE_SIZE, sample_files
from docbatch.sample import SAMPLE_PATTERN as ALL_FORMATS

if TYPE_CHECKING:
    from tests.conftest import MakeService

GOOD = sorted(p for p in sample_files() if p not in BAD_FILES and p not in HIDDEN_FILES)


def test_first_run_ingests_every_good_file_and_reports_every_bad_one(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    assert result.outcomes.schema == pl.Schema(OUTCOMES)
    assert result.outcomes["doc_id"].to_list() == sorted(result.outcomes["doc_id"])
    assert result.timeline.schema == pl.Schema(TIMELINE)
    assert result.total_files == len(GOOD) + len(BAD_FILES) + 1  # and the hidden .drafts/ folder's row
    assert sorted(result.outcomes.filter(status="succeeded")["doc_id"]) == GOOD
    failed = {e["doc_id"]: e for e in result.errors}
    assert set(failed) == set(BAD_FILES)
    expected_words = {
        "empty": "empty file",
        "binary": "binary content",
        "encoding": "not valid UTF-8",
        "too_large": "over max_file_size",
    }
    for doc_id, kind in BAD_FILES.items():
        assert failed[doc_id]["category"] == "validation"
        assert expected_words[kind] in failed[doc_id]["message"]
        assert failed[doc_id]["type"] == "ValidationError"
        assert failed[doc_id]["path"].endswith(doc_id)
    assert result.succeeded == len(GOOD) and result.failed == len(BAD_FILES)
    assert result.skipped == 1  # the hidden .drafts/ folder
    assert result.files_per_second > 0 and result.peak_memory_mb > 10
    assert service.backend.counts()["documents"] == len(GOOD)
    ok = result.outcomes.filter(status="succeeded")
    assert (ok["n_passages"] > 0).all() and ok["content_hash"].str.len_chars().eq(64).all()


def test_known_words_are_found_in_their_file(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    for word, doc_id in KNOWN_WORDS.items():
        hits = service.search(word)
        assert hits["doc_id"].to_list()[:1] == [doc_id], word
        assert hits["source"][0] == "sample_docs"


def test_reports_have_the_seed_shape(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> None:
    result = make_service().ingest_batch(sample_tree, pattern=ALL_FORMATS)
    errors = json.loads(Path(result.reports["errors"]).read_text())
    assert set(errors) == {"timestamp", "total_errors", "error_summary", "errors"}
    assert errors["total_errors"] == len(BAD_FILES) == len(errors["errors"])
    assert errors["error_summary"] == {"validation": len(BAD_FILES)}
    perf = json.loads(Path(result.reports["performance"]).read_text())
    assert perf["run_id"] == result.run_id and perf["state"] == "complete"
    assert perf["succeeded"] == len(GOOD)
    assert perf["configuration"]["max_file_size"] == SAMPLE_MAX_FILE_SIZE
    assert pl.read_parquet(result.reports["outcomes"]).equals(result.outcomes)
    assert pl.read_parquet(result.reports["timeline"]).height == result.timeline.height > 0
    assert Path(result.reports["errors"]).parent == tmp_path / "s.state"


def test_second_run_skips_unchanged_files_without_reading_them(
    tmp_path: Path,
    sample_tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_service: MakeService,
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    import docbatch.work.worker as worker

    opened: list[str] = []
    real_open = worker.RootFiles.open

    def recording_open(self: worker.RootFiles, path: str, doc_id: str) -> int:
        opened.append(path)
        return real_open(self, path, doc_id)

    monkeypatch.setattr(worker.RootFiles, "open", recording_open)
    again = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    assert again.skipped == len(GOOD) + 1 and again.succeeded == 0  # and the hidden .drafts/
    assert all(Path(p).relative_to(sample_tree).as_posix() in BAD_FILES for p in opened)
    skipped = again.outcomes.filter(status="skipped").filter(pl.col("doc_id") != ".drafts/")
    assert (skipped["reason"] == "same size and mtime as stored").all()


def test_touched_but_identical_file_is_not_rewritten(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    target = sample_tree / "guides" / "installation.md"
    before = service.backend.passages("sample_docs", "guides/installation.md")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    row = result.outcomes.filter(doc_id="guides/installation.md").row(0, named=True)
    assert row["status"] == "skipped" and "content unchanged" in row["reason"]
    assert service.backend.passages("sample_docs", "guides/installation.md").equals(before)
    third = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    assert (
        third.outcomes.filter(doc_id="guides/installation.md")["reason"][0] == "same size and mtime as stored"
    )


def test_changed_file_replaces_its_passages(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    target = sample_tree / "guides" / "installation.md"
    target.write_text("# Installation\n\nNow it is only about the pangolin.\n")
    result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    assert result.outcomes.filter(doc_id="guides/installation.md")["status"][0] == "succeeded"
    assert result.succeeded == 1
    stored = service.backend.passages("sample_docs", "guides/installation.md")
    assert stored["text"].to_list() == ["Installation\n\nNow it is only about the pangolin."]
    assert service.search("pangolin")["doc_id"].to_list() == ["guides/installation.md"]


def test_force_reingests_everything(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    passages = service.backend.counts()["passages"]
    forced = service.ingest_batch(sample_tree, pattern=ALL_FORMATS, force=True)
    assert forced.succeeded == len(GOOD) and forced.skipped == 1  # the hidden .drafts/ folder
    assert service.backend.counts()["passages"] == passages


def test_a_limit_leaves_the_rest_pending_and_the_next_call_continues(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=3)
    first = service.ingest_batch(sample_tree, pattern=ALL_FORMATS, limit=7)
    assert first.pending > 0 and not first.complete
    processed = first.succeeded + first.failed
    todo = len(GOOD) + len(BAD_FILES) - 2  # empty and too-large files are rejected at inventory
    assert processed - 2 == 7 and first.pending == todo - 7
    assert (first.outcomes.filter(status="pending")["reason"].str.contains("limit")).all()
    calls = 1
    result = first
    while result.pending:
        result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS, limit=7)
        assert result.run_id == first.run_id
        ids = result.outcomes["doc_id"].to_list()
        assert ids == sorted(ids)  # earlier calls', this call's and pending rows, interleaved
        calls += 1
    assert calls == 1 + -(-(todo - 7) // 7)
    assert sorted(result.outcomes.filter(status="succeeded")["doc_id"]) == GOOD
    assert result.outcomes["doc_id"].is_unique().all()
    assert service.backend.counts()["documents"] == len(GOOD)
    assert result.timeline["run_id"].unique().to_list() == [first.run_id]


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, "10"])
def test_a_bad_limit_is_refused_before_anything_is_done(
    tmp_path: Path, sample_tree: Path, limit: object, make_service: MakeService
) -> None:
    service = make_service()
    with pytest.raises(ConfigError, match="limit=.* is not allowed: expected a whole number >= 1"):
        service.ingest_batch(sample_tree, pattern=ALL_FORMATS, limit=limit)  # type: ignore[arg-type]
    assert not (tmp_path / "s.state" / "outcomes").exists()


def test_one_call_ingests_the_whole_tree_in_batches_of_max_batch_size(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(45):
        (root / f"{i:02}.md").write_text(f"# Page {i}\n\nText {i}.\n")
    service = make_service(max_batch_size=10, chunk_processing_size=4)
    result = service.ingest_batch(root, executor="serial")
    assert (result.succeeded, result.pending, result.complete) == (45, 0, True)
    assert service.progress.total_files == service.progress.processed == 45
    timeline = result.timeline
    assert timeline["batch"].unique().sort().to_list() == [0, 1, 2, 3, 4]
    per_batch = timeline.group_by("batch").agg(pl.col("commit_files").sum()).sort("batch")
    assert per_batch["commit_files"].to_list() == [10, 10, 10, 10, 5]  # no commit spans two batches


def test_the_seed_monitoring_loop_ends_on_a_tree_larger_than_max_batch_size(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(60):
        (root / f"{i:02}.md").write_text(f"# Page {i}\n\nText {i}.\n")
    service = make_service(max_batch_size=7, chunk_processing_size=5)
    progress = service.progress
    seen_totals: set[int] = set()

    def monitor_progress() -> None:  # the seed's loop, polling faster
        while progress.processed < progress.total_files:
            seen_totals.add(progress.total_files)
            service.get_processing_metrics(progress)
            time.sleep(0.001)

    monitor = threading.Thread(target=monitor_progress, daemon=True)
    monitor.start()
    service.ingest_batch(root, executor="serial")
    monitor.join(timeout=10)
    assert not monitor.is_alive(), "the monitoring loop did not end"
    assert progress.processed == progress.total_files == 60
    assert seen_totals <= {1, 60}  # 1 before the files are listed, then the run's total
    assert service.backend.counts()["documents"] == 60


def title_is_the_worker_pid(text: str) -> ParsedDocument:
    from dataclasses import replace

    from docbatch.formats import get_parser

    return replace(get_parser("markdown")(text), title=str(os.getpid()))


def test_calls_that_leave_files_pending_keep_their_workers_for_the_next_call(tmp_path: Path) -> None:
    import psutil

    root = tmp_path / "docs"
    root.mkdir()
    for i in range(24):
        (root / f"{i:02}.md").write_text(f"# Page {i}\n\nText {i}.\n")
    config = BatchConfig(chunk_processing_size=2)
    service = BatchIngestService(
        tmp_path / "s.db", ingest_service={"markdown": title_is_the_worker_pid}, config=config
    )
    calls: list[IngestResult] = []
    kept_after: list[set[int]] = []
    while not calls or calls[-1].pending:
        calls.append(service.ingest_batch(root, executor="process", workers=2, limit=8))
        kept = {c.pid for c in psutil.Process().children() if "resource_tracker" not in " ".join(c.cmdline())}
        assert bool(kept) == bool(calls[-1].pending)  # stopped once nothing is left
        kept_after.append(kept)
    assert len(calls) == 3
    pids = [{int(t) for t in c.outcomes.filter(pl.col("commit").is_not_null())["title"] if t} for c in calls]
    # the workers of the later calls are the ones the first call started and kept (which
    # of the two parsed a given slice is the pool's choice)
    assert pids[0] and len(kept_after[0]) == 2 and pids[1] | pids[2] <= kept_after[0]
    assert calls[-1].succeeded == 24
    assert [c.handled_files for c in calls] == [8, 8, 8]  # files/s is per call


class _DoneAtOnce(Executor):
    """Runs each slice as it is submitted: every queued slice is back when the driver looks."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN002, ANN003, ANN201
        future: Future[object] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_slices_back_together_are_committed_together(
    tmp_path: Path, sample_tree: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbatch.state.checkpoint import Checkpoint

    written: list[Path] = []
    write_part = Checkpoint.write_part

    def recorded(self: Checkpoint, *args: Any) -> Path:
        written.append(write_part(self, *args))
        return written[-1]

    monkeypatch.setattr(Checkpoint, "write_part", recorded)
    service = make_service(chunk_processing_size=2)
    result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS, executor=_DoneAtOnce())
    processed = result.outcomes.filter(pl.col("commit").is_not_null())
    slices = -(-processed.height // 2)
    commits = result.timeline.height
    assert 1 < commits < slices  # several slices per transaction
    assert result.timeline["commit_files"].sum() == processed.height
    assert len(written) == commits  # one checkpoint part per commit
    assert sorted(processed["commit"].unique()) == list(range(commits))
    assert sorted(result.outcomes.filter(status="succeeded")["doc_id"]) == GOOD


class _RunsWhenAsked(Executor):
    """Two "workers" that run a slice only when the driver asks for its result, and note
    how many slices were waiting whenever one is submitted."""

    _max_workers = 2

    def __init__(self) -> None:
        self.waiting: list[Future[object]] = []
        self.most_waiting = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN002, ANN003, ANN201
        executor = self

        class _Lazy(Future):  # type: ignore[type-arg]
            def result(self, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
                if not self.done():
                    executor.waiting.remove(self)
                    self.set_result(fn(*args, **kwargs))
                return super().result(timeout)

        future = _Lazy()
        self.waiting.append(future)
        self.most_waiting = max(self.most_waiting, len(self.waiting))
        return future


def test_workers_are_kept_busy_with_slices_queued_beyond_one_each(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    # the driver submits only between commits: one queued slice per worker leaves workers
    # idle while it commits
    executor = _RunsWhenAsked()
    service = make_service(chunk_processing_size=1)
    result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS, executor=executor)
    assert executor.most_waiting > 2 * executor._max_workers + 1
    assert sorted(result.outcomes.filter(status="succeeded")["doc_id"]) == GOOD


def test_custom_parser_replaces_a_builtin(tmp_path: Path, sample_tree: Path) -> None:
    from docbatch.formats.base import DocumentBuilder

    def shout(text: str) -> ParsedDocument:
        b = DocumentBuilder()
        b.heading(1, "SHOUT")
        b.block(text.upper())
        return b.build(None)

    service = BatchIngestService(tmp_path / "s.db", ingest_service={"text": shout})
    result = service.ingest_batch(sample_tree, pattern="FAQ.txt")
    assert result.outcomes.filter(status="succeeded")["title"].to_list() == ["SHOUT"]
    assert service.search("SAFFRON")["doc_id"].to_list() == ["FAQ.txt"]


def test_parser_crash_is_a_processing_row(tmp_path: Path, sample_tree: Path) -> None:
    def broken(text: str) -> ParsedDocument:
        raise IndexError("list index out of range")

    service = BatchIngestService(tmp_path / "s.db", ingest_service={"rst": broken}, sleep=lambda s: None)
    result = service.ingest_batch(
        sample_tree,
        pattern="*.rst,*.md",
    )
    rst = result.outcomes.filter(pl.col("format") == "rst")
    assert (rst["status"] == "failed").all() and (rst["error_category"] == "processing").all()
    assert (rst["error_type"] == "IndexError").all() and (rst["attempts"] == 1).all()
    assert result.outcomes.filter(pl.col("format") == "markdown", status="succeeded").height > 10


def test_progress_is_live_and_readable_from_another_thread(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=2, progress_save_interval=1)
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.001):
            seen.append(service.get_processing_metrics(service.progress))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = service.ingest_batch(sample_tree, pattern=ALL_FORMATS)
    finally:
        done.set()
        watcher.join()
    processed = [m["processed"] for m in seen if m["total_files"] == result.total_files]
    assert processed and processed == sorted(processed)
    assert len(set(processed)) > 2  # the watcher saw the counters move
    final = service.get_processing_metrics(service.progress)
    assert final["progress_percent"] == 100.0 and final["estimated_time_remaining"] == 0.0
    from_result = service.get_processing_metrics(result)
    assert from_result["success_rate"] == pytest.approx(len(GOOD) / (len(GOOD) + len(BAD_FILES)))


def test_bad_arguments_raise_clear_errors(tmp_path: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    with pytest.raises(RootError, match="directory not found"):
        service.ingest_batch(tmp_path / "nope")
    with pytest.raises(ConfigError, match="pattern"):
        service.ingest_batch(tmp_path, pattern=" , ")
    with pytest.raises(ConfigError, match="executor"):
        service.ingest_batch(tmp_path, executor="threads")
    with pytest.raises(ConfigError, match="progress"):
        service.ingest_batch(tmp_path, progress="fancy")


def test_declared_fallback_encoding_is_used_and_reported_per_file(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    result = service.ingest_batch(sample_tree, pattern="broken/*.md", fallback_encoding="latin-1")
    row = result.outcomes.filter(doc_id="broken/latin1.md").row(0, named=True)
    assert row["status"] == "succeeded" and row["reason"] == "decoded as latin-1"
    strict = make_service("strict/s.db").ingest_batch(sample_tree, pattern="broken/*.md")
    assert strict.outcomes.filter(doc_id="broken/latin1.md")["error_category"][0] == "validation"


def test_a_failed_reparse_keeps_the_old_version_searchable(tmp_path: Path, sample_tree: Path) -> None:
    from docbatch.errors import ParseError
    from docbatch.formats import get_parser

    markdown = get_parser("markdown")

    def picky(text: str) -> ParsedDocument:
        if "UNPARSEABLE" in text:
            raise ParseError("this parser cannot read the new version")
        return markdown(text)

    service = BatchIngestService(tmp_path / "s.db", ingest_service={"markdown": picky})
    service.ingest_batch(sample_tree, pattern="*.md")
    before = service.backend.passages("sample_docs", "guides/troubleshooting.md")
    target = sample_tree / "guides" / "troubleshooting.md"
    target.write_text(target.read_text() + "\nUNPARSEABLE pangolin\n")
    result = service.ingest_batch(sample_tree, pattern="*.md")
    row = result.outcomes.filter(doc_id="guides/troubleshooting.md").row(0, named=True)
    assert row["status"] == "failed" and row["error_category"] == "processing"
    assert service.backend.passages("sample_docs", "guides/troubleshooting.md").equals(before)
    assert service.search("quokka")["doc_id"].to_list() == ["guides/troubleshooting.md"]
    assert service.search("pangolin").height == 0
