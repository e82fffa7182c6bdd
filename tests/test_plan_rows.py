"""A call's plan rows on disk (``docbatch.state.plan_rows``): read by slices as they were
written, counted without reading them into memory, and their folders removed once no call
needs them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService
from docbatch.state.atomic import SINK_ROWS_PER_GROUP
from docbatch.state.plan_rows import PLANS, PlanRows, Rows, clear_plans, new_plan_folder
from docbatch.store.sqlite import SQLiteStore


def _frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc_id": [f"d{i:07d}.md" for i in range(n)],
            "size": list(range(n)),
            "status": ["new" if i % 3 else "unchanged" for i in range(n)],
        }
    )


def test_slices_across_row_groups_read_the_rows_written(tmp_path: Path) -> None:
    n = SINK_ROWS_PER_GROUP * 2 + 123
    frame = _frame(n)
    rows = PlanRows.write(frame, tmp_path / "plan.parquet")
    assert rows.height == n
    pieces, offset = [], 0
    while offset < rows.height:  # as the runner reads them, slices of uneven sizes
        piece = rows.slice(offset, 997)
        pieces.append(piece)
        offset += piece.height
    assert pl.concat(pieces).equals(frame)
    across = rows.slice(SINK_ROWS_PER_GROUP - 5, 10)  # the end of a group and the next's start
    assert across["size"].to_list() == list(range(SINK_ROWS_PER_GROUP - 5, SINK_ROWS_PER_GROUP + 5))
    assert rows.slice(n - 2, 10).height == 2


def test_head_and_after_split_the_rows_and_read_their_own(tmp_path: Path) -> None:
    rows = PlanRows.write(_frame(50_000), tmp_path / "plan.parquet")
    head, rest = rows.head(20_000), rows.after(20_000)
    assert (head.height, rest.height) == (20_000, 30_000)
    assert rest.slice(0, 3)["size"].to_list() == [20_000, 20_001, 20_002]
    assert rest.collect()["size"].to_list() == list(range(20_000, 50_000))
    assert head.total("size") == sum(range(20_000))
    assert rows.after(60_000).height == 0
    assert rows.after(60_000).collect().columns == ["doc_id", "size", "status"]


def test_counts_and_filters_are_asked_of_the_file(tmp_path: Path) -> None:
    rows = PlanRows.write(_frame(10), tmp_path / "plan.parquet")
    assert rows.statuses() == {"new": 6, "unchanged": 4}
    assert rows.filter(pl.col("status") == "unchanged")["size"].to_list() == [0, 3, 6, 9]
    lazy = Rows(rows.lazy().filter(pl.col("size") > 4))
    assert lazy.height == 5
    assert Rows.of(pl.DataFrame({"status": ["a", "a"]})).statuses() == {"a": 2}


def test_clearing_the_plans_removes_the_source_s_folders_but_the_kept_ones(tmp_path: Path) -> None:
    first = new_plan_folder(tmp_path, "docs")
    second = new_plan_folder(tmp_path, "docs")
    other = new_plan_folder(tmp_path, "other source")
    clear_plans(tmp_path, "docs", keep={second})
    assert not first.exists() and second.is_dir() and other.is_dir()
    clear_plans(tmp_path, "docs")
    assert not second.exists() and other.is_dir()


@pytest.mark.parametrize("limit", [None, 2])
def test_a_call_leaves_only_the_plan_its_next_call_reuses(tmp_path: Path, limit: int | None) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    for i in range(5):
        (tree / f"page{i}.md").write_text(f"# Page {i}\n\nSome text of page {i}.\n")
    state = tmp_path / "state"
    service = BatchIngestService(SQLiteStore(tmp_path / "s.db"), config=BatchConfig(), state_dir=state)
    result = service.ingest_batch(tree, pattern="*.md", limit=limit)
    folders = [p for p in (state / PLANS).rglob("*") if p.is_dir() and p.parent.parent == state / PLANS]
    if limit is None:
        assert result.counts["succeeded"] == 5
        assert folders == []
    else:
        assert result.counts["pending"] == 3
        assert len(folders) == 1  # the plan the next call continues from
        result = service.ingest_batch(tree, pattern="*.md", limit=limit)
        result = service.ingest_batch(tree, pattern="*.md", limit=limit)
        assert result.counts["succeeded"] == 5
        assert [p for p in (state / PLANS).rglob("*.parquet")] == []


@pytest.mark.parametrize("store_kind", ["sqlite", "memory"])
def test_planning_in_small_parts_plans_as_planning_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_kind: str
) -> None:
    from docbatch.plan import inventory_parts as inventory_module
    from docbatch.run import plan_parts
    from docbatch.store.memory import MemoryStore

    tree = tmp_path / "docs"
    for i in range(12):
        page = tree / f"s{i % 3}" / f"p{i:02d}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# Page {i}\n\nText {i}.\n")
    (tree / "s1" / "sub").mkdir()
    (tree / "s1" / "sub" / "deep.md").write_text("# Deep\n\nText.\n")
    store = SQLiteStore(tmp_path / "s.db") if store_kind == "sqlite" else MemoryStore()
    service = BatchIngestService(store, config=BatchConfig(), state_dir=tmp_path / "state")
    assert service.ingest_batch(tree, pattern="*.md", source="docs").counts["succeeded"] == 13
    # files gone in several ranges, one changed, one new, and a folder now unseen (a folder
    # symlink, not followed: its stored documents are not gone)
    for gone in ("s0/p00.md", "s1/p07.md", "s2/p11.md"):
        (tree / gone).unlink()
    (tree / "s2" / "p05.md").write_text("# Page 5\n\nNew text, longer than before.\n")
    (tree / "s0" / "p99.md").write_text("# New\n\nText.\n")
    (tree / "s1" / "sub").rename(tmp_path / "elsewhere")
    (tree / "s1" / "sub").symlink_to(tree / "s2")

    def plan(rows_per_part: int) -> pl.DataFrame:
        monkeypatch.setattr(inventory_module, "PARTS_ROWS", rows_per_part)
        folder = tmp_path / f"plan-{rows_per_part}"
        inventory = inventory_module.scan_parts(tree, folder, "*.md")
        assert len(inventory.files) == -(-inventory.height // rows_per_part)
        rows, stored = plan_parts.PartPlanner(
            store, "docs", folder, listed=None, force=False,
            scope=(("*.md",), (), False), recursive=True, fingerprints={},
        ).plan(inventory)  # fmt: skip
        assert stored == 12  # 3 deleted, 1 changed, 8 unchanged: not the unseen folder's
        # a file a part, and one for the stored documents after the last (s2/p11.md, gone)
        assert len(list(folder.glob("planned-*.parquet"))) == len(inventory.files) + 1
        return rows.collect()

    whole, in_parts = plan(100_000), plan(3)
    assert in_parts.equals(whole)
    statuses = dict(in_parts.select("doc_id", "status").iter_rows())
    assert [d for d, s in statuses.items() if s == "deleted"] == ["s0/p00.md", "s1/p07.md", "s2/p11.md"]
    assert statuses["s2/p05.md"] == "changed" and statuses["s0/p99.md"] == "new"
    assert "s1/sub/deep.md" not in statuses and statuses["s1/sub/"] == "skipped"
