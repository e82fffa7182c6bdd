"""A call's outcome rows go to disk as they are committed and are read back when asked for:
the result counts without them, reads the report its call wrote, and the report is in
``doc_id`` order whatever order the rows were committed in."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from docbatch.formats import ParsedDocument, get_parser
from docbatch.sample import SAMPLE_PATTERN as ALL

if TYPE_CHECKING:
    from tests.conftest import MakeService


def _report(result: object) -> pl.DataFrame:
    return pl.read_parquet(result.reports["outcomes"])  # type: ignore[attr-defined]


def test_the_result_counts_without_reading_its_rows_and_reads_them_once_asked(
    make_service: MakeService, sample_tree: Path
) -> None:
    result = make_service().ingest_batch(sample_tree, pattern=ALL)
    assert result.outcomes_file._frame is None  # counted from the call's tally
    counts = (result.succeeded, result.failed, result.skipped, result.total_files)
    assert result.failed > 0 and len(result.errors) == result.failed
    assert result.outcomes_file._frame is None
    rows = result.outcomes
    assert result.outcomes_file._frame is not None and result.outcomes is rows
    by_status = dict(rows.group_by(pl.col("status").cast(pl.Utf8)).len().iter_rows())
    assert counts == (
        by_status.get("succeeded", 0),
        by_status.get("failed", 0),
        by_status.get("skipped", 0),
        rows.height,
    )
    assert rows.equals(_report(result))


def test_a_result_reads_the_report_its_call_wrote_after_later_calls_replaced_and_pruned_it(
    make_service: MakeService, sample_tree: Path
) -> None:
    service = make_service(keep_runs=1)
    first = service.ingest_batch(sample_tree, pattern=ALL)
    (sample_tree / "guides" / "added.md").write_text("# Added\n\nA page written after the first run.\n")
    second = service.ingest_batch(sample_tree, pattern=ALL)
    third = service.ingest_batch(sample_tree, pattern=ALL, force=True)
    assert not (Path(first.state_dir) / "runs" / first.run_id).exists()  # pruned (keep_runs=1)
    assert set(first.outcomes["run_id"]) == {first.run_id}
    assert "guides/added.md" not in first.outcomes["doc_id"].to_list()
    assert "guides/added.md" in second.outcomes["doc_id"].to_list()
    assert first.outcomes.height == first.total_files and third.outcomes.height == third.total_files


class _Flaky:
    """A Markdown parser that fails once, transiently, on every other file: the retried rows
    come back after the others of their slice."""

    def __init__(self) -> None:
        self.real = get_parser("markdown")
        self.seen: set[str] = set()

    def __call__(self, text: str) -> ParsedDocument:
        key = text[:200]
        if key not in self.seen and len(self.seen) % 2 == 0:
            self.seen.add(key)
            raise OSError(errno.EIO, "Input/output error")
        self.seen.add(key)
        return self.real(text)


def test_the_report_is_in_doc_id_order_over_retries_calls_and_pending_files(
    make_service: MakeService, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    for i in range(60):
        folder = docs / f"part-{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page-{59 - i:02d}.md").write_text(f"# Page {i}\n\nText of page {i}.\n")
    (docs / "part-0" / "same.txt").write_text("unchanged text\n")
    service = make_service(parsers={"markdown": _Flaky()}, chunk_processing_size=7, max_retry_attempts=3)
    service.ingest_batch(docs, pattern="*.txt", executor="serial")  # decided unchanged next
    for limit in (25, None):
        result = service.ingest_batch(docs, pattern="*.md,*.txt", limit=limit, executor="serial")
        report = _report(result)
        assert report["doc_id"].is_sorted() and report["doc_id"].n_unique() == report.height == 61
        assert report.equals(result.outcomes)
        assert (result.pending > 0) == (limit is not None)
    second = result
    assert second.complete and second.succeeded == 60 and second.skipped == 1
    assert (report.filter(pl.col("status") == "succeeded")["attempts"] > 1).any()


def test_a_run_read_back_counts_and_lists_its_errors_from_the_report_without_its_rows(
    make_service: MakeService, sample_tree: Path
) -> None:
    from docbatch import load_run

    result = make_service().ingest_batch(sample_tree, pattern=ALL)
    run = load_run(result.state_dir)
    assert (run.succeeded, run.failed, run.skipped, run.total_files) == (
        result.succeeded,
        result.failed,
        result.skipped,
        result.total_files,
    )
    assert run.error_summary() == result.error_summary() and "errors by category" in run.summary()
    assert run.rows is None  # nothing above read the rows
    assert run.outcomes.equals(result.outcomes) and run.rows is not None
    run.outcomes = run.outcomes.filter(pl.col("status") != "failed")  # part of it, to plot
    assert run.failed == 0 and run.succeeded == result.succeeded


def test_a_complete_run_leaves_no_checkpoint_parts_and_a_cut_one_keeps_them(
    make_service: MakeService, sample_tree: Path
) -> None:
    service = make_service(chunk_processing_size=2)
    parts = service.state_dir / "outcomes"
    cut = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    assert cut.pending > 0 and len(list(parts.glob("part-*.parquet"))) >= 2  # the run goes on from them
    done = service.ingest_batch(sample_tree, pattern=ALL)
    assert done.complete and done.run_id == cut.run_id
    assert list(parts.glob("part-*.parquet")) == []  # the next run has nothing to clear first
    assert done.outcomes.height == done.total_files and _report(done).equals(done.outcomes)
