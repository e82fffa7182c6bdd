"""What a continued run carries from its earlier calls, checked against the store.

The outcome rows of the run's earlier calls stand for files unchanged since, unless the
store, planned against now, no longer holds what the run stored (``without_lost``) or the
file is planned to be parsed again with the label table (``docbatch.state.labels``).
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl

from docbatch.plan import planning
from docbatch.state.plan_rows import Rows

log = logging.getLogger("docbatch")


def without_lost(carried: pl.DataFrame, planned: Rows, force: bool) -> tuple[pl.DataFrame, int]:
    """``carried`` without the rows of files this run stored (or found stored) that the
    store, planned against now, does not hold as they were: its committed transactions
    were lost underneath the run (a write-ahead log removed after a crash, a store file
    restored from a copy). Those files are processed again; returns how many there are.

    A file the store does not hold plans as "new", one it holds at an older version as
    "changed" (in a forced run every stored file plans as "changed": only "new" tells). A
    file planned to be parsed again with the label table is not carried, and not lost."""
    gone = ["new"] if force else ["new", "changed"]
    relabel = pl.col("reason").eq_missing(planning.RELABEL)
    carried = carried.join(planned.filter(relabel).select("doc_id"), on="doc_id", how="anti")
    stored = carried.filter(pl.col("status").is_in(["succeeded", "skipped"]))
    lost = stored.join(planned.filter(pl.col("status").is_in(gone)).select("doc_id"), on="doc_id", how="semi")
    if lost.height == 0:
        return carried, 0
    return carried.join(lost.select("doc_id"), on="doc_id", how="anti"), lost.height


def lost_problem(count: int, location: str) -> dict[str, Any]:
    message = (
        f"the store has lost {count} documents this run had stored (its committed transactions "
        f"are not in {location}: a write-ahead log removed after a crash, or the file restored "
        "from a copy); they are ingested again in this run"
    )
    log.warning("%s", message)
    return {"type": "StoreLost", "category": "checkpoint", "count": count, "message": message}


__all__ = ["lost_problem", "without_lost"]
