"""matplotlib figures of a run, drawn only from its frames and reports.

Every function takes an ``IngestResult``, a ``LoadedRun`` (``load_run``) or a state
folder path, and returns the ``matplotlib.figure.Figure``; those that draw one
panel accept ``ax=`` to draw into an existing Axes instead. matplotlib is imported
on the first call::

    from docbatch.display import plots
    plots.throughput(result)
    plots.write_plots("docbatch.state", "plots/")
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.display import require
from docbatch.display.load import load_run

MB = 1024 * 1024
OK, BAD, WARN, GREY = "#2e7d32", "#c62828", "#ef6c00", "#757575"
PLOTS = ("throughput", "memory", "errors", "durations", "slice_sizes")


def throughput(run: Any, *, ax: Any = None) -> Any:
    """Files per second per commit, and the running average, over elapsed time."""
    run = _as_run(run)
    fig, ax = _axes(ax)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no slices in this run")
    ax.plot(t["t"], t["slice_rate"], "o-", color="#1565c0", ms=3, lw=1.2, label="per commit")
    ax.plot(t["t"], t["files_per_second"], "--", color=GREY, lw=1.2, label="running average")
    _mark_resumes(ax, t)
    ax.set(title="Throughput", xlabel="elapsed (s)", ylabel="files/s")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


def memory(run: Any, *, threshold_mb: float | None = None, ax: Any = None) -> Any:
    """RSS and peak RSS over elapsed time, with the memory threshold as a line."""
    run = _as_run(run)
    fig, ax = _axes(ax)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no slices in this run")
    limit = threshold_mb if threshold_mb is not None else memory_threshold(run)
    ax.plot(t["t"], t["rss_mb"], "o-", color="#6a1b9a", ms=3, lw=1.2, label="RSS")
    ax.plot(t["t"], t["peak_rss_mb"], "-", color=GREY, lw=1, label="peak RSS")
    warned = t.filter(pl.col("memory_warning"))
    if warned.height:
        ax.plot(warned["t"], warned["rss_mb"], "v", color=BAD, ms=7, label="warning")
    if limit is not None:
        ax.axhline(limit, color=BAD, ls="--", lw=1.2, label=f"threshold {limit:,.0f} MB")
    _mark_resumes(ax, t)
    ax.set(title="Memory", xlabel="elapsed (s)", ylabel="MB")
    top = max(_max(t["peak_rss_mb"]), _max(t["rss_mb"]), limit or 0.0)
    ax.set_ylim(0, top * 1.12 or 1.0)
    ax.legend(loc="best", fontsize="small")
    return fig


def errors_by_category(run: Any, *, ax: Any = None) -> Any:
    """Failed files counted by error category (horizontal bars)."""
    return _error_bars(_as_run(run), "error_category", "Errors by category", ax)


def errors_by_type(run: Any, *, ax: Any = None) -> Any:
    """Failed files counted by exception type (horizontal bars)."""
    return _error_bars(_as_run(run), "error_type", "Errors by exception type", ax)


def errors(run: Any) -> Any:
    """Two panels: failed files by category and by exception type."""
    run = _as_run(run)
    fig, (left, right) = _figure(1, 2, (9.6, 3.4))
    errors_by_category(run, ax=left)
    errors_by_type(run, ax=right)
    return fig


def durations(run: Any, *, ax: Any = None) -> Any:
    """The distribution of per-file processing time, one box per format (log scale)."""
    run = _as_run(run)
    fig, ax = _axes(ax)
    timed = run.outcomes.filter(pl.col("duration_s").is_not_null() & (pl.col("duration_s") > 0))
    if timed.height == 0:
        return _empty(fig, ax, "no timed files in this run")
    formats = sorted(timed["format"].fill_null("unknown").unique().to_list())
    data = [
        (timed.filter(pl.col("format").fill_null("unknown") == f)["duration_s"] * 1000).to_list()
        for f in formats
    ]
    ax.boxplot(
        data,
        tick_labels=[f"{f}\n({len(d)})" for f, d in zip(formats, data, strict=True)],
        showfliers=True,
        flierprops={"markersize": 3},
    )
    ax.set_yscale("log")
    ax.set(title="Time per file by format", ylabel="ms per file")
    return fig


def slice_sizes(run: Any, *, ax: Any = None) -> Any:
    """Files per commit and the slice size in force, over the commits (shows adaptive shrink;
    a commit holds one slice, or several whose results came back together)."""
    run = _as_run(run)
    fig, ax = _axes(ax)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no slices in this run")
    n = list(range(t.height))
    ax.bar(n, t["slice_files"], color="#90caf9", label="files in commit")
    ax.step(n, t["slice_size"], where="mid", color="#0d47a1", lw=1.5, label="slice size in force")
    warned = [i for i, w in zip(n, t["memory_warning"], strict=True) if w]
    if warned:
        ax.plot(
            warned,
            [t["slice_size"][i] for i in warned],
            "v",
            color=BAD,
            ms=7,
            label="memory warning",
        )
    ax.set(title="Slice size", xlabel="commit", ylabel="files")
    ax.set_ylim(0, max(_max(t["slice_size"]), _max(t["slice_files"])) * 1.25 or 1)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best", fontsize="small")
    return fig


def compare(runs: Mapping[str, Any], *, ax: Any = None) -> Any:
    """Per-slice throughput of several runs on one Axes, labelled by the mapping's keys."""
    fig, ax = _axes(ax)
    for label, item in runs.items():
        t = _timeline(_as_run(item))
        if t.height:
            mean = float(t["slice_files"].sum()) / max(_max(t["t"]), 1e-9)
            ax.plot(t["t"], t["slice_rate"], "o-", ms=3, lw=1.2, label=f"{label} ({mean:,.0f} files/s)")
    ax.set(title="Throughput by run", xlabel="elapsed (s)", ylabel="files/s per commit")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


