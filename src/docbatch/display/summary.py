"""A compact HTML summary of a run, for ``_repr_html_`` in notebooks (no heavy imports)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.metrics import format_rate

_TILE = (
    "display:inline-block;min-width:5.5em;margin:0 .4em .3em 0;padding:.25em .6em;"
    "border-radius:4px;border:1px solid {border};background:{bg}"
)
_COLOURS = {
    "total": ("#999", "transparent"),
    "succeeded": ("#2e7d32", "rgba(46,125,50,.08)"),
    "failed": ("#c62828", "rgba(198,40,40,.08)"),
    "skipped": ("#777", "rgba(120,120,120,.08)"),
    "pending": ("#ef6c00", "rgba(239,108,0,.08)"),
}


def summary_html(run: Any, *, top: int = 5) -> str:
    """Totals, rate, peak memory, the top error categories and where the reports are.

    Args:
        run: an ``IngestResult`` or a ``LoadedRun`` (anything with ``outcomes`` and
            the count properties).
        top: how many error categories (and example files) to list.
    """
    counts = {
        "total": run.total_files,
        "succeeded": run.succeeded,
        "failed": run.failed,
        "skipped": run.skipped,
        "pending": run.pending,
    }
    tiles = "".join(_tile(name, value) for name, value in counts.items() if value or name != "pending")
    state = _state(run)
    parts = [
        "<div class='docbatch-summary' style='font-family:var(--jp-ui-font-family,sans-serif);"
        "font-size:13px;line-height:1.4'>",
        f"<div style='margin-bottom:.3em'><b>docbatch run</b> <code>{_e(run.run_id)}</code> "
        f"&middot; {state}</div>",
        f"<div>{tiles}</div>",
        f"<div>{_rates(run)}</div>",
        _error_table(run.failed_rows(), top),
        _reports(run),
        "</div>",
    ]
    return "".join(p for p in parts if p)


def _e(value: object) -> str:
    return html.escape(str(value))


def _tile(name: str, value: int) -> str:
    border, bg = _COLOURS[name]
    return (
        f"<span style='{_TILE.format(border=border, bg=bg)}'>"
        f"<b style='color:{border};font-size:1.15em'>{value}</b> {name}</span>"
    )


def _state(run: Any) -> str:
    if getattr(run, "interrupted", False):
        return "<span style='color:#ef6c00'>interrupted: run again to resume</span>"
    if run.pending:
        return f"<span style='color:#ef6c00'>{run.pending} files pending: run again to continue</span>"
    performance = getattr(run, "performance", None)
    if isinstance(performance, dict) and performance.get("state") not in (None, "complete"):
        return f"<span style='color:#ef6c00'>{_e(performance['state'])}</span>"
    return "<span style='color:#2e7d32'>complete</span>"


def _rates(run: Any) -> str:
    bits = [format_rate(run.files_per_second, checked_only=bool(getattr(run, "checked_only", False)))]
    bytes_per_second = getattr(run, "bytes_per_second", None)
    if bytes_per_second is None:
        bytes_per_second = (getattr(run, "performance", None) or {}).get("bytes_per_second")
    if bytes_per_second:
        bits.append(f"{bytes_per_second / 1024 / 1024:,.2f} MB/s")
    bits.append(f"{run.elapsed_s:,.2f} s")
    bits.append(f"peak memory {run.peak_memory_mb:,.0f} MB")
    threshold = getattr(run, "memory_threshold_mb", None)
    if threshold:
        bits[-1] += f" (threshold {threshold:,.0f} MB)"
    return " &middot; ".join(bits)


def _error_table(outcomes: pl.DataFrame, top: int) -> str:
    failed = outcomes.filter(pl.col("status") == "failed")
    if failed.height == 0:
        return ""
    by_category = (
        failed.group_by(pl.col("error_category").fill_null("unknown"))
        .agg(
            files=pl.len(),
            types=pl.col("error_type").fill_null("?").unique().sort().str.join(", "),
            example=pl.col("doc_id").first(),
            message=pl.col("error_message").fill_null("").first(),
        )
        .sort(["files", "error_category"], descending=[True, False])
    )
    rows = "".join(
        "<tr>"
        f"<td style='text-align:left'>{_e(r['error_category'])}</td>"
        f"<td style='text-align:right'>{r['files']}</td>"
        f"<td style='text-align:left'>{_e(r['types'])}</td>"
        f"<td style='text-align:left'><code>{_e(r['example'])}</code>: {_e(_short(r['message']))}</td>"
        "</tr>"
        for r in by_category.head(top).iter_rows(named=True)
    )
    more = by_category.height - top
    tail = f"<tr><td colspan='4'>and {more} more categories</td></tr>" if more > 0 else ""
    return (
        "<table style='margin:.4em 0;border-collapse:collapse;font-size:12px'>"
        "<tr><th style='text-align:left'>error category</th><th>files</th>"
        "<th style='text-align:left'>types</th><th style='text-align:left'>for example</th></tr>"
        f"{rows}{tail}</table>"
    )


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reports(run: Any) -> str:
    paths = getattr(run, "reports", None) or {}
    if not paths:
        return ""
    folder = Path(next(iter(paths.values()))).parent
    names = ", ".join(Path(p).name for p in paths.values())
    return f"<div style='color:#666'>reports in <code>{_e(folder)}</code>: {_e(names)}</div>"
