"""A live ipywidgets dashboard that implements the progress sink.

The runner calls ``start``, ``update`` (once per store commit, with that commit's
timeline row) and ``stop``; a runner that also reports committed outcome rows
calls ``outcomes``, which feeds the error table. Nothing polls: every change
on screen comes from one of these events. ipywidgets is imported when a
``Dashboard`` is built, never when this module is imported.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from docbatch.display import require
from docbatch.metrics import MB, BatchProgress, format_rate, processing_metrics

UNREPORTED = "(category not reported)"
STATS = ("files_per_second", "mb_per_second", "eta", "slice_size")
COUNTS = ("succeeded", "failed", "skipped", "pending")
_COUNT_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "skipped": "#616161",
    "pending": "#ef6c00",
}


class Dashboard:
    """Progress bar, rates, memory against its threshold, ETA, counts and an error table.

    Widgets are attributes so they can be inspected: ``bar`` (IntProgress),
    ``percent``, ``memory_bar`` (FloatProgress of RSS against the threshold),
    ``memory`` (RSS/peak label), ``stats`` and ``counts`` (dicts of HTML labels),
    ``error_table`` and ``title`` (HTML), all inside ``box``.

    Args:
        memory_threshold_mb: RSS above which the memory gauge turns to a warning
            colour (default: ``docbatch.config.memory_threshold_mb``).
        title: the heading shown above the bar.
        display: show the panel (IPython ``display``) when the run starts.
        min_interval_s: at most one redraw per this many seconds; ``stop`` always redraws.
        max_error_rows: error categories listed before "and N more".
        clock: the time source for throttling.

    Raises:
        MissingExtraError: ipywidgets is not installed.
    """

    def __init__(
        self,
        memory_threshold_mb: float | None = None,
        *,
        title: str = "docbatch",
        display: bool = True,
        min_interval_s: float = 0.1,
        max_error_rows: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        w = require("ipywidgets", "the progress dashboard")
        if memory_threshold_mb is None:
            from docbatch.config import config

            memory_threshold_mb = config.memory_threshold_mb
        self.memory_threshold_mb = float(memory_threshold_mb)
        self.title_text = title
        self.auto_display = display
        self.min_interval_s = min_interval_s
        self.max_error_rows = max_error_rows
        self.clock = clock
        self.error_counts: dict[str, int] = {}
        self.error_examples: dict[str, str] = {}
        self._failed_seen: set[str] = set()
        self._last_row: dict[str, Any] = {}
        self._last_draw = float("-inf")
        self._shown = False
        self.finished = False

        self.title = w.HTML(value=f"<b>{html.escape(title)}</b> waiting to start")
        self.bar = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="420px"))
        self.percent = w.HTML(value="")
        self.memory_bar = w.FloatProgress(
            value=0.0,
            min=0.0,
            max=self.memory_threshold_mb,
            bar_style="success",
            layout=w.Layout(width="160px"),
        )
        self.memory = w.HTML(value="")
        self.stats = {name: w.HTML(value="") for name in STATS}
        self.counts = {name: w.HTML(value="") for name in COUNTS}
        self.error_table = w.HTML(value="")
        cell = w.Layout(margin="0 14px 0 0")
        for label in (*self.stats.values(), *self.counts.values()):
            label.layout = cell
        self.box = w.VBox(
            [
                self.title,
                w.HBox([self.bar, self.percent]),
                w.HBox(list(self.stats.values())),
                w.HBox([self.memory_bar, self.memory]),
                w.HBox(list(self.counts.values())),
                self.error_table,
            ],
            layout=w.Layout(padding="4px 0"),
        )

    # the sink ------------------------------------------------------------------------------
    def start(self, progress: BatchProgress) -> None:
        """Show the panel and draw the starting counters."""
        self.finished = False
        self.bar.max = max(1, progress.total_files)
        if self.auto_display and not self._shown:
            from IPython.display import display

            display(self.box)  # type: ignore[no-untyped-call]
            self._shown = True
        self._draw(progress)

    def update(self, progress: BatchProgress, commit_row: dict[str, Any]) -> None:
        """Redraw after a commit (at most once per ``min_interval_s``)."""
        self._last_row = dict(commit_row)
        if self.clock() - self._last_draw >= self.min_interval_s:
            self._draw(progress)

    def outcomes(self, progress: BatchProgress | None, frame: pl.DataFrame) -> None:
        """Count the failed rows of ``frame`` (OUTCOMES columns) in the error table.

        A file is counted once however often it is reported.
        """
        failed = frame.filter(pl.col("status") == "failed")
        for row in failed.iter_rows(named=True):
            doc_id = str(row.get("doc_id"))
            if doc_id in self._failed_seen:
                continue
            self._failed_seen.add(doc_id)
            category = row.get("error_category") or "unknown"
            self.error_counts[category] = self.error_counts.get(category, 0) + 1
            message = " ".join(str(row.get("error_message") or row.get("error_type") or "").split())
            self.error_examples[category] = f"{doc_id}: {message}"
        if progress is not None and self.clock() - self._last_draw >= self.min_interval_s:
            self._draw(progress)

    def stop(self, progress: BatchProgress) -> None:
        """Draw the final state; the bar turns green when every file was handled."""
        self.finished = True
        self._draw(progress)

    # drawing -------------------------------------------------------------------------------
    def _draw(self, progress: BatchProgress) -> None:
        self._last_draw = self.clock()
        m = processing_metrics(progress)
        total = m["total_files"]
        self.bar.max = max(1, total)
        self.bar.value = min(m["processed"], self.bar.max) if total else 1
        done = m["pending"] == 0 and m["processed"] >= total
        if self.finished:
            self.bar.bar_style = "success" if done else "warning"
        else:
            self.bar.bar_style = "info"
        self.percent.value = f"&nbsp;{m['processed']:,}/{total:,} files ({m['progress_percent']:.0f}%)"
        if not self.finished:
            state = "ingesting"
        elif done:
            state = "done"
        else:
            state = f"stopped &middot; {m['pending']:,} files pending: run again to continue"
        self.title.value = f"<b>{html.escape(self.title_text)}</b> {state} &middot; {m['elapsed_s']:.1f} s"
        self._draw_stats(m)
        self._draw_memory(m)
        for name in COUNTS:
            colour = _COUNT_COLOURS[name]
            self.counts[name].value = _stat(f"{m[name]:,}", name, colour)
        self.error_table.value = self._error_html(m["failed"])

    def _draw_stats(self, m: dict[str, Any]) -> None:
        eta = m["estimated_time_remaining"]
        rate, unit = format_rate(m["files_per_second"]).split(" ", 1)
        self.stats["files_per_second"].value = _stat(rate, unit)
        self.stats["mb_per_second"].value = _stat(f"{m['bytes_per_second'] / MB:,.2f}", "MB/s")
        if self.finished and m["pending"]:
            self.stats["eta"].value = _stat(format_seconds(eta), "to do the pending files")
        else:
            self.stats["eta"].value = _stat("done" if self.finished else format_seconds(eta), "ETA")
        size = self._last_row.get("slice_size")
        self.stats["slice_size"].value = _stat("—" if size is None else f"{size:,}", "slice size")

    def _draw_memory(self, m: dict[str, Any]) -> None:
        rss, peak, limit = m["memory_usage_mb"], m["peak_memory_mb"], self.memory_threshold_mb
        self.memory_bar.max = max(limit, rss)
        self.memory_bar.value = rss
        if rss > limit:
            self.memory_bar.bar_style, colour, note = "danger", "#c62828", " — over the threshold"
        elif peak > limit:
            self.memory_bar.bar_style, colour, note = "warning", "#ef6c00", " — peak was over"
        else:
            self.memory_bar.bar_style, colour, note = "success", "inherit", ""
        self.memory.value = (
            f"<span style='color:{colour}'>&nbsp;RSS <b>{rss:,.0f} MB</b> &middot; peak "
            f"{peak:,.0f} MB / threshold {limit:,.0f} MB{note}</span>"
        )

    def _error_html(self, failed_total: int) -> str:
        counts = dict(self.error_counts)
        unreported = failed_total - sum(counts.values())
        if unreported > 0:
            counts[UNREPORTED] = unreported
        if not counts:
            return ""
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        rows = "".join(
            f"<tr><td style='text-align:left;padding-right:12px'>{html.escape(category)}</td>"
            f"<td style='text-align:right;padding-right:12px'>{count:,}</td>"
            f"<td style='text-align:left;color:#666'>{html.escape(_short(example))}</td></tr>"
            for category, count in ordered[: self.max_error_rows]
            for example in [self.error_examples.get(category, "")]
        )
        more = len(ordered) - self.max_error_rows
        if more > 0:
            rows += f"<tr><td colspan='3'>and {more} more categories</td></tr>"
        return (
            "<table style='font-size:12px;border-collapse:collapse'>"
            "<tr><th style='text-align:left'>error category</th><th>files</th>"
            "<th style='text-align:left'>latest</th></tr>"
            f"{rows}</table>"
        )

    # display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close every widget of the panel (frees their front-end models)."""
        for child in self._widgets():
            child.close()

    def _widgets(self) -> list[Any]:
        return [
            self.box,
            self.title,
            self.bar,
            self.percent,
            self.memory_bar,
            self.memory,
            *self.stats.values(),
            *self.counts.values(),
            self.error_table,
            *self.box.children,
        ]


def format_seconds(seconds: float | None) -> str:
    """``None`` as "—", otherwise seconds as "42 s", "3 min 05 s" or "1 h 02 min"."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _stat(value: str, caption: str, colour: str = "inherit") -> str:
    return (
        f"<span style='color:{colour}'><b style='font-size:1.2em'>{html.escape(value)}</b> "
        f"{html.escape(caption)}</span>"
    )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
