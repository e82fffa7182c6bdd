"""What a run that a ``limit`` cuts into several calls keeps between them: the inventory it
was planned from and its plan, the plan dated by the store's change mark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.formats.html import HtmlOptions
from docbatch.plan.inventory_parts import InventoryParts
from docbatch.state.plan_rows import PlanRows
from docbatch.store.base import ChangeMarker, DocumentStore


@dataclass(frozen=True, eq=False)
class Ledger:
    """The figures of a run's reports as one of its calls left them, against the plan that
    call used: the next call that reuses that plan (and carries the kept rows over) adds
    its own files to them instead of counting the whole plan again."""

    plan: PlanRows
    counts: dict[str, int]
    """Rows of the run by status."""
    per_format: dict[str, dict[str, Any]]
    """The performance report's ``per_format``."""
    failures: pl.DataFrame
    """The rows of the files that failed."""
    pending: int
    """Files left for the next calls."""
    pending_bytes: int
    decided: dict[str, int]
    """The statuses of the rows planning decided (unchanged, skipped, invalid files)."""
    after: str | None = None
    """The doc_id of the call's last file, when every file of the call is done (the plan
    is in doc_id order: the next call's files come after it)."""


class RunInventory:
    """The inventory a run was planned from, and its plan, kept between the calls of that run.

    A run that a ``limit`` cuts into several calls is planned once. Walking the tree again for
    each one made the calls quadratic in the tree's size (37k files in calls of 1,000
    took 35 s, against 11 s in one call), so a call that continues the run its service
    started reuses that run's inventory. Files added meanwhile are found by the next run;
    a file changed or removed meanwhile is read as it is now (or found missing), and the
    next call walks the tree again (``drop``, when a call's ``OutcomeTally.listing_changed``
    says so): the outcome rows of a file
    whose size no longer matches the inventory would never count as done, and the run
    would never end.

    Reading every stored document of the source back for each call was quadratic too
    (70 ms per call at 37k documents). The plan is kept with the store's ``change_mark``
    as it was when the call ended, and a continuing call reuses it only when the store
    gives the same mark: nothing was committed to it since, by this run or anyone else.
    Files the run has done since the plan are its checkpoint's, not the plan's.

    Reading the run's checkpoint back (the outcome rows of every file it has done) and
    sampling the source's site template again in each call grew with the run too. The
    rows the next call carries over are kept with the names, sizes and modification times
    of the checkpoint parts they came from: the next call reads them again only when the
    parts on disk are not those (another process continued the run meanwhile). The site
    template found from the kept inventory's sample is kept with it.
    """

    def __init__(self) -> None:
        self._kept: tuple[str, tuple[Any, ...], InventoryParts] | None = None
        self._plan: tuple[tuple[Any, ...], PlanRows, int] | None = None
        self._mark: object = None
        self._html: tuple[InventoryParts, HtmlOptions, HtmlOptions] | None = None
        self._carried: tuple[str, tuple[tuple[str, int, int], ...], pl.DataFrame, Ledger | None] | None = None

    def get(self, run_id: str, key: tuple[Any, ...]) -> InventoryParts | None:
        """The kept inventory of run ``run_id`` taken with settings ``key``, if any."""
        if self._kept is None or self._kept[:2] != (run_id, key):
            return None
        if not all(path.is_file() for path in self._kept[2].files):  # another process cleared them
            self.drop()
            return None
        return self._kept[2]

    def html(self, inventory: InventoryParts, options: HtmlOptions) -> HtmlOptions | None:
        """``options`` with the site template ``inventory``'s sample gave, if kept."""
        if self._html is None or self._html[0] is not inventory or self._html[1] != options:
            return None
        return self._html[2]

    def keep_html(self, inventory: InventoryParts, options: HtmlOptions, found: HtmlOptions) -> None:
        """Keep ``options`` with the template ``inventory``'s sample gave (``found``)."""
        self._html = (inventory, options, found)

    def carried(
        self, run_id: str, signature: tuple[tuple[str, int, int], ...]
    ) -> tuple[pl.DataFrame, Ledger | None] | None:
        """The outcome rows run ``run_id``'s next call carries over and the figures its
        last call reported, if its checkpoint parts are still the ones with ``signature``
        (``Checkpoint.signature``)."""
        if self._kept is None or self._carried is None or self._carried[:2] != (run_id, signature):
            return None
        return self._carried[2], self._carried[3]

    def keep_carried(
        self,
        run_id: str,
        signature: tuple[tuple[str, int, int], ...],
        rows: pl.DataFrame,
        ledger: Ledger | None = None,
    ) -> None:
        """Keep the rows run ``run_id``'s next call carries over, read from the parts of
        ``signature``, and the figures of the call's reports."""
        self._carried = (run_id, signature, rows, ledger)

    def holds(self, run_id: str) -> bool:
        """Whether the inventory of run ``run_id`` is kept for its next call."""
        return self._kept is not None and self._kept[0] == run_id

    def plan(self, key: tuple[Any, ...], mark: object) -> tuple[PlanRows, int] | None:
        """The kept plan (and its count of stored documents in scope) made with planning
        settings ``key``, if the store's change mark is still ``mark``."""
        if self._plan is None or mark is None or self._plan[0] != key or mark != self._mark:
            return None
        if not all(path.is_file() for path in self._plan[1].files):
            self._plan = None
            return None
        return self._plan[1], self._plan[2]

    def keep(
        self,
        run_id: str,
        key: tuple[Any, ...],
        inventory: InventoryParts,
        plan: tuple[tuple[Any, ...], PlanRows, int],
    ) -> None:
        """Keep run ``run_id``'s inventory and its plan (planning settings, plan, count of
        stored documents in scope) for the next call; ``settle`` then dates the plan."""
        if self._kept is None or self._kept[:2] != (run_id, key):
            self._carried = None
        self._kept = (run_id, key, inventory)
        self._plan = plan
        self._mark = None

    def folders(self) -> set[Path]:
        """The folders of the kept inventory's and plan's files (they stay in the state
        folder while kept)."""
        files = [
            *(self._kept[2].files if self._kept is not None else ()),
            *(self._plan[1].files if self._plan else ()),
        ]
        return {path.parent for path in files}

    def settle(self, mark: object) -> None:
        """Record the store's change mark once the call has written all it writes."""
        self._mark = mark

    def forget_plan(self) -> None:
        """Plan the next call against the store again (this call removed documents)."""
        self._plan = None

    def drop(self) -> None:
        """Walk the tree and plan again in the next call."""
        self._kept = None
        self._plan = None
        self._html = None
        self._carried = None


def change_mark(store: DocumentStore) -> object:
    """The store's ``change_mark()`` when it has one (a store that cannot tell gives None)."""
    return store.change_mark() if isinstance(store, ChangeMarker) else None
