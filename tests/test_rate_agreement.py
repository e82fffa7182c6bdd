"""One files/s for one run, whoever shows it; after a stop no display says "done".

Every place that shows a rate is read after one real run: the terminal bar's last frame,
the dashboard, ``result.summary()``, the HTML repr, ``get_processing_metrics`` of the
live counters and of the result, ``batch_ingest_performance.json`` and ``load_run``.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docbatch import BatchIngestService, IngestResult, sample
from docbatch.display import load_run
from docbatch.display.progress import resolve

if TYPE_CHECKING:
    from tests.conftest import MakeService

ALL = sample.SAMPLE_PATTERN


def _last_frame(stream: io.StringIO) -> str:
    frames = [piece for piece in re.split(r"[\r\n]", stream.getvalue()) if piece.strip()]
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", frames[-1])


def _dashboard() -> Any:
    pytest.importorskip("ipywidgets")
    from docbatch.display.widgets import Dashboard

    return Dashboard(display=False)


def _text(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text)


def test_one_run_one_rate_everywhere(tmp_path: Path, make_service: MakeService) -> None:
    root = sample.write_sample_tree(tmp_path / "docs")
    service = make_service(chunk_processing_size=4)
    service.ingest_batch(root, ALL)
    # a second run: most files unchanged (decided by planning), a few changed and new
    for i in range(12):
        (root / f"new{i}.md").write_text(f"# New {i}\n\nfresh text {i}\n")
    stream = io.StringIO()
    panel = _dashboard()
    result = service.ingest_batch(root, ALL, progress=[*resolve("terminal", stream=stream), panel])
    assert result.complete and result.skipped > 12

    rate = result.files_per_second
    shown = f"{rate:,.1f} files/s"
    assert rate > 0
    assert shown in _last_frame(stream)
    assert shown in result.summary()
    assert shown in _text(result._repr_html_())
    assert _text(panel.stats["files_per_second"].value) == shown
    assert service.get_processing_metrics(service.progress)["files_per_second"] == pytest.approx(rate)
    assert service.get_processing_metrics(result)["files_per_second"] == pytest.approx(rate)
    performance = json.loads(Path(result.reports["performance"]).read_text())
    assert performance["files_per_second"] == pytest.approx(rate)
    run = load_run(result.state_dir)
    assert run.files_per_second == pytest.approx(rate)
    assert shown in _text(run._repr_html_())
    # the definition: files that got their final status in this call, over the call's seconds
    this_call = result.total_files - result.pending
    assert rate == pytest.approx(this_call / result.elapsed_s)
    assert result.timeline["files_per_second"][-1] <= rate * 1.5  # the same measure, live


class CtrlC:
    """Presses Ctrl-C (SIGINT to this process) after the second commit."""

    def start(self, progress: Any) -> None: ...

    def stop(self, progress: Any) -> None: ...

    def update(self, progress: Any, row: dict[str, Any]) -> None:
        if row["commit"] == 1:
            os.kill(os.getpid(), signal.SIGINT)


def _check_stopped(
    service: BatchIngestService, result: IngestResult, stream: io.StringIO, panel: Any
) -> None:
    assert result.pending > 0
    frame = _last_frame(stream)
    assert "ETA 0" not in frame and "stopped" in frame and f"{result.pending} pending" in frame
    title = _text(panel.title.value)
    assert "stopped" in title and "done" not in title
    assert _text(panel.counts["pending"].value) == f"{result.pending:,} pending"
    assert "done" not in _text(panel.stats["eta"].value)
    for metrics in (service.get_processing_metrics(service.progress), service.get_processing_metrics(result)):
        assert metrics["pending"] == result.pending
        assert metrics["estimated_time_remaining"] != 0
        assert metrics["progress_percent"] < 100
        assert metrics["files_per_second"] == pytest.approx(result.files_per_second)


def test_after_ctrl_c_nothing_says_done(tmp_path: Path, make_service: MakeService) -> None:
    root = sample.write_sample_tree(tmp_path / "docs")
    service = make_service(chunk_processing_size=4)
    stream = io.StringIO()
    panel = _dashboard()
    result = service.ingest_batch(root, ALL, progress=[CtrlC(), *resolve("terminal", stream=stream), panel])
    assert result.interrupted
    _check_stopped(service, result, stream, panel)

    # the next call resumes: the files the first call parsed are not this call's work (the
    # pending ones are, and those planning decides again: rejected and hidden paths)
    again = service.ingest_batch(root, ALL)
    assert again.run_id == result.run_id and again.complete
    parsed_before = int(result.timeline["commit_files"].sum())
    assert parsed_before > 0
    assert round(again.files_per_second * again.elapsed_s) == again.total_files - parsed_before
    live = service.get_processing_metrics(service.progress)
    assert live["files_per_second"] == pytest.approx(again.files_per_second)
    assert live["estimated_time_remaining"] == 0 and live["pending"] == 0


def test_with_a_limit_nothing_says_done(tmp_path: Path, make_service: MakeService) -> None:
    root = sample.write_sample_tree(tmp_path / "docs")
    service = make_service(chunk_processing_size=4)
    stream = io.StringIO()
    panel = _dashboard()
    result = service.ingest_batch(root, ALL, limit=10, progress=[*resolve("terminal", stream=stream), panel])
    assert not result.interrupted
    _check_stopped(service, result, stream, panel)
    # each place says how many files are left and how to go on
    for shown in (repr(result), result.summary()):
        assert f"{result.pending} files pending (limit)" in shown and "to continue" in shown
    assert f"{result.pending} files pending: run again to continue" in _text(result._repr_html_())
    assert f"{result.pending:,} files pending: run again to continue" in _text(panel.title.value)
