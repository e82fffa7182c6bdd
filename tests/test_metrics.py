"""Progress counters, rates, ETA from bytes, memory-driven slice sizes — with a fake clock."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from docbatch import BatchConfig, BatchIngestService, BatchProgress
from docbatch.display.progress import LogProgress, TqdmProgress, resolve
from docbatch.formats import ParsedDocument
from docbatch.metrics import SliceSizer, processing_metrics
from docbatch.sample import SAMPLE_PATTERN


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_and_eta_come_from_bytes() -> None:
    clock = FakeClock()
    p = BatchProgress(10, bytes_total=1000, clock=clock, rss=lambda: 50.0)
    assert processing_metrics(p)["estimated_time_remaining"] is None  # no rate yet
    clock.now += 2.0
    p.add(succeeded=1, nbytes=800)  # one big file done
    m = processing_metrics(p)
    assert m["files_per_second"] == pytest.approx(0.5)
    assert m["bytes_per_second"] == pytest.approx(400.0)
    assert m["estimated_time_remaining"] == pytest.approx(0.5)  # 200 bytes left at 400 B/s
    assert m["progress_percent"] == pytest.approx(10.0)
    p.add(failed=1, skipped=8, nbytes=200)
    m = processing_metrics(p)
    assert m["estimated_time_remaining"] == 0.0 and m["progress_percent"] == 100.0
    assert m["success_rate"] == pytest.approx(0.5)


def test_memory_sampling_tracks_the_peak() -> None:
    samples = iter([30.0, 80.0, 40.0])
    p = BatchProgress(1, rss=lambda: next(samples))
    for _ in range(3):
        p.update_metrics()
    assert p.memory_usage_mb == 40.0 and p.peak_memory_mb == 80.0


def test_total_is_open_until_a_run_lists_its_files() -> None:
    p = BatchProgress()
    assert p.processed < p.total_files
    p.reset(5)
    assert p.total_files == 5 and p.processed == 0
    p.add(succeeded=5)
    assert not p.processed < p.total_files


def test_slice_sizer_halves_over_the_threshold_and_grows_back() -> None:
    sizer = SliceSizer(64, threshold_mb=100)
    assert sizer.observe(120) is True and sizer.current == 32
    assert sizer.observe(130) is False and sizer.current == 16  # still over: no new warning
    assert sizer.observe(90) is False and sizer.current == 32
    assert sizer.observe(90) is False and sizer.current == 64
    assert sizer.observe(95) is False and sizer.current == 64
    for _ in range(10):
        sizer.observe(500)
    assert sizer.current == 1


def test_memory_pressure_in_a_run_shrinks_slices_and_warns_once_per_crossing(
    tmp_path: Path, sample_tree: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    readings = iter([10.0, 10.0] + [900.0] * 4 + [10.0] * 100)
    monkeypatch.setattr("docbatch.metrics.current_rss_mb", lambda: next(readings))
    cfg = BatchConfig(chunk_processing_size=8, memory_threshold_mb=500)
    service = BatchIngestService(tmp_path / "s.db", config=cfg)
    with caplog.at_level(logging.WARNING, logger="docbatch"):
        result = service.ingest_batch(sample_tree, pattern=SAMPLE_PATTERN)
    timeline = result.timeline
    assert timeline["memory_warning"].sum() == 1
    assert len([r for r in caplog.records if "memory_threshold_mb=500" in r.getMessage()]) == 1
    sizes = timeline["slice_size"].to_list()
    assert sizes[0] == 8 and min(sizes) < 8 and sizes[-1] == 8  # shrank, then grew back
    assert timeline["commit_files"].sum() == result.plan_counts["new"]


def test_memory_error_halves_the_slice_and_only_the_culprit_fails(
    tmp_path: Path, sample_tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from docbatch.formats import get_parser

    real = get_parser("markdown")

    def greedy(text: str) -> ParsedDocument:
        if "quokka" in text:
            raise MemoryError
        return real(text)

    cfg = BatchConfig(chunk_processing_size=16, progress_save_interval=16)
    service = BatchIngestService(tmp_path / "s.db", config=cfg, ingest_service={"markdown": greedy})
    with caplog.at_level(logging.WARNING, logger="docbatch"):
        result = service.ingest_batch(sample_tree, pattern="*.md")
    failed = result.outcomes.filter(status="failed", error_type="MemoryError")
    assert failed["doc_id"].to_list() == ["guides/troubleshooting.md"]
    ok = result.outcomes.filter(status="succeeded").height
    # all but the culprit and the three broken .md files (and skipped paths: a hidden folder)
    assert ok == result.total_files - result.skipped - 1 - 3
    halvings = [r.getMessage() for r in caplog.records if "retrying in halves" in r.getMessage()]
    assert halvings[0].startswith("out of memory on a slice of 16 files")
    assert any("guides/troubleshooting.md alone" in r.getMessage() for r in caplog.records)


def test_terminal_bar_and_log_lines() -> None:
    stream = io.StringIO()
    bar = TqdmProgress(stream, ncols=60, mininterval=0)
    clock = FakeClock()
    p = BatchProgress(4, rss=lambda: 12.0, clock=clock)
    bar.start(p)
    clock.now += 2.0
    p.add(succeeded=2)
    bar.update(p, {})
    p.finish()
    bar.stop(p)
    frames = stream.getvalue().replace("\n", "\r").split("\r")
    assert " 50%|" in frames[-3] and "| 2/4, 1.0 files/s" in frames[-3]
    assert "stopped, 2 pending" in frames[-2] and all(len(f) <= 60 for f in frames)
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("docbatch.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    sink = LogProgress(interval_s=0.0, logger=logger)
    sink.start(p)
    sink.update(p, {})
    sink.stop(p)
    assert len(records) == 3 and "2/4 files" in records[-1]


def test_progress_resolution() -> None:
    assert resolve(None) == [] and resolve("none") == []
    assert isinstance(resolve("terminal")[0], TqdmProgress)
    assert isinstance(resolve("tqdm")[0], TqdmProgress)
    assert isinstance(resolve("log")[0], LogProgress)
    assert isinstance(resolve("auto", stream=io.StringIO())[0], LogProgress)  # not a terminal
    sink = TqdmProgress(io.StringIO())
    assert resolve(sink) == [sink]


def test_the_seed_monitoring_example_works_as_written(tmp_path: Path, sample_tree: Path) -> None:
    import time
    from threading import Thread

    printed: list[str] = []

    def print_(*args: object, end: str = "\n") -> None:
        printed.append(" ".join(map(str, args)))

    service = BatchIngestService(tmp_path / "s.db", config=BatchConfig(chunk_processing_size=2))
    progress = service.progress

    # --- the seed's example, with print and sleep shortened for a test ---
    def monitor_progress(service: BatchIngestService, progress: BatchProgress) -> None:
        """Monitor processing progress in real-time."""
        while progress.processed < progress.total_files:
            metrics = service.get_processing_metrics(progress)

            print_(
                f"\rProgress: {metrics['progress_percent']:.1f}% "
                f"({progress.processed}/{progress.total_files}) "
                f"Rate: {metrics['files_per_second']:.1f} files/sec "
                f"Memory: {metrics['memory_usage_mb']:.1f}MB "
                f"ETA: {metrics['estimated_time_remaining'] or 'N/A'}s",
                end="",
            )

            time.sleep(0.01)

    monitor_thread = Thread(target=monitor_progress, args=(service, progress))
    monitor_thread.daemon = True
    monitor_thread.start()

    result = service.ingest_batch(sample_tree, pattern="*.md")
    # --- end of the example ---
    monitor_thread.join(timeout=10)
    assert not monitor_thread.is_alive()
    assert printed and all(line.startswith("\rProgress: ") for line in printed)
    assert progress is service.progress and progress.processed == result.total_files
