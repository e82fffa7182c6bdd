from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

pytest.importorskip("ipywidgets")

from ipywidgets.embed import dependency_state, embed_data  # type: ignore[import-untyped]  # noqa: E402

from docbatch import BatchConfig, BatchIngestService, BatchProgress, sample  # noqa: E402
from docbatch.display.widgets import UNREPORTED, Dashboard, format_seconds  # noqa: E402
from docbatch.frames import OUTCOMES, conform  # noqa: E402

ALL_FORMATS = "*.md,*.rst,*.html,*.txt"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Memory:
    def __init__(self, mb: float) -> None:
        self.mb = mb

    def __call__(self) -> float:
        return self.mb


@pytest.fixture
def panels() -> Iterator[list[Dashboard]]:
    """Dashboards made by a test, closed afterwards so no widget outlives it."""
    made: list[Dashboard] = []
    yield made
    for panel in made:
        panel.close()


def make(panels: list[Dashboard], **kwargs: Any) -> Dashboard:
    panel = Dashboard(display=False, min_interval_s=0, **kwargs)
    panels.append(panel)
    return panel


def commit_row(n: int, size: int = 2, warning: bool = False) -> dict[str, Any]:
    return {"commit": n, "commit_files": size, "slice_size": size, "memory_warning": warning}


def failure(doc_id: str, category: str, message: str = "bad") -> pl.DataFrame:
    row = {
        "doc_id": doc_id,
        "status": "failed",
        "error_category": category,
        "error_type": "ValidationError",
        "error_message": message,
    }
    return conform(pl.DataFrame([row]), OUTCOMES)


def run_events(panel: Dashboard, clock: FakeClock, memory: Memory) -> BatchProgress:
    progress = BatchProgress(total_files=10, bytes_total=10_000, clock=clock, rss=memory)
    panel.start(progress)
    for n in range(5):
        clock.now += 1.0
        progress.add(succeeded=1, failed=1 if n == 2 else 0, skipped=1 if n != 2 else 0, nbytes=2_000)
        progress.update_metrics()
        panel.update(progress, commit_row(n))
    progress.finished = True
    panel.stop(progress)
    return progress


def test_dashboard_follows_the_events_to_the_end(panels: list[Dashboard]) -> None:
    clock, memory = FakeClock(), Memory(80.0)
    panel = make(panels, memory_threshold_mb=512)
    run_events(panel, clock, memory)
    assert (panel.bar.value, panel.bar.max, panel.bar.bar_style) == (10, 10, "success")
    assert "10/10 files (100%)" in panel.percent.value
    assert "5" in panel.counts["succeeded"].value and "succeeded" in panel.counts["succeeded"].value
    assert ">1<" in panel.counts["failed"].value and ">4<" in panel.counts["skipped"].value
    assert "2.0" in panel.stats["files_per_second"].value
    assert "done" in panel.stats["eta"].value
    assert ">2<" in panel.stats["slice_size"].value
    assert "0.00" in panel.stats["mb_per_second"].value
    assert "RSS <b>80 MB</b>" in panel.memory.value and "threshold 512 MB" in panel.memory.value
    assert panel.memory_bar.bar_style == "success" and panel.memory_bar.value == 80.0


def test_bar_and_eta_while_running(panels: list[Dashboard]) -> None:
    clock = FakeClock()
    panel = make(panels)
    progress = BatchProgress(total_files=4, bytes_total=4_000, clock=clock, rss=Memory(50.0))
    panel.start(progress)
    assert panel.bar.value == 0 and panel.bar.bar_style == "info"
    assert "—" in panel.stats["eta"].value
    clock.now += 2.0
    progress.add(succeeded=2, nbytes=2_000)
    panel.update(progress, commit_row(0))
    assert (panel.bar.value, panel.bar.max) == (2, 4)
    assert "2 s" in panel.stats["eta"].value
    assert "ingesting" in panel.title.value


def test_a_stopped_run_leaves_a_warning_bar(panels: list[Dashboard]) -> None:
    panel = make(panels)
    progress = BatchProgress(total_files=6, clock=FakeClock(), rss=Memory(50.0))
    panel.start(progress)
    progress.add(succeeded=3)
    progress.finished = True
    panel.stop(progress)
    assert (panel.bar.value, panel.bar.bar_style) == (3, "warning")
    assert "stopped" in panel.title.value


