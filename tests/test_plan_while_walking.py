"""Planning a tree while it is walked (``run.plan_parts.PlanningWhileWalking``): a thread
plans each part of the inventory as the walk writes it, with the fingerprints the call
most likely has; the call takes that plan only when they prove right, and an error or a
Ctrl-C leaves no thread and no plan file behind."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.test_site_templates import _site

from docbatch import BatchConfig, BatchIngestService
from docbatch.errors import StoreError
from docbatch.formats.templates import Template
from docbatch.plan import inventory_parts
from docbatch.plan.inventory_parts import InventoryParts
from docbatch.run import plan_parts, walking
from docbatch.state.plan_rows import PlanRows
from docbatch.store.sqlite import SQLiteStore


def _tree(root: Path, n: int) -> Path:
    for i in range(n):
        page = root / f"s{i % 4}" / f"p{i:03d}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# Page {i}\n\nText {i}.\n")
    return root


def _planning_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "docbatch-planning"]


class _Spy:
    """Counts the plans made after the walk, and the parts planned by the planning thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.after_walk = 0
        self.parts_in_thread = 0
        plan_after, add = plan_parts.PartPlanner.plan, plan_parts.PartPlanner.add

        def counted_plan(planner: plan_parts.PartPlanner, inventory: InventoryParts) -> Any:
            self.after_walk += 1
            return plan_after(planner, inventory)

        def counted_add(planner: plan_parts.PartPlanner, part: pl.DataFrame) -> None:
            self.parts_in_thread += threading.current_thread().name == "docbatch-planning"
            add(planner, part)

        monkeypatch.setattr(plan_parts.PartPlanner, "plan", counted_plan)
        monkeypatch.setattr(plan_parts.PartPlanner, "add", counted_add)


def test_a_rerun_takes_the_plan_made_while_walking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 7)
    tree = _tree(tmp_path / "docs", 40)
    service = BatchIngestService(
        SQLiteStore(tmp_path / "s.db"), config=BatchConfig(), state_dir=tmp_path / "st"
    )
    assert service.ingest_batch(tree, pattern="*.md", executor="serial").succeeded == 40
    (tree / "s1" / "p001.md").write_text("# Page 1\n\nChanged, and longer.\n")
    (tree / "s2" / "p002.md").unlink()
    (tree / "s3" / "p039.md").unlink()  # the last file: the stored documents after the last part
    (tree / "s0" / "p100.md").write_text("# New\n\nText.\n")

    spy = _Spy(monkeypatch)
    compared = []
    result_of = plan_parts.PlanningWhileWalking.result

    def compared_result(ahead: plan_parts.PlanningWhileWalking) -> tuple[PlanRows, int]:
        rows, stored = result_of(ahead)
        # the plan made after the walk, of the same inventory and store
        planner = ahead.planner
        inventory = InventoryParts(sorted(planner.folder.glob("inventory-*.parquet")), 39)
        again = plan_parts.PartPlanner(
            service.backend, "docs", tmp_path / "after", listed=None, force=planner.force,
            scope=planner.scope, recursive=True, fingerprints=planner.fingerprints,
        )  # fmt: skip
        for part in inventory.parts():  # not through the spied ``plan``
            again.add(part)
        after, stored_after = again.finish()
        compared.append((rows.collect().equals(after.collect()), stored == stored_after == 40))
        return rows, stored

    monkeypatch.setattr(plan_parts.PlanningWhileWalking, "result", compared_result)
    result = service.ingest_batch(tree, pattern="*.md", executor="serial")
    assert (result.succeeded, result.skipped, result.plan_counts["deleted"]) == (2, 37, 2)
    assert spy.after_walk == 0 and spy.parts_in_thread == 6  # 39 files in parts of 7
    assert compared == [(True, True)]
    assert not _planning_threads()


