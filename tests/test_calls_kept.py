"""A run in calls keeps what its next call would read again: the rows its checkpoint
carries over and the site template of its inventory. What each call reports is the same
as when every call reads them back, and a run whose state changed underneath (another
process continued it, or the process died between calls) is read back from disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch import BatchIngestService, BatchProgress, IngestResult
from docbatch.run.kept import RunInventory
from docbatch.sample import SAMPLE_PATTERN as ALL
from docbatch.state.checkpoint import Checkpoint
from docbatch.state.reports import per_format

if TYPE_CHECKING:
    from tests.conftest import MakeService

COLUMNS = ["doc_id", "status", "content_hash", "n_passages", "format", "size"]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The runs whose checkpoint is read back from its parts from now on."""
    seen: list[str] = []
    real = Checkpoint.load

    def counted(self: Checkpoint, run_id: str):  # type: ignore[no-untyped-def]  # noqa: ANN202
        seen.append(run_id)
        return real(self, run_id)

    monkeypatch.setattr(Checkpoint, "load", counted)
    return seen


@pytest.fixture
def samples(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources whose site template sample is taken from now on."""
    from docbatch.run.templates import source_options as real

    seen: list[str] = []

    def counted(inventory, state_dir, source, options, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN003, ANN202
        seen.append(source)
        return real(inventory, state_dir, source, options, **kwargs)

    monkeypatch.setattr("docbatch.run.walking.source_options", counted)
    return seen


def _until_done(service: BatchIngestService, tree: Path, limit: int) -> list[IngestResult]:
    results = [service.ingest_batch(tree, pattern=ALL, limit=limit, executor="serial")]
    while results[-1].pending and len(results) < 40:
        results.append(service.ingest_batch(tree, pattern=ALL, limit=limit, executor="serial"))
    assert results[-1].pending == 0
    return results


def _rows(result: IngestResult) -> pl.DataFrame:
    return result.outcomes.select(COLUMNS).sort("doc_id")


def test_the_calls_of_one_run_read_its_checkpoint_and_sample_its_template_once(
    tmp_path: Path, sample_tree: Path, make_service: MakeService, loads: list[str], samples: list[str]
) -> None:
    service = make_service("calls/s.db", chunk_processing_size=2, progress_save_interval=1)
    results = _until_done(service, sample_tree, 3)
    assert len(results) > 5
    assert loads == [] and len(samples) == 1  # a new run loads nothing; the template once
    one = make_service("one/s.db").ingest_batch(sample_tree, pattern=ALL, executor="serial")
    assert _rows(results[-1]).equals(_rows(one))
    assert results[-1].counts == one.counts
    # each call's rows: the files done so far as they were done, the others pending
    done: dict[str, str] = {}
    for result in results:
        rows = dict(result.outcomes.select("doc_id", "status").iter_rows())
        assert {doc: rows[doc] for doc in done} == done
        done = {doc: status for doc, status in rows.items() if status != "pending"}


def test_a_run_continued_elsewhere_between_calls_is_read_back_from_its_parts(
    tmp_path: Path, sample_tree: Path, make_service: MakeService, loads: list[str]
) -> None:
    service = make_service(chunk_processing_size=2, progress_save_interval=1)
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=4, executor="serial")
    other = make_service()  # another process, on the same store and state folder
    second = other.ingest_batch(sample_tree, pattern=ALL, limit=4, executor="serial")
    other.close()
    assert second.run_id == first.run_id and loads == [first.run_id]
    third = service.ingest_batch(sample_tree, pattern=ALL, limit=4, executor="serial")
    assert loads == [first.run_id, first.run_id]  # its parts are not the ones it knew
    done_before = second.outcomes.filter(pl.col("status") != "pending").select("doc_id", "status")
    assert (
        done_before.join(third.outcomes, on="doc_id")
        .filter(pl.col("status") != pl.col("status_right"))
        .is_empty()
    )
    last = _until_done(service, sample_tree, 4)[-1]
    assert last.run_id == first.run_id and last.outcomes["doc_id"].is_unique().all()
    one = make_service("one/s.db").ingest_batch(sample_tree, pattern=ALL, executor="serial")
    assert _rows(last).equals(_rows(one))


SCRIPT = """
import os, sys
from docbatch import BatchConfig, BatchIngestService
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
config = BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE, chunk_processing_size=2, progress_save_interval=1)
service = BatchIngestService("s.db", config=config)
result = service.ingest_batch("docs", SAMPLE_PATTERN, limit=3, executor="serial")
if sys.argv[1] == "die":
    result = service.ingest_batch("docs", SAMPLE_PATTERN, limit=3, executor="serial")
    os._exit(9)  # killed between calls, as a SIGKILL would
