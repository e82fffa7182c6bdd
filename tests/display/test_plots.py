from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("matplotlib")

from collections.abc import Callable  # noqa: E402

from docbatch import IngestResult, sample  # noqa: E402
from docbatch.display import load_run, plots  # noqa: E402
from docbatch.display.load import LoadedRun  # noqa: E402
from docbatch.frames import TIMELINE  # noqa: E402

pytestmark = pytest.mark.usefixtures("agg")

Ingest = Callable[..., IngestResult]


def test_throughput_draws_one_point_per_commit_and_a_rolling_rate(sample_run: IngestResult) -> None:
    fig = plots.throughput(sample_run)
    (ax,) = fig.axes
    per_commit, rolling = ax.get_lines()[:2]
    assert len(per_commit.get_xdata()) == len(rolling.get_xdata()) == sample_run.timeline.height
    assert per_commit.get_label() == "each commit" and rolling.get_label().startswith("rolling rate")
    elapsed = sample_run.timeline["elapsed_s"].to_list()
    files = sample_run.timeline["commit_files"].to_list()
    assert per_commit.get_ydata()[1] == pytest.approx(files[1] / (elapsed[1] - elapsed[0]))
    assert ax.get_ylabel() == "files/s"


def test_memory_draws_rss_and_notes_a_far_threshold(sample_run: IngestResult) -> None:
    fig = plots.memory(sample_run)
    ax = fig.axes[0]
    rss = ax.get_lines()[0]
    assert list(rss.get_ydata()) == sample_run.timeline["rss_mb"].to_list()
    assert [t.get_text() for t in ax.texts] == ["threshold 1,024 MB (far above the curve)"]
    assert ax.get_ylim()[1] < 1024


def test_memory_threshold_can_be_given(sample_run: IngestResult) -> None:
    ax = plots.memory(sample_run, threshold_mb=64).axes[0]
    assert any(list(line.get_ydata()) == [64.0, 64.0] for line in ax.get_lines())


def test_errors_by_category_and_by_type(sample_run: IngestResult) -> None:
    fig = plots.errors(sample_run)
    by_category, by_type = fig.axes
    assert sum(p.get_width() for p in by_category.patches) == sample_run.failed
    labels = {t.get_text() for t in by_category.get_yticklabels()}
    assert labels == set(sample_run.error_summary())
    assert {t.get_text() for t in by_type.get_yticklabels()} == set(
        sample_run.outcomes.filter(pl.col("status") == "failed")["error_type"]
    )


def test_durations_has_a_box_per_format(sample_run: IngestResult) -> None:
    ax = plots.durations(sample_run).axes[0]
    labels = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert labels == ["html", "markdown", "rst", "text"]
    assert ax.get_yscale() == "log"


def test_slice_sizes_show_the_shrink_under_memory_pressure(ingest: Ingest, tmp_path: Path) -> None:
    root = sample.write_sample_tree(tmp_path / "docs")
    run = ingest(root, tmp_path, chunk_processing_size=16, progress_save_interval=16, memory_threshold_mb=1)
    ax = plots.slice_sizes(run).axes[0]
    sizes = [p.get_height() for p in ax.patches]
    assert sizes == run.timeline["commit_files"].to_list()
    assert sizes[0] == 16 and sizes[1] == 8 and sizes[-1] == 1
    assert any(line.get_label() == "memory warning" for line in ax.get_lines())


def test_plots_work_from_reports_on_disk(sample_run: IngestResult) -> None:
    run = load_run(sample_run.state_dir)
    assert run.timeline.equals(sample_run.timeline)
    assert run.outcomes.equals(sample_run.outcomes)
    assert run.memory_threshold_mb == 1024
    ax = plots.throughput(sample_run.state_dir).axes[0]
    assert len(ax.get_lines()[0].get_xdata()) == sample_run.timeline.height


def test_write_plots_saves_png_files(sample_run: IngestResult, tmp_path: Path) -> None:
    paths = plots.write_plots(sample_run, tmp_path / "plots")
    assert set(paths) == {*plots.PLOTS, "overview"}
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_the_plots_accessor(sample_run: IngestResult) -> None:
    accessor = load_run(sample_run.state_dir).plot
    assert len(accessor.overview().axes) == 6
    assert accessor.memory().axes[0].get_title() == "Memory"


def test_compare_draws_one_line_per_run(sample_run: IngestResult) -> None:
    ax = plots.compare({"a": sample_run, "b": load_run(sample_run.state_dir)}).axes[0]
    assert [line.get_label().split(" (")[0] for line in ax.get_lines()] == ["a", "b"]


def test_a_run_without_failures_says_so(sample_run: IngestResult) -> None:
    clean = load_run(sample_run.state_dir)
    clean.outcomes = clean.outcomes.filter(pl.col("status") != "failed")
    ax = plots.errors_by_category(clean).axes[0]
    assert [t.get_text() for t in ax.texts] == ["no failed files"]


def test_a_resumed_timeline_is_laid_end_to_end() -> None:
    rows = [
        {
            "run_id": "r",
            "commit": s,
            "elapsed_s": t,
            "commit_files": 2,
            "slice_size": 2,
            "files_per_second": 1.0,
            "rss_mb": 50.0,
            "peak_rss_mb": 50.0,
            "memory_warning": False,
        }
        for s, t in [(0, 1.0), (1, 2.0), (0, 0.5), (1, 1.5)]
    ]
    timeline = pl.DataFrame(rows).select(
        [pl.col(c).cast(d) if c in rows[0] else pl.lit(None, d).alias(c) for c, d in TIMELINE.items()]
    )
    run = LoadedRun("x", pl.DataFrame(), timeline)
    ax = plots.throughput(run).axes[0]
    assert list(ax.get_lines()[0].get_xdata()) == [1.0, 2.0, 2.5, 3.5]
    assert list(ax.get_lines()[0].get_ydata()) == [2.0, 2.0, 4.0, 2.0]
    assert any(line.get_label() == "resumed" for line in ax.get_lines())


def test_something_that_is_not_a_run_is_refused() -> None:
    with pytest.raises(TypeError, match="IngestResult"):
        plots.throughput(42)
