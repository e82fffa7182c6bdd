"""Planning a tree part by part against the store's documents of the same range.

The inventory is sorted by doc_id, and written in parts (``scan_parts``). It is planned
a part at a time (``PartPlanner``), each against the stored documents whose doc_id falls
in its range (from after the previous part's last doc_id up to its own last one), read
from the store for that range alone (``KnownRanges``; a store without it is read once,
whole); the stored documents after the last part's are planned last, with no file of the
tree (they are gone from disk). A stored document of a part's range that the part does not
hold is gone from disk too. Each part's plan rows go to a file of the call's plan folder:
the plan, the stored documents, their expected fingerprints and the label table's rows
they are expected from (``LabelTable.expected``) are never held whole. At a million stored
files, reading them whole held 200 MB (a content hash and a fingerprint each) and the plan
frame as much again.

A tree being walked is planned while it is walked (``PlanningWhileWalking``): each part as
the walk writes it, in a thread of its own (polars, the store's read and the label table's
release the interpreter's lock for most of it), so that an unchanged re-run of a million
files costs little more than its walk.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import polars as pl

from docbatch.frames import INVENTORY
from docbatch.plan import planning
from docbatch.plan.inventory_parts import InventoryParts
from docbatch.state.labels import LabelTable, plan_fingerprints
from docbatch.state.plan_rows import PlanRows, write_part
from docbatch.store.base import DocumentStore, known_reader


class PartPlanner:
    """The plan of an inventory (``planning.plan``) given a part at a time, in doc_id
    order (``add``), written to ``folder`` a part at a time (``finish``: the plan's rows,
    and the count of stored documents in scope: those the plan finds deleted, changed or
    unchanged; with ``listed``, the doc ids git lists as changed, which alone are looked
    at, every stored document of the source)."""

    def __init__(
        self,
        store: DocumentStore,
        source: str,
        folder: Path,
        *,
        listed: set[str] | None,
        force: bool,
        scope: tuple[tuple[str, ...], tuple[str, ...], bool],
        recursive: bool,
        fingerprints: dict[str, str],
        labels: LabelTable | None = None,
    ) -> None:
        self.folder = folder
        self.listed = listed
        self.force = force
        self.scope = scope
        self.recursive = recursive
        self.fingerprints = fingerprints
        self.labels = labels
        self.files: list[Path] = []
        self._read = known_reader(store, source)
        self._unseen: list[str] = []  # the folders not looked into, so far (each sorts before its files)
        self._stored = 0
        self._after: str | None = None

    def plan(self, inventory: InventoryParts) -> tuple[PlanRows, int]:
        """The plan of every part of ``inventory`` (``add``, then ``finish``)."""
        for part in inventory.parts():
            self.add(part)
        return self.finish()

    def add(self, part: pl.DataFrame) -> None:
        """Plan ``part`` (inventory rows following those of the parts before)."""
        if part.height:
            self._plan(part, part["doc_id"][-1])

    def finish(self) -> tuple[PlanRows, int]:
        """Plan the stored documents after the last part's, and give the plan."""
        self._plan(pl.DataFrame(schema=INVENTORY), None)
        rows = PlanRows.of_files(self.files)
        if self.listed is not None:
            return rows, self._stored
        statuses = rows.statuses()
        return rows, sum(statuses.get(status, 0) for status in ("deleted", "changed", "unchanged"))

    def _plan(self, part: pl.DataFrame, upto: str | None) -> None:
        known = self._read(self._after, upto)
        self._stored += known.height
        if self.listed is not None:
            known = known.filter(pl.col("doc_id").is_in(list(self.listed)))
        if part.height == 0 and known.height == 0 and self.files:
            return  # nothing after the last part
        self._unseen.extend(part.filter(pl.col("doc_id").str.ends_with("/"))["doc_id"])
        patterns, exclude, include_hidden = self.scope
        planned = planning.plan(
            part,
            known,
            force=self.force,
            patterns=patterns,
            recursive=self.recursive,
            fingerprints=self.fingerprints,
            exclude=exclude,
            include_hidden=include_hidden,
            document_fingerprints=plan_fingerprints(self.labels, known, part, self.fingerprints),
            unseen=tuple(self._unseen),
        )
        if not planned["doc_id"].is_sorted():  # the part's deleted rows come last
            planned = planned.sort("doc_id")
        self.files.append(write_part(planned, self.folder / f"planned-{len(self.files):05d}.parquet"))
        self._after = upto


_END = object()


class PlanningWhileWalking:
    """A ``PartPlanner`` fed the parts of an inventory as the walk writes them
    (``part``), planning them in a thread of its own; ``result`` waits for the plan,
    ``cancel`` drops it (and its files). The walk waits while two parts are waiting."""

    def __init__(self, planner: PartPlanner) -> None:
        self.planner = planner
        self._parts: queue.Queue[object] = queue.Queue(maxsize=2)
        self._plan: tuple[PlanRows, int] | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        self._ended = False
        self._given = False
        self._thread = threading.Thread(target=self._run, name="docbatch-planning", daemon=True)
        self._thread.start()

    def part(self, part: pl.DataFrame) -> None:
        """Plan ``part`` (the walk's next part) in turn."""
        self._put(part)

    def result(self) -> tuple[PlanRows, int]:
        """The plan of every part given (see ``PartPlanner.finish``); an error met while
        planning is raised here."""
        self._put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._plan is not None
        self._given = True
        return self._plan

    def cancel(self) -> None:
        """Stop planning and remove what was written (nothing, once ``result`` was given)."""
        if self._given:
            return
        self._cancelled = True
        self._put(_END)
        self._thread.join()
        for path in self.planner.files:
            path.unlink(missing_ok=True)

    def _put(self, item: object) -> None:
        if self._ended:
            return
        self._ended = item is _END
        while self._thread.is_alive():
            try:
                self._parts.put(item, timeout=0.1)
                return
            except queue.Full:
                continue  # the planner is busy, or failed: it empties the queue then

    def _run(self) -> None:
        ended = False
        try:
            while (part := self._parts.get()) is not _END:
                if not self._cancelled:
                    assert isinstance(part, pl.DataFrame)
                    self.planner.add(part)
            ended = True
            if not self._cancelled:
                self._plan = self.planner.finish()
        except BaseException as exc:  # raised again by ``result``
            self._error = exc
            while not ended and self._parts.get() is not _END:
                pass  # the walk's parts, till its end
