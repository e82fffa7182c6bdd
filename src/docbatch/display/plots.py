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
from docbatch.metrics import format_rate

MB = 1024 * 1024
OK, BAD, WARN, GREY = "#2e7d32", "#c62828", "#ef6c00", "#757575"
PLOTS = ("throughput", "memory", "errors", "durations", "slice_sizes")


COMMIT_NOTE = "commit = files written to the store in one transaction"
SLICE_NOTE = "slice = files a worker parses in one task"
NEAR_THRESHOLD = 0.5
"""The memory threshold is drawn as a line once the curve reaches this share of it."""


def throughput(run: Any, *, ax: Any = None) -> Any:
    """Files per second over elapsed time: a rolling rate over the last commits, with each
    commit's own rate as faint points behind it."""
    run = _as_run(run)
    fig, ax = _axes(ax, run)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no commits in this run")
    window = rolling_window(t.height)
    ax.plot(
        t["t"], t["commit_rate"], "o", ls="None", color="#1565c0", ms=2.5, alpha=0.25, label="each commit"
    )
    ax.plot(t["t"], t["rolling_rate"], "-", color="#0d47a1", lw=1.8, label=f"rolling rate ({window} commits)")
    _mark_resumes(ax, t)
    ax.set(title="Throughput", xlabel="elapsed (s)", ylabel="files/s")
    top = max(_number(t["rolling_rate"].max()), _number(t["commit_rate"].quantile(0.95)))
    ax.set_ylim(0, top * 1.15 or 1.0)
    ax.legend(loc="best", fontsize="small")
    _note(ax, COMMIT_NOTE)
    return fig