def overview(run: Any) -> Any:
    """All panels on one figure: throughput, memory, slices, durations and both error panels."""
    run = _as_run(run)
    fig, axes = _figure(2, 3, (13.5, 6.6))
    throughput(run, ax=axes[0][0])
    memory(run, ax=axes[0][1])
    slice_sizes(run, ax=axes[0][2])
    durations(run, ax=axes[1][0])
    errors_by_category(run, ax=axes[1][1])
    errors_by_type(run, ax=axes[1][2])
    return fig


def write_plots(run: Any, out_dir: str | os.PathLike[str], *, dpi: int = 100) -> dict[str, Path]:
    """Save every plot (and the overview) as PNG files in ``out_dir``; returns paths by name."""
    run = _as_run(run)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {name: globals()[name](run) for name in PLOTS} | {"overview": overview(run)}
    paths: dict[str, Path] = {}
    for name, fig in drawn.items():
        paths[name] = folder / f"{name}.png"
        fig.savefig(paths[name], dpi=dpi)
    return paths


def memory_threshold(run: Any) -> float | None:
    """The run's ``memory_threshold_mb`` from its performance report, when known."""
    known = getattr(run, "memory_threshold_mb", None)
    if known is not None:
        return float(known)
    path = (getattr(run, "reports", None) or {}).get("performance")
    if not path:
        return None
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))["configuration"]["memory_threshold_mb"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(value)


class Plots:
    """The plots of one run as methods: ``Plots(result).memory()``."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def throughput(self, **kwargs: Any) -> Any:
        return throughput(self.run, **kwargs)

    def memory(self, **kwargs: Any) -> Any:
        return memory(self.run, **kwargs)

    def errors(self) -> Any:
        return errors(self.run)

    def durations(self, **kwargs: Any) -> Any:
        return durations(self.run, **kwargs)

    def slice_sizes(self, **kwargs: Any) -> Any:
        return slice_sizes(self.run, **kwargs)

    def overview(self) -> Any:
        return overview(self.run)

    def write(self, out_dir: str | os.PathLike[str], **kwargs: Any) -> dict[str, Path]:
        return write_plots(self.run, out_dir, **kwargs)


# helpers -----------------------------------------------------------------------------------
def _as_run(run: Any) -> Any:
    if isinstance(run, str | os.PathLike):
        return load_run(run)
    if hasattr(run, "outcomes") and hasattr(run, "timeline"):
        return run
    raise TypeError(f"expected an IngestResult, a LoadedRun or a state folder, got {type(run).__name__}")


def _timeline(run: Any) -> pl.DataFrame:
    """The timeline with a continuous clock ``t`` and the per-slice rate ``slice_rate``.

    A resumed run's timeline holds one segment per call, each starting again at slice 0;
    ``t`` lays the segments end to end and ``segment`` numbers them.
    """
    tl: pl.DataFrame = run.timeline
    t, rate, segment = [], [], []
    offset, previous, seg = 0.0, 0.0, 0
    for i, (elapsed, slice_no, files) in enumerate(
        zip(tl["elapsed_s"].fill_null(0.0), tl["slice"], tl["slice_files"], strict=True)
    ):
        if i and (slice_no == 0 or elapsed < previous):
            offset += previous
            previous, seg = 0.0, seg + 1
        t.append(offset + elapsed)
        rate.append(files / (elapsed - previous) if elapsed > previous else 0.0)
        segment.append(seg)
        previous = elapsed
    return tl.with_columns(
        t=pl.Series(t, dtype=pl.Float64),
        slice_rate=pl.Series(rate, dtype=pl.Float64),
        segment=pl.Series(segment, dtype=pl.Int32),
        memory_warning=pl.col("memory_warning").fill_null(False),
    )


def _max(series: pl.Series) -> float:
    value = series.max()
    return float(value) if isinstance(value, int | float) else 0.0


def _mark_resumes(ax: Any, t: pl.DataFrame) -> None:
    starts = t.filter(pl.col("segment").diff().fill_null(0) > 0)["t"].to_list()
    for i, x in enumerate(starts):
        ax.axvline(x, color=WARN, ls=":", lw=1, label="resumed" if i == 0 else None)


def _error_bars(run: Any, column: str, title: str, ax: Any) -> Any:
    fig, ax = _axes(ax)
    failed = run.outcomes.filter(pl.col("status") == "failed")
    if failed.height == 0:
        return _empty(fig, ax, "no failed files", title)
    counts = (
        failed.group_by(pl.col(column).fill_null("unknown"))
        .len()
        .sort(["len", column], descending=[False, True])
    )
    names, values = counts[column].to_list(), counts["len"].to_list()
    bars = ax.barh(names, values, height=0.6, color=BAD, alpha=0.8)
    ax.set_ylim(-0.5 - max(0.0, (3 - len(names)) / 2), len(names) - 0.5 + max(0.0, (3 - len(names)) / 2))
    ax.bar_label(bars, padding=2, fontsize="small")
    ax.set(title=title, xlabel="files")
    ax.set_xlim(0, max(values) * 1.2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


def _empty(fig: Any, ax: Any, message: str, title: str | None = None) -> Any:
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def _axes(ax: Any) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    return _figure(1, 1, (6.4, 3.6))


def _figure(nrows: int, ncols: int, size: tuple[float, float]) -> tuple[Any, Any]:
    """A new figure; inside IPython it comes from pyplot (so the inline backend can show
    it) and is closed at once, so it shows only where it is returned, not twice."""
    require("matplotlib", "docbatch plots")
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    if shell is not None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(nrows, ncols, figsize=size, layout="constrained", squeeze=False)
        plt.close(fig)
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
    if nrows == 1 and ncols == 1:
        return fig, axes[0][0]
    if nrows == 1:
        return fig, list(axes[0])
    return fig, [list(row) for row in axes]