def test_a_guess_that_proves_wrong_is_planned_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _site(tmp_path / "site", 12)
    service = BatchIngestService(tmp_path / "docs.db")
    assert service.ingest_batch(tmp_path / "site", pattern="*.html", executor="serial").succeeded == 12
    # a template kept by the last call that is not the one the call finds: the pages
    # planned with it would all be changed
    stale = Template(texts=frozenset({"body:0123456789ab"}))
    monkeypatch.setattr(
        walking, "last_options", lambda state, source, options: replace(options, template=stale)
    )
    spy = _Spy(monkeypatch)
    result = service.ingest_batch(tmp_path / "site", pattern="*.html", executor="serial")
    assert (result.succeeded, result.skipped) == (0, 12)
    assert spy.after_walk == 1 and spy.parts_in_thread == 1
    assert not _planning_threads()


def test_an_error_while_planning_is_raised_and_leaves_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 5)
    tree = _tree(tmp_path / "docs", 30)
    store = SQLiteStore(tmp_path / "s.db")
    service = BatchIngestService(store, config=BatchConfig(), state_dir=tmp_path / "st")
    service.ingest_batch(tree, pattern="*.md", executor="serial")
    reads = []
    read = SQLiteStore.known_documents_between

    def failing(self: SQLiteStore, *args: Any) -> pl.DataFrame:
        reads.append(threading.current_thread().name)
        if len(reads) == 2:
            raise StoreError("store s.db: disk I/O error")
        return read(self, *args)

    monkeypatch.setattr(SQLiteStore, "known_documents_between", failing)
    with pytest.raises(StoreError, match="disk I/O error"):
        service.ingest_batch(tree, pattern="*.md", executor="serial")
    assert reads == ["docbatch-planning"] * 2  # the walk went on to its end, unplanned
    assert not _planning_threads()
    assert not list((tmp_path / "st").rglob("planned-*.parquet"))
    monkeypatch.setattr(SQLiteStore, "known_documents_between", read)
    assert service.ingest_batch(tree, pattern="*.md", executor="serial").skipped == 30


def test_an_error_planning_the_documents_after_the_last_part_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored documents after the last part are planned once the walk has ended: an
    error then is raised too (the thread does not wait for parts that will not come)."""
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 5)
    tree = _tree(tmp_path / "docs", 12)
    service = BatchIngestService(
        SQLiteStore(tmp_path / "s.db"), config=BatchConfig(), state_dir=tmp_path / "st"
    )
    service.ingest_batch(tree, pattern="*.md", executor="serial")
    read = SQLiteStore.known_documents_between

    def failing_at_the_end(
        self: SQLiteStore, source: str, after: str | None, upto: str | None
    ) -> pl.DataFrame:
        if upto is None:
            raise StoreError("store s.db: disk I/O error")
        return read(self, source, after, upto)

    monkeypatch.setattr(SQLiteStore, "known_documents_between", failing_at_the_end)
    finished = threading.Event()

    def run() -> None:
        with pytest.raises(StoreError, match="disk I/O error"):
            service.ingest_batch(tree, pattern="*.md", executor="serial")
        finished.set()

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(60)
    assert finished.is_set(), "the call waits for ever"
    assert not _planning_threads()


def test_a_walk_stopped_by_ctrl_c_stops_the_planning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 4)
    tree = _tree(tmp_path / "docs", 30)
    service = BatchIngestService(
        SQLiteStore(tmp_path / "s.db"), config=BatchConfig(), state_dir=tmp_path / "st"
    )
    service.ingest_batch(tree, pattern="*.md", executor="serial")
    write = inventory_parts._PartSink._write
    written = []

    def interrupted(sink: Any, rows: pl.DataFrame) -> None:
        write(sink, rows)
        written.append(rows.height)
        if len(written) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(inventory_parts._PartSink, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        service.ingest_batch(tree, pattern="*.md", executor="serial")
    assert not _planning_threads()
    assert not list((tmp_path / "st").rglob("planned-*.parquet"))
    monkeypatch.setattr(inventory_parts._PartSink, "_write", write)
    assert service.ingest_batch(tree, pattern="*.md", executor="serial").skipped == 30