def rolling_window(commits: int) -> int:
    """Commits per rolling rate: about a tenth of the run, 1 to 50."""
    return max(1, min(50, commits // 10))


def memory(run: Any, *, threshold_mb: float | None = None, ax: Any = None) -> Any:
    """RSS and peak RSS over elapsed time. The memory threshold is a line when the curve
    comes near it (half of it or more), otherwise a note, so a far threshold does not
    flatten the curve."""
    run = _as_run(run)
    fig, ax = _axes(ax, run)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no commits in this run")
    limit = threshold_mb if threshold_mb is not None else memory_threshold(run)
    ax.plot(t["t"], t["rss_mb"], "o-", color="#6a1b9a", ms=3, lw=1.2, label="RSS")
    ax.plot(t["t"], t["peak_rss_mb"], "-", color=GREY, lw=1, label="peak RSS")
    warned = t.filter(pl.col("memory_warning"))
    if warned.height:
        ax.plot(warned["t"], warned["rss_mb"], "v", color=BAD, ms=7, label="warning")
    highest = max(_number(t["peak_rss_mb"].max()), _number(t["rss_mb"].max()))
    drawn = limit is not None and highest >= NEAR_THRESHOLD * limit
    if limit is not None and drawn:
        ax.axhline(limit, color=BAD, ls="--", lw=1.2, label=f"threshold {limit:,.0f} MB")
    elif limit is not None:
        ax.text(
            0.99,
            0.03,
            f"threshold {limit:,.0f} MB (far above the curve)",
            ha="right",
            va="bottom",
            color=BAD,
            fontsize="small",
            transform=ax.transAxes,
        )
    _mark_resumes(ax, t)
    ax.set(title="Memory", xlabel="elapsed (s)", ylabel="MB")
    top = max(highest, limit or 0.0) if drawn else highest
    ax.set_ylim(0, top * 1.12 or 1.0)
    ax.legend(loc="upper left", fontsize="small")
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
    _title(fig, run)
    errors_by_category(run, ax=left)
    errors_by_type(run, ax=right)
    return fig


def durations(run: Any, *, ax: Any = None) -> Any:
    """The distribution of per-file processing time, one box per format (log scale)."""
    run = _as_run(run)
    fig, ax = _axes(ax, run)
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
    """Files per commit and the slice size in force, commit after commit (shows the slice
    size shrinking under memory pressure; a commit holds one slice, or several whose
    results came back together)."""
    run = _as_run(run)
    fig, ax = _axes(ax, run)
    t = _timeline(run)
    if t.height == 0:
        return _empty(fig, ax, "no commits in this run")
    n = list(range(1, t.height + 1))
    ax.bar(n, t["commit_files"], color="#90caf9", label="files in the commit")
    ax.step(n, t["slice_size"], where="mid", color="#0d47a1", lw=1.5, label="slice size in force")
    warned = t.with_columns(n=pl.Series(n)).filter(pl.col("memory_warning"))
    if warned.height:
        ax.plot(warned["n"], warned["slice_size"], "v", color=BAD, ms=7, label="memory warning")
    ax.set(title="Slice size", xlabel="commit number", ylabel="files")
    ax.set_ylim(0, max(_number(t["slice_size"].max()), _number(t["commit_files"].max())) * 1.25 or 1)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best", fontsize="small")
    _note(ax, f"{SLICE_NOTE}\n{COMMIT_NOTE}")
    return fig


def compare(runs: Mapping[str, Any], *, ax: Any = None) -> Any:
    """The rolling throughput of several runs on one Axes, labelled by the mapping's keys
    and each run's files/s."""
    fig, ax = _axes(ax)
    for label, item in runs.items():
        run = _as_run(item)
        t = _timeline(run)
        if t.height:
            rate = format_rate(run.files_per_second)
            ax.plot(t["t"], t["rolling_rate"], "-", lw=1.4, label=f"{label} ({rate})")
    ax.set(title="Throughput by run (rolling rate)", xlabel="elapsed (s)", ylabel="files/s")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


def overview(run: Any) -> Any:
    """All panels on one figure: throughput, memory, slices, durations and both error panels."""
    run = _as_run(run)
    fig, axes = _figure(2, 3, (13.5, 6.6))
    _title(fig, run)
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
    """The timeline with a continuous clock ``t``, each commit's rate ``commit_rate`` and
    the rate over the last ``rolling_window`` commits ``rolling_rate``.

    A resumed run's timeline holds one segment per call, each starting again at commit 0;
    ``t`` lays the segments end to end and ``segment`` numbers them.
    """
    tl: pl.DataFrame = run.timeline
    t: list[float] = []
    rate: list[float] = []
    segment: list[int] = []
    offset, previous, seg = 0.0, 0.0, 0
    for i, (elapsed, commit, files) in enumerate(
        zip(tl["elapsed_s"].fill_null(0.0), tl["commit"], tl["commit_files"], strict=True)
    ):
        if i and (commit == 0 or elapsed < previous):
            offset += previous
            previous, seg = 0.0, seg + 1
        t.append(offset + elapsed)
        rate.append(files / (elapsed - previous) if elapsed > previous else 0.0)
        segment.append(seg)
        previous = elapsed
    window = rolling_window(len(t))
    files = tl["commit_files"].fill_null(0).to_list()
    rolling = []
    for i in range(len(t)):
        first = max(0, i - window + 1)
        since = t[first - 1] if first > 0 else 0.0
        rolling.append(sum(files[first : i + 1]) / (t[i] - since) if t[i] > since else 0.0)
    return tl.with_columns(
        t=pl.Series(t, dtype=pl.Float64),
        commit_rate=pl.Series(rate, dtype=pl.Float64),
        rolling_rate=pl.Series(rolling, dtype=pl.Float64),
        segment=pl.Series(segment, dtype=pl.Int32),
        memory_warning=pl.col("memory_warning").fill_null(False),
    )


def _number(value: object) -> float:
    """A Series aggregate as a float (0.0 for an empty or all-null Series)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _mark_resumes(ax: Any, t: pl.DataFrame) -> None:
    starts = t.filter(pl.col("segment").diff().fill_null(0) > 0)["t"].to_list()
    for i, x in enumerate(starts):
        ax.axvline(x, color=WARN, ls=":", lw=1, label="resumed" if i == 0 else None)


def _error_bars(run: Any, column: str, title: str, ax: Any) -> Any:
    fig, ax = _axes(ax, run)
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


def _axes(ax: Any, run: Any = None) -> tuple[Any, Any]:
    """The figure and Axes to draw on: ``ax``'s, or a new figure titled with ``run``."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = _figure(1, 1, (6.4, 3.6))
    if run is not None:
        _title(fig, run)
    return fig, ax


def _title(fig: Any, run: Any) -> None:
    """The figure's title: which source and which run it shows."""
    source = getattr(run, "source", "") or "?"
    fig.suptitle(f"{source} · run {run.run_id}", fontsize="medium")


def _note(ax: Any, text: str) -> None:
    """A small grey note under the Axes, explaining a word it uses."""
    ax.annotate(
        text,
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -30),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize="x-small",
        color=GREY,
    )


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