while result.pending:
    result = service.ingest_batch("docs", SAMPLE_PATTERN, limit=3, executor="serial")
print(result.run_id, result.total_files, result.pending)
"""


def test_a_process_killed_between_calls_is_resumed_by_the_next(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    sample_tree.rename(tmp_path / "docs")
    killed = subprocess.run(
        [sys.executable, "-c", SCRIPT, "die"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert killed.returncode == 9, killed.stderr
    again = subprocess.run(
        [sys.executable, "-c", SCRIPT, "live"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    run_id, total, pending = again.stdout.split()
    assert pending == "0"
    assert json.loads((tmp_path / "s.state" / "run.json").read_text())["calls"] > 3  # one run
    outcomes = pl.read_parquet(tmp_path / "s.state" / "outcomes.parquet")
    assert set(outcomes["run_id"]) == {run_id} and outcomes.height == int(total)
    one = make_service("one/s.db").ingest_batch(tmp_path / "docs", pattern=ALL, executor="serial")
    assert outcomes.select(COLUMNS).sort("doc_id").equals(_rows(one))


def test_an_unchanged_re_run_reports_the_failures_planning_decided_and_only_those(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=4)
    first = service.ingest_batch(sample_tree, pattern=ALL, executor="serial")
    again = service.ingest_batch(sample_tree, pattern=ALL, executor="serial")
    state = tmp_path / "s.state"
    errors = json.loads((state / "batch_ingest_errors.json").read_text())
    invalid = first.outcomes.filter(error_category="validation")["doc_id"].sort().to_list()
    assert invalid and again.failures["doc_id"].sort().to_list() == invalid
    assert sorted(error["doc_id"] for error in errors["errors"]) == invalid
    report = pl.read_parquet(state / "outcomes.parquet")
    assert report.height == first.total_files and set(report["status"]) == {"skipped", "failed"}
    good = tmp_path / "good"
    good.mkdir()
    for i in range(3):
        (good / f"{i}.md").write_text(f"# Page {i}\n\ntext\n")
    clean = make_service("good/s.db")
    clean.ingest_batch(good, pattern="*.md", executor="serial")
    rerun = clean.ingest_batch(good, pattern="*.md", executor="serial")
    assert rerun.skipped == 3 and rerun.failures.is_empty()
    errors_now = json.loads((tmp_path / "good" / "s.state" / "batch_ingest_errors.json").read_text())
    assert errors_now["errors"] == []


def _reports(state: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    performance = json.loads((state / "batch_ingest_performance.json").read_text())
    errors = json.loads((state / "batch_ingest_errors.json").read_text())
    return performance, sorted((e["doc_id"] or e["path"], e["category"]) for e in errors["errors"])


def _same_per_format(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours.keys() == theirs.keys()
    for name, row in ours.items():
        assert row == pytest.approx(theirs[name], abs=1e-6), name


def test_the_reports_after_each_call_of_a_run_are_those_of_calls_that_count_it_all_again(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    """One service (each call adds its files to the figures of the previous one) against
    one that keeps no figures (each call counts the whole run again and writes every
    report)."""
    settings: dict[str, Any] = {"chunk_processing_size": 2, "progress_save_interval": 1}
    ours = make_service("ours/s.db", **settings)
    counting = make_service("theirs/s.db", **settings)
    kept = counting._run_inventory

    def without_figures(run_id: str, signature: Any, rows: pl.DataFrame, figures: Any = None) -> None:
        RunInventory.keep_carried(kept, run_id, signature, rows, None)

    kept.keep_carried = without_figures  # type: ignore[method-assign,assignment]
    ours_state, theirs_state = tmp_path / "ours" / "s.state", tmp_path / "theirs" / "s.state"
    results: list[tuple[IngestResult, IngestResult]] = []
    while not results or results[-1][0].pending:
        mine = ours.ingest_batch(sample_tree, pattern=ALL, limit=5, executor="serial")
        theirs = counting.ingest_batch(sample_tree, pattern=ALL, limit=5, executor="serial")
        assert (theirs_state / "outcomes.parquet").exists()
        results.append((mine, theirs))
        assert mine.counts == theirs.counts and mine.pending_bytes == theirs.pending_bytes
        assert sorted(mine.failures["doc_id"]) == sorted(theirs.failures["doc_id"])
        (perf, errors), (their_perf, their_errors) = _reports(ours_state), _reports(theirs_state)
        assert errors == their_errors and perf["state"] == their_perf["state"]
        assert {k: perf[k] for k in ("succeeded", "failed", "skipped", "pending")} == {
            k: their_perf[k] for k in ("succeeded", "failed", "skipped", "pending")
        }
        _same_per_format(perf["per_format"], per_format(mine.outcomes))  # its own rows' seconds
        untimed = {name: {**row, "duration_s": 0} for name, row in their_perf["per_format"].items()}
        _same_per_format({n: {**r, "duration_s": 0} for n, r in perf["per_format"].items()}, untimed)
        # between calls, the outcomes report is not written (the run's last call writes it)
        assert (ours_state / "outcomes.parquet").exists() == (len(results) == 1 or not mine.pending)
        assert (ours_state / "runs" / mine.run_id / "outcomes.parquet").exists() == (
            ours_state / "outcomes.parquet"
        ).exists()
    assert len(results) > 4
    for mine, theirs in results:  # read after the run's end: the rows each call had
        assert _rows(mine).equals(_rows(theirs))
        reasons = mine.outcomes.filter(status="pending")["reason"].unique().to_list()
        assert reasons == theirs.outcomes.filter(status="pending")["reason"].unique().to_list()
    last = pl.read_parquet(ours_state / "outcomes.parquet").select(COLUMNS).sort("doc_id")
    assert last.equals(_rows(results[-1][1]))


class _InterruptOnce:
    """A progress sink that sends SIGINT once, after the first commit of a call it watches."""

    def __init__(self) -> None:
        self.sent = False

    def start(self, progress: BatchProgress) -> None:
        pass

    def stop(self, progress: BatchProgress) -> None:
        pass

    def update(self, progress: BatchProgress, row: dict[str, Any]) -> None:
        if row["commit"] == 1 and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


def test_a_call_stopped_midway_leaves_its_files_to_the_next_calls_of_the_run(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=2, progress_save_interval=1)
    calls = [service.ingest_batch(sample_tree, pattern=ALL, limit=8, executor="serial") for _ in range(2)]
    stopped = service.ingest_batch(
        sample_tree, pattern=ALL, limit=8, executor="serial", progress=_InterruptOnce()
    )
    assert stopped.interrupted and stopped.pending > 0
    left = set(stopped.outcomes.filter(status="pending")["doc_id"])
    rest = _until_done(service, sample_tree, 8)
    assert rest[0].run_id == calls[0].run_id
    final = rest[-1].outcomes
    assert final["doc_id"].is_unique().all() and final.filter(status="pending").is_empty()
    assert left <= set(final.filter(pl.col("status") != "skipped")["doc_id"])
    one = make_service("one/s.db").ingest_batch(sample_tree, pattern=ALL, executor="serial")
    assert _rows(rest[-1]).equals(_rows(one)) and rest[-1].counts == one.counts


def test_the_label_rows_of_a_run_in_calls_are_merged_into_the_table_once_after_its_last_call(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=2)
    parts_dir = next((tmp_path / "s.state" / "labels").glob("*.parquet.parts"), None)
    results = [service.ingest_batch(sample_tree, pattern=ALL, limit=6, executor="serial")]
    parts_after: list[int] = []
    while results[-1].pending:
        parts_dir = next((tmp_path / "s.state" / "labels").glob("*.parquet.parts"))
        parts_after.append(len(list(parts_dir.glob("part-*.parquet"))))
        results.append(service.ingest_batch(sample_tree, pattern=ALL, limit=6, executor="serial"))
    assert len(results) > 3 and max(parts_after) > 1  # the calls' rows wait as parts
    assert parts_dir is not None and not list(parts_dir.glob("part-*.parquet"))  # merged at the end
    one = make_service("one/s.db").ingest_batch(sample_tree, pattern=ALL, executor="serial")
    assert _rows(results[-1]).equals(_rows(one))
    rst = results[-1].outcomes.filter(format="rst")
    assert (
        rst.height > 0
        and rst.filter(status="succeeded").height
        == one.outcomes.filter(format="rst", status="succeeded").height
    )
