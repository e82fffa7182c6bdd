"""Planning a tree part by part against the store's documents of the same range.

The inventory is sorted by doc_id, and written in parts (``scan_parts``). It is planned
a part at a time, each against the stored documents whose doc_id falls in its range
(from after the previous part's last doc_id up to its own last one), read from the store
for that range alone (``KnownRanges``; a store without it is read once, whole). A stored
document of the range that the part does not hold is gone from disk. Each part's plan
rows go to a file of the call's plan folder: the plan, the stored documents, their
expected fingerprints and the label table's rows they are expected from
(``LabelTable.expected``) are never held whole. At a million stored files, reading them
whole held 200 MB (a content hash and a fingerprint each) and the plan frame as much again.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl

from docbatch.frames import INVENTORY
from docbatch.plan import planning
from docbatch.plan.inventory_parts import InventoryParts
from docbatch.state.labels import LabelTable, plan_fingerprints
from docbatch.state.plan_rows import PlanRows, write_part
from docbatch.store.base import DocumentStore, known_reader


def plan_in_parts(
    store: DocumentStore,
    source: str,
    inventory: InventoryParts,
    folder: Path,
    *,
    listed: set[str] | None,
    force: bool,
    scope: tuple[tuple[str, ...], tuple[str, ...], bool],
    recursive: bool,
    fingerprints: dict[str, str],
    labels: LabelTable | None = None,
) -> tuple[PlanRows, int]:
    """The plan of ``inventory`` against the store (``planning.plan``), written to
    ``folder`` a part of the inventory at a time, and the count of stored documents in
    scope: those the plan finds deleted, changed or unchanged; with ``listed`` (the doc ids
    git lists as changed, which alone are looked at) every stored document of the source."""
    read = known_reader(store, source)
    patterns, exclude, include_hidden = scope
    unseen: list[str] = []  # the folders not looked into, so far (each sorts before its files)
    files: list[Path] = []
    stored = 0
    after: str | None = None
    parts = inventory.parts() if inventory.files else iter([pl.DataFrame(schema=INVENTORY)])
    part = next(parts)
    for number in itertools.count():
        following = next(parts, None)
        upto = None if following is None else part["doc_id"][-1]  # the last part: to the end
        known = read(after, upto)
        stored += known.height
        if listed is not None:
            known = known.filter(pl.col("doc_id").is_in(list(listed)))
        unseen.extend(part.filter(pl.col("doc_id").str.ends_with("/"))["doc_id"])
        planned = planning.plan(
            part,
            known,
            force=force,
            patterns=patterns,
            recursive=recursive,
            fingerprints=fingerprints,
            exclude=exclude,
            include_hidden=include_hidden,
            document_fingerprints=plan_fingerprints(labels, known, part, fingerprints),
            unseen=tuple(unseen),
        )
        if not planned["doc_id"].is_sorted():  # the part's deleted rows come last
            planned = planned.sort("doc_id")
        files.append(write_part(planned, folder / f"planned-{number:05d}.parquet"))
        if following is None:
            break
        part, after = following, upto
    rows = PlanRows.of_files(files)
    if listed is None:
        statuses = rows.statuses()
        stored = sum(statuses.get(status, 0) for status in ("deleted", "changed", "unchanged"))
    return rows, stored
