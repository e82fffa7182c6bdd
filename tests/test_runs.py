"""The reports of every run are kept in ``<state>/runs/<run_id>/``, listed by ``docbatch runs``
and read back by ``load_run(state_dir, run_id)``; the top-level reports are the latest run's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService
from docbatch.display import load_run
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
from docbatch.state.reports import ERRORS_JSON, OUTCOMES_PARQUET, PERFORMANCE_JSON, TIMELINE_PARQUET

REPORTS = {PERFORMANCE_JSON, ERRORS_JSON, OUTCOMES_PARQUET, TIMELINE_PARQUET}


def _docbatch(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATCH_MAX_FILE_SIZE": str(SAMPLE_MAX_FILE_SIZE)}
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _run_id(state: Path) -> str:
    return str(json.loads((state / PERFORMANCE_JSON).read_text())["run_id"])


def test_each_run_keeps_its_reports_and_runs_lists_them(tmp_path: Path, sample_tree: Path) -> None:
    db, state = tmp_path / "s.db", tmp_path / "s.state"
    ingest = ["ingest-docs-batch", str(sample_tree), "--db", str(db), "--quiet"]
    assert _docbatch(*ingest, "--pattern", "*.md").returncode == 0
    first = _run_id(state)
    first_outcomes = pl.read_parquet(state / OUTCOMES_PARQUET)
    assert _docbatch(*ingest, "--pattern", SAMPLE_PATTERN).returncode == 0
    second = _run_id(state)
    assert second != first

    runs = state / "runs"
    assert sorted(p.name for p in runs.iterdir()) == sorted([first, second])
    for run_id in (first, second):
        assert {p.name for p in (runs / run_id).iterdir()} == REPORTS
    # the first run's reports were not overwritten by the second's
    assert pl.read_parquet(runs / first / OUTCOMES_PARQUET).equals(first_outcomes)
    assert set(pl.read_parquet(runs / first / OUTCOMES_PARQUET)["format"].drop_nulls()) == {"markdown"}
    assert len(set(pl.read_parquet(runs / second / OUTCOMES_PARQUET)["format"].drop_nulls())) > 1
    # the top-level files are the latest run's
    for name in REPORTS:
        assert (state / name).read_bytes() == (runs / second / name).read_bytes()

    listed = _docbatch("runs", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [row["run_id"] for row in rows] == [second, first]  # newest first
    newest = rows[0]
    performance = json.loads((runs / second / PERFORMANCE_JSON).read_text())
    for key in ("started_at", "elapsed_s", "files_per_second", "succeeded", "failed", "skipped", "pending"):
        assert newest[key] == performance[key]
    assert rows[1]["total_files"] == first_outcomes.height < newest["total_files"]

    text = _docbatch("runs", "--state-dir", str(state))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert second in lines[1] and first in lines[2]  # a header, then newest first
    assert "files/s" in lines[0]

    report = _docbatch("report", "--db", str(db), "--run", first, "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["performance"]["run_id"] == first
    missing = _docbatch("report", "--db", str(db), "--run", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_runs_without_any_run_says_so(tmp_path: Path) -> None:
    proc = _docbatch("runs", "--db", str(tmp_path / "none.db"))
    assert proc.returncode == 0
    assert "no runs" in proc.stdout
    assert not (tmp_path / "none.db").exists()


def test_load_run_picks_a_run(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db", config=BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE))
    first = service.ingest_batch(sample_tree, "*.md")
    second = service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    state = tmp_path / "s.state"
    assert load_run(state).run_id == second.run_id  # None: the latest
    old = load_run(state, run_id=first.run_id)
    assert old.run_id == first.run_id and old.total_files == first.total_files
    assert old.outcomes.equals(first.outcomes)
    assert load_run(tmp_path / "s.db", first.run_id).run_id == first.run_id
    with pytest.raises(FileNotFoundError, match="no run nope"):
        load_run(state, run_id="nope")


def test_only_the_last_runs_are_kept(tmp_path: Path, sample_tree: Path) -> None:
    config = BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE, keep_runs=2)
    service = BatchIngestService(tmp_path / "s.db", config=config)
    ids = [service.ingest_batch(sample_tree, "*.md", force=True).run_id for _ in range(4)]
    assert len(set(ids)) == 4
    assert sorted(p.name for p in (tmp_path / "s.state" / "runs").iterdir()) == sorted(ids[-2:])


def test_report_dir_gets_a_copy_and_the_state_folder_keeps_the_run(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db", config=BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE))
    result = service.ingest_batch(sample_tree, SAMPLE_PATTERN, report_dir=tmp_path / "out")
    state = tmp_path / "s.state"
    assert {p.name for p in (tmp_path / "out").iterdir()} == REPORTS
    assert {p.name for p in (state / "runs" / result.run_id).iterdir()} == REPORTS
    for name in REPORTS:
        assert (tmp_path / "out" / name).read_bytes() == (state / name).read_bytes()
    assert result.reports["outcomes"] == str(tmp_path / "out" / OUTCOMES_PARQUET)


def test_a_run_in_several_calls_is_one_run_folder(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db", config=BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE))
    first = service.ingest_batch(sample_tree, SAMPLE_PATTERN, limit=10)
    assert first.pending > 0
    last = service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    assert last.run_id == first.run_id and last.pending == 0
    runs = tmp_path / "s.state" / "runs"
    assert [p.name for p in runs.iterdir()] == [first.run_id]
    kept = pl.read_parquet(runs / first.run_id / OUTCOMES_PARQUET)
    assert kept.height == last.total_files and (kept["status"] != "pending").all()
