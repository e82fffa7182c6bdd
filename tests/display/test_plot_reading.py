"""Plots a reader can read: the threshold does not flatten the curve, the rate is smoothed,
every figure says which run it shows, and the words of the trade are explained on it."""

from __future__ import annotations

import random
import re
from typing import Any

import polars as pl
import pytest

pytest.importorskip("matplotlib")

from docbatch import IngestResult  # noqa: E402
from docbatch.display import load_run, plots  # noqa: E402
from docbatch.display.load import LoadedRun  # noqa: E402
from docbatch.frames import TIMELINE  # noqa: E402

pytestmark = pytest.mark.usefixtures("agg")


def _texts(fig: Any) -> list[str]:
    """Every piece of text on a figure: titles, labels, legends, notes (not tick labels)."""
    found = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    ticks = {t.get_text() for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    return [text for text in found if text and text not in ticks]


def _titles(fig: Any) -> str:
    parts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
    return " ".join(parts)


def _long_run(commits: int = 300, rss_mb: float = 100.0) -> LoadedRun:
    rng = random.Random(7)
    elapsed, rows = 0.0, []
    for s in range(commits):
        elapsed += rng.uniform(0.002, 0.05)  # commits of 8 files at very uneven intervals
        rows.append(
            {
                "run_id": "run-42",
                "commit": s,
                "elapsed_s": elapsed,
                "commit_files": 8,
                "slice_size": 8,
                "files_per_second": 8.0 * (s + 1) / elapsed,
                "rss_mb": rss_mb + rng.uniform(-5, 5),
                "peak_rss_mb": rss_mb + 5,
                "memory_warning": False,
            }
        )
    timeline = pl.DataFrame(rows).select(
        [pl.col(c).cast(d) if c in rows[0] else pl.lit(None, d).alias(c) for c, d in TIMELINE.items()]
    )
    performance = {"run_id": "run-42", "source": "handbook", "configuration": {"memory_threshold_mb": 1024}}
    return LoadedRun("x", pl.DataFrame({"run_id": ["run-42"]}), timeline, performance=performance)


def _threshold_lines(ax: Any, value: float) -> list[Any]:
    return [line for line in ax.get_lines() if list(line.get_ydata()) == [value, value]]


def test_a_far_threshold_is_written_not_drawn() -> None:
    run = _long_run(rss_mb=100.0)
    fig = plots.memory(run)
    ax = fig.axes[0]
    assert _threshold_lines(ax, 1024.0) == []
    assert ax.get_ylim()[1] < 200  # the curve fills the panel, not a tenth of it
    assert any("threshold 1,024 MB" in text for text in _texts(fig))


def test_a_near_threshold_is_drawn() -> None:
    run = _long_run(rss_mb=700.0)
    ax = plots.memory(run).axes[0]
    assert len(_threshold_lines(ax, 1024.0)) == 1 and ax.get_ylim()[1] > 1024


def test_throughput_is_a_rolling_rate_over_faint_points() -> None:
    run = _long_run()
    ax = plots.throughput(run).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    rolling = [line for label, line in lines.items() if "rolling" in label]
    raw = [line for label, line in lines.items() if "each" in label or "per" in label]
    assert len(rolling) == 1 and len(raw) == 1
    assert (raw[0].get_alpha() or 1.0) <= 0.4 and raw[0].get_linestyle() in ("None", "none", "")
    raw_y, smooth_y = list(raw[0].get_ydata()), list(rolling[0].get_ydata())
    assert len(smooth_y) == len(raw_y) == 300

    def spread(values: list[float]) -> float:
        return max(values[30:]) - min(values[30:])

    assert spread(smooth_y) < spread(raw_y) / 3
    assert 0 < min(smooth_y[30:]) and max(smooth_y) < max(raw_y)


@pytest.mark.parametrize("name", [*plots.PLOTS, "overview"])
def test_every_figure_names_its_run_and_source(sample_run: IngestResult, name: str) -> None:
    draw = getattr(plots, name)
    for run in (sample_run, load_run(sample_run.state_dir)):
        title = _titles(draw(run))
        assert sample_run.run_id in title and sample_run.source in title, title


@pytest.mark.parametrize("name", [*plots.PLOTS, "overview"])
def test_slice_and_commit_are_explained_where_used(sample_run: IngestResult, name: str) -> None:
    texts = _texts(getattr(plots, name)(sample_run))
    for word in ("slice", "commit"):
        if any(re.search(rf"\b{word}", text, re.I) for text in texts):
            assert any(re.search(rf"\b{word}\b\s*[=:]", text, re.I) for text in texts), (word, texts)