def test_memory_gauge_turns_to_warning_colours_past_the_threshold(panels: list[Dashboard]) -> None:
    clock, memory = FakeClock(), Memory(300.0)
    panel = make(panels, memory_threshold_mb=256)
    progress = BatchProgress(total_files=10, clock=clock, rss=memory)
    panel.start(progress)
    progress.update_metrics()
    panel.update(progress, commit_row(0, warning=True))
    assert panel.memory_bar.bar_style == "danger"
    assert "over the threshold" in panel.memory.value and "#c62828" in panel.memory.value
    memory.mb = 200.0
    progress.update_metrics()
    panel.update(progress, commit_row(1))
    assert panel.memory_bar.bar_style == "warning" and "peak was over" in panel.memory.value
    assert "peak 300 MB" in panel.memory.value


def test_error_table_grows_by_category(panels: list[Dashboard]) -> None:
    panel = make(panels)
    progress = BatchProgress(total_files=10, clock=FakeClock(), rss=Memory(50.0))
    panel.start(progress)
    assert panel.error_table.value == ""
    progress.add(failed=1)
    panel.outcomes(progress, failure("a.md", "validation", "empty file"))
    assert "validation" in panel.error_table.value and "a.md: empty file" in panel.error_table.value
    progress.add(failed=2)
    panel.outcomes(progress, pl.concat([failure("b.md", "processing"), failure("c.md", "validation")]))
    panel.outcomes(progress, failure("a.md", "validation"))
    assert panel.error_counts == {"validation": 2, "processing": 1}
    assert panel.error_table.value.index("validation") < panel.error_table.value.index("processing")


def test_failures_without_a_category_are_counted_apart(panels: list[Dashboard]) -> None:
    panel = make(panels)
    progress = BatchProgress(total_files=5, clock=FakeClock(), rss=Memory(50.0))
    progress.add(failed=3)
    panel.start(progress)
    panel.outcomes(progress, failure("a.md", "validation"))
    assert UNREPORTED in panel.error_table.value
    assert f"{UNREPORTED}</td><td style='text-align:right;padding-right:12px'>2<" in panel.error_table.value


def test_redraws_are_throttled_but_stop_always_draws(panels: list[Dashboard]) -> None:
    clock = FakeClock()
    panel = Dashboard(display=False, min_interval_s=1.0, clock=clock)
    panels.append(panel)
    progress = BatchProgress(total_files=3, clock=clock, rss=Memory(50.0))
    panel.start(progress)
    progress.add(succeeded=1)
    clock.now += 0.5
    panel.update(progress, commit_row(0))
    assert panel.bar.value == 0
    clock.now += 0.6
    panel.update(progress, commit_row(1))
    assert panel.bar.value == 1
    progress.add(succeeded=2)
    progress.finished = True
    panel.stop(progress)
    assert panel.bar.value == 3


def test_embedded_state_holds_only_this_panel(panels: list[Dashboard]) -> None:
    other = make(panels)
    panel = make(panels)
    run_events(panel, FakeClock(), Memory(80.0))
    state = embed_data(views=[panel.box], state=dependency_state(panel.box))["manager_state"]["state"]
    bars = [m["state"] for m in state.values() if m["model_name"] == "IntProgressModel"]
    assert len(bars) == 1 and (bars[0]["value"], bars[0]["bar_style"]) == (10, "success")
    assert other.bar.model_id not in state


def test_dashboard_on_a_real_run_with_the_process_pool(panels: list[Dashboard], sample_tree: Path) -> None:
    panel = make(panels, memory_threshold_mb=4096)
    config = BatchConfig(max_file_size=sample.SAMPLE_MAX_FILE_SIZE, chunk_processing_size=6)
    with BatchIngestService("docs.db", config=config) as service:
        result = service.ingest_batch(sample_tree, ALL_FORMATS, progress=panel, executor="process", workers=2)
    assert (panel.bar.value, panel.bar.max, panel.bar.bar_style) == (result.total_files,) * 2 + ("success",)
    assert f">{result.succeeded}<" in panel.counts["succeeded"].value
    assert f">{result.failed}<" in panel.counts["failed"].value
    assert "threshold 4,096 MB" in panel.memory.value
    assert panel.error_table.value != ""


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (None, 4.4, 65, 3725)] == ["—", "4 s", "1 min 05 s", "1 h 02 min"]
