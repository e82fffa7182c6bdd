from __future__ import annotations

from pathlib import Path

import pytest

from docbatch import IngestResult
from docbatch.display import load_run, summary_html


def test_summary_shows_totals_rate_memory_errors_and_reports(sample_run: IngestResult) -> None:
    page = summary_html(sample_run)
    assert f"{sample_run.run_id}" in page and "complete" in page
    for count, word in [
        (sample_run.total_files, "total"),
        (sample_run.succeeded, "succeeded"),
        (sample_run.failed, "failed"),
        (sample_run.skipped, "skipped"),
    ]:
        assert f">{count}</b> {word}" in page
    assert "files/s" in page and "peak memory" in page and "MB/s" in page
    assert "<td style='text-align:left'>validation</td>" in page
    assert f"<td style='text-align:right'>{sample_run.error_summary()['validation']}</td>" in page
    assert str(Path(sample_run.reports["outcomes"]).parent) in page
    assert "outcomes.parquet" in page and "batch_ingest_errors.json" in page


def test_summary_of_a_loaded_run_matches(sample_run: IngestResult) -> None:
    run = load_run(sample_run.state_dir)
    page = run._repr_html_()
    assert f">{sample_run.failed}</b> failed" in page and "threshold 1,024 MB" in page
    assert run.error_summary() == sample_run.error_summary()
    assert [e["doc_id"] for e in run.errors] == [e["doc_id"] for e in sample_run.errors]


def test_summary_escapes_text(sample_run: IngestResult) -> None:
    run = load_run(sample_run.state_dir)
    run.performance["run_id"] = "<script>"
    assert "&lt;script&gt;" in summary_html(run) and "<script>" not in summary_html(run)


def test_load_run_accepts_the_store_path(sample_run: IngestResult) -> None:
    assert load_run(sample_run.store).run_id == sample_run.run_id


def test_load_run_without_reports_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="outcomes.parquet"):
        load_run(tmp_path)
