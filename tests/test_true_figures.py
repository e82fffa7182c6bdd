"""Figures that are true: memory includes the worker processes and the report phase, and
a run that had nothing to parse says its rate counts files checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docbatch import BatchIngestService


def _tree(root: Path, files: int) -> Path:
    for i in range(files):
        folder = root / f"part{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page{i}.md").write_text(f"# Page {i}\n\nText about item {i}.\n")
    return root


@pytest.mark.slow
def test_memory_figures_count_the_workers_and_the_driver_peak(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 300)
    with BatchIngestService(tmp_path / "s.db") as service:
        result = service.ingest_batch(docs, executor="process", workers=2)
    performance = json.loads(Path(result.reports["performance"]).read_text())
    # two workers hold polars and the parsers: tens of MB each on top of the driver
    assert performance["peak_tree_memory_mb"] > performance["peak_memory_mb"] + 40
    assert performance["driver_max_rss_mb"] >= performance["peak_memory_mb"]
    assert result.peak_memory_mb >= performance["driver_max_rss_mb"]


def test_a_run_with_nothing_to_parse_says_its_rate_counts_files_checked(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 20)
    with BatchIngestService(tmp_path / "s.db") as service:
        first = service.ingest_batch(docs, pattern="*.md")
        again = service.ingest_batch(docs, pattern="*.md")
    assert not first.checked_only and "files checked/s" not in first.summary()
    assert again.checked_only and again.skipped == 20
    assert "files checked/s (none needed parsing)" in again.summary()
    assert "files checked/s" in again._repr_html_()


def test_a_run_of_several_calls_reports_its_totals_not_only_the_last_call(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 30)
    with BatchIngestService(tmp_path / "s.db") as service:
        calls = [service.ingest_batch(docs, pattern="*.md", limit=8, executor="serial")]
        while calls[-1].pending:
            calls.append(service.ingest_batch(docs, pattern="*.md", limit=8, executor="serial"))
    last = calls[-1]
    assert len(calls) == 4 and last.run_calls == 4 and calls[0].run_calls == 1
    assert last.run_files == sum(c.handled_files or 0 for c in calls) == 30
    assert last.run_elapsed_s == pytest.approx(sum(c.elapsed_s for c in calls))
    assert "the run so far: 4 calls" in last.summary() and "the run so far" not in calls[0].summary()
    # a new run starts its totals afresh
    fresh = BatchIngestService(tmp_path / "s.db").ingest_batch(docs, pattern="*.md", resume=False)
    assert fresh.run_calls == 1 and fresh.run_files == 30
