"""Checkpoints and resume: interruption, corrupted parts, legacy progress files."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService, BatchProgress, IngestResult
from docbatch.frames import OUTCOMES
from docbatch.sample import BAD_FILES, SAMPLE_MAX_FILE_SIZE
from docbatch.sample import SAMPLE_PATTERN as ALL
from docbatch.state.checkpoint import (
    COMPACT_AFTER_PARTS,
    Checkpoint,
    CheckpointWarning,
    legacy_problems,
    load_legacy_progress,
)

if TYPE_CHECKING:
    from tests.conftest import MakeService


def _parts(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "s.state" / "outcomes").glob("part-*.parquet"))


def test_parts_are_written_every_progress_save_interval_files(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=8, progress_save_interval=3)
    result = service.ingest_batch(sample_tree, pattern=ALL, limit=10)  # the run goes on: its parts stay
    parts = _parts(tmp_path)
    sizes = [pl.read_parquet(p).height for p in parts]
    assert result.pending and max(sizes) == 3 and sum(sizes) == 10
    loaded = Checkpoint(tmp_path / "s.state").load(result.run_id)
    assert loaded.outcomes.schema == pl.Schema(OUTCOMES)
    assert loaded.problems == [] and loaded.next_part == len(parts)


def test_ctrl_c_stops_after_the_slice_and_the_next_call_resumes(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    class InterruptOnce:
        def start(self, progress: BatchProgress) -> None:
            pass

        def stop(self, progress: BatchProgress) -> None:
            pass

        def update(self, progress: BatchProgress, row: dict[str, Any]) -> None:
            if row["commit"] == 1:
                os.kill(os.getpid(), signal.SIGINT)

    service = make_service(chunk_processing_size=4)
    first = service.ingest_batch(sample_tree, pattern=ALL, progress=InterruptOnce())
    assert first.interrupted and first.pending > 0
    assert first.timeline.height == 2  # stopped right after the slice during which Ctrl-C came
    assert (first.outcomes.filter(status="pending")["reason"] == "run interrupted before this file").all()
    assert json.loads((tmp_path / "s.state" / "run.json").read_text())["state"] == "running"
    done_before = set(first.outcomes.filter(pl.col("status").is_in(["succeeded", "failed"]))["doc_id"])

    second = service.ingest_batch(sample_tree, pattern=ALL)
    assert second.run_id == first.run_id and second.complete
    assert second.outcomes["doc_id"].is_unique().all()
    assert set(second.outcomes.filter(status="pending")["doc_id"]) == set()
    carried = second.outcomes.filter(pl.col("doc_id").is_in(list(done_before)))
    assert (carried["status"] != "skipped").all()  # the first call's outcomes are kept, not re-planned
    assert second.timeline.height > first.timeline.height
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The roots the inventory walks from now on, one entry per walk."""
    import docbatch.run.walking

    seen: list[Path] = []
    from docbatch.plan.inventory_parts import scan_parts as real_scan

    def counted_scan(root, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(Path(root))
        return real_scan(root, *args, **kwargs)

    monkeypatch.setattr(docbatch.run.walking, "scan_parts", counted_scan)
    return seen


def _calls_until_done(
    service: BatchIngestService, tree: Path, first: IngestResult, limit: int
) -> list[IngestResult]:
    """``first`` and the calls of at most ``limit`` files that continue its run until nothing
    is pending (at most 40)."""
    results = [first]
    while results[-1].pending and len(results) < 40:
        results.append(service.ingest_batch(tree, pattern=ALL, limit=limit))
    assert results[-1].pending == 0, "the run did not end in 40 calls"
    return results


def test_the_calls_of_one_run_walk_the_tree_once(
    tmp_path: Path, sample_tree: Path, walks: list[Path], make_service: MakeService
) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=10)
    late = sample_tree / "added-during-the-run.md"
    late.write_text("# Late\n\nWritten while the run was under way.\n")
    results = _calls_until_done(service, sample_tree, first, 10)
    assert len(results) > 2 and len(walks) == 1
    assert {r.run_id for r in results} == {results[0].run_id}
    final = results[-1].outcomes
    assert final["doc_id"].is_unique().all() and final.filter(status="pending").height == 0
    assert late.name not in set(final["doc_id"])  # found by the next run, not this one

    following = service.ingest_batch(sample_tree, pattern=ALL, limit=10)
    assert len(walks) == 2 and following.run_id != results[0].run_id
    assert following.outcomes.filter(pl.col("doc_id") == late.name)["status"].to_list() == ["succeeded"]


def test_files_changed_during_a_run_of_many_calls_are_read_anew_and_the_run_ends(
    tmp_path: Path, sample_tree: Path, walks: list[Path], make_service: MakeService
) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=3)
    done = set(first.outcomes.filter(pl.col("status").is_in(["succeeded", "failed"]))["doc_id"])
    waiting = first.outcomes.filter(status="pending")["doc_id"].to_list()
    # every file still waiting grows after the inventory: their rows can only count as done
    # once an inventory has seen their new size
    for doc_id in waiting:
        with open(sample_tree / doc_id, "a", encoding="utf-8") as f:
            f.write("\n\nAppended while the run was under way.\n")
    results = _calls_until_done(service, sample_tree, first, 3)
    final = results[-1].outcomes
    assert {r.run_id for r in results} == {results[0].run_id} and len(walks) > 1
    assert final["doc_id"].is_unique().all()
    grown = final.filter(pl.col("doc_id").is_in(waiting) & (pl.col("status") == "succeeded"))
    for doc_id, size in grown.select("doc_id", "size").iter_rows():
        assert size == (sample_tree / doc_id).stat().st_size
    assert done.isdisjoint(waiting) and grown.height > 0


def test_a_file_removed_during_a_run_of_many_calls_leaves_the_run(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    waiting = first.outcomes.filter(status="pending")["doc_id"].to_list()
    gone = waiting[0]
    (sample_tree / gone).unlink()
    results = _calls_until_done(service, sample_tree, first, 5)
    assert gone not in set(results[-1].outcomes["doc_id"])  # as if it had never been there
    assert set(waiting[1:]) <= set(results[-1].outcomes.filter(status="succeeded")["doc_id"]) | set(BAD_FILES)


def test_a_new_service_or_other_settings_walk_the_tree_again(
    tmp_path: Path, sample_tree: Path, walks: list[Path], make_service: MakeService
) -> None:
    first = make_service().ingest_batch(sample_tree, pattern=ALL, limit=10)
    second = make_service().ingest_batch(sample_tree, pattern=ALL, limit=10)  # another service
    assert second.run_id == first.run_id and len(walks) == 2
    service = make_service()
    service.ingest_batch(sample_tree, pattern=ALL, limit=10)
    service.config.max_file_size = SAMPLE_MAX_FILE_SIZE + 1  # another setting: another inventory
    service.ingest_batch(sample_tree, pattern=ALL, limit=10)
    assert len(walks) == 4


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources whose stored documents are read back from now on, one entry per read."""
    from docbatch.store.sqlite import SQLiteStore

    seen: list[str] = []
    between = SQLiteStore.known_documents_between  # known_documents reads through it too

    def counted_range(self: SQLiteStore, source: str, after: str | None, upto: str | None) -> pl.DataFrame:
        if after is None:  # the first range of a read (a small tree's planning reads one)
            seen.append(source)
        return between(self, source, after, upto)

    monkeypatch.setattr(SQLiteStore, "known_documents_between", counted_range)
    return seen


def _statuses(result: IngestResult) -> dict[str, str]:
    return dict(result.outcomes.select("doc_id", "status").iter_rows())


def test_the_calls_of_one_run_read_the_stored_documents_once(
    tmp_path: Path, sample_tree: Path, store_reads: list[str], make_service: MakeService
) -> None:
    service = make_service("calls/s.db")
    results = _calls_until_done(
        service, sample_tree, service.ingest_batch(sample_tree, pattern=ALL, limit=4), 4
    )
    assert len(results) > 2 and len(store_reads) == 1
    one = make_service("one/s.db")
    in_one_call = one.ingest_batch(sample_tree, pattern=ALL)
    assert _statuses(results[-1]) == _statuses(in_one_call)
    assert service.backend.counts() == one.backend.counts()


def test_a_write_from_elsewhere_between_calls_makes_the_next_call_read_the_store_again(
    tmp_path: Path, sample_tree: Path, store_reads: list[str], make_service: MakeService
) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=4)
    waiting = set(first.outcomes.filter(status="pending")["doc_id"])
    elsewhere = BatchIngestService(
        tmp_path / "s.db",
        config=BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE),
        state_dir=tmp_path / "other",
    )
    elsewhere.ingest_batch(sample_tree, pattern=ALL)  # stores every file, waiting ones included
    elsewhere.close()
    reads = len(store_reads)
    second = service.ingest_batch(sample_tree, pattern=ALL, limit=4)
    assert len(store_reads) == reads + 1 and second.run_id == first.run_id
    # planned against the store as it is now: what the other run stored is up to date, but
    # for the section labels of its reStructuredText documents, which this state folder's
    # label table does not hold: those are read again
    stored_elsewhere = second.outcomes.filter(
        pl.col("doc_id").is_in(list(waiting)) & (pl.col("status") != "failed")
    )
    others = stored_elsewhere.filter((pl.col("format") != "rst") & (pl.col("status") != "pending"))
    assert others.height > 0 and set(others["status"]) == {"skipped"}
    assert set(stored_elsewhere.filter(format="rst")["status"]) <= {"succeeded", "pending"}


def test_documents_removed_by_one_call_are_not_removed_again_by_the_next(
    tmp_path: Path,
    sample_tree: Path,
    store_reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
    make_service: MakeService,
) -> None:
    from docbatch.store.sqlite import SQLiteStore

    service = make_service()
    _calls_until_done(service, sample_tree, service.ingest_batch(sample_tree, pattern=ALL, limit=4), 4)
    gone = "guides/troubleshooting.md"
    (sample_tree / gone).unlink()
    removals: list[list[str]] = []
    real = SQLiteStore.delete_documents

    def counted(self: SQLiteStore, source: str, doc_ids: list[str]) -> int:
        removals.append(list(doc_ids))
        return real(self, source, doc_ids)

    monkeypatch.setattr(SQLiteStore, "delete_documents", counted)
    store_reads.clear()
    results = [service.ingest_batch(sample_tree, pattern=ALL, limit=4, force=True, sync_deletions=True)]
    while results[-1].pending and len(results) < 40:
        results.append(
            service.ingest_batch(sample_tree, pattern=ALL, limit=4, force=True, sync_deletions=True)
        )
    assert len(results) > 2 and results[-1].complete
    assert removals == [[gone]]
    assert len(store_reads) == 2  # planned once, and once more after the removal
    for result in results:  # each call's outcomes are the run's so far: the removal included
        assert result.outcomes.filter(status="deleted")["doc_id"].to_list() == [gone]
        assert result.outcomes["doc_id"].is_unique().all()


def _outcome_rows(run_id: str, doc_ids: list[str], status: str) -> pl.DataFrame:
    n = len(doc_ids)
    return pl.DataFrame(
        {
            "run_id": [run_id] * n,
            "doc_id": doc_ids,
            "status": [status] * n,
            "size": [1] * n,
            "mtime_ns": [1] * n,
        }
    )


def test_many_parts_are_merged_into_one_and_nothing_changes(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "state")
    checkpoint.prepare()
    count = COMPACT_AFTER_PARTS + 4
    for n in range(count):
        checkpoint.write_part("run-a", n, _outcome_rows("run-a", [f"doc{n}.md", "again.md"], "failed"))
    checkpoint.write_part("run-a", count, _outcome_rows("run-a", ["again.md"], "succeeded"))
    checkpoint.write_part("run-b", 0, _outcome_rows("run-b", ["other.md"], "succeeded"))
    parts = checkpoint.parts_dir
    first = checkpoint.load("run-a")
    assert sorted(p.name for p in parts.iterdir()) == [
        f"part-run-a-{count + 1:06d}.parquet",
        "part-run-b-000000.parquet",  # another run's parts are left alone
    ]
    assert first.next_part == count + 2 and first.problems == []
    statuses = dict(first.outcomes.select("doc_id", "status").iter_rows())
    assert statuses == {**{f"doc{n}.md": "failed" for n in range(count)}, "again.md": "succeeded"}
    second = checkpoint.load("run-a")  # one part: read as it is
    assert second.outcomes.equals(first.outcomes) and second.next_part == count + 2


def test_parts_that_cannot_be_merged_stay_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint = Checkpoint(tmp_path / "state")
    checkpoint.prepare()
    for n in range(COMPACT_AFTER_PARTS + 1):
        checkpoint.write_part("run-a", n, _outcome_rows("run-a", [f"doc{n}.md"], "succeeded"))
    before = sorted(p.name for p in checkpoint.parts_dir.iterdir())

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "write_part", disk_full)
    loaded = checkpoint.load("run-a")
    assert loaded.outcomes.height == COMPACT_AFTER_PARTS + 1 and loaded.problems == []
    assert sorted(p.name for p in checkpoint.parts_dir.iterdir()) == before
    assert "could not merge" in caplog.text and "No space left" in caplog.text


def test_a_merge_cut_short_leaves_the_same_rows(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "state")
    checkpoint.prepare()
    for n in range(COMPACT_AFTER_PARTS + 1):
        checkpoint.write_part("run-a", n, _outcome_rows("run-a", [f"doc{n}.md", "again.md"], "failed"))
    merged = checkpoint.load("run-a")
    # as if killed after the merged part was written and before the old ones were removed
    for n in range(COMPACT_AFTER_PARTS + 1):
        checkpoint.write_part("run-a", n, _outcome_rows("run-a", [f"doc{n}.md", "again.md"], "failed"))
    again = checkpoint.load("run-a")
    assert again.outcomes.sort("doc_id").equals(merged.outcomes.sort("doc_id"))
    assert len(list(checkpoint.parts_dir.iterdir())) == 1


def test_a_run_of_many_calls_keeps_few_parts_and_every_outcome(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=1, progress_save_interval=1)
    results = [service.ingest_batch(sample_tree, pattern=ALL, limit=4, executor="serial")]
    most_parts = len(_parts(tmp_path))
    while results[-1].pending:
        results.append(service.ingest_batch(sample_tree, pattern=ALL, limit=4, executor="serial"))
        most_parts = max(most_parts, len(_parts(tmp_path)))
    processed = results[-1].outcomes.filter(pl.col("status").is_in(["succeeded", "failed"])).height
    # one part per file, but a call that finds more than COMPACT_AFTER_PARTS merges them
    assert len(results) > 5 and processed > 24 and most_parts <= 20
    final = results[-1].outcomes
    assert final["doc_id"].is_unique().all() and final.filter(status="pending").height == 0
    one_call = make_service("one/s.db").ingest_batch(sample_tree, pattern=ALL)
    columns = ["doc_id", "status", "content_hash", "n_passages"]
    assert final.select(columns).sort("doc_id").equals(one_call.outcomes.select(columns).sort("doc_id"))


def test_resume_false_starts_a_new_run(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    fresh = service.ingest_batch(sample_tree, pattern=ALL, limit=5, resume=False)
    assert fresh.run_id != first.run_id
    unchanged = fresh.outcomes.filter(status="skipped", reason="same size and mtime as stored")
    assert unchanged.height == first.succeeded  # unchanged files are still skipped


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "wrong_schema"])
def test_corrupt_part_is_moved_aside_reported_and_replanned(
    tmp_path: Path, sample_tree: Path, damage: str, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=4, progress_save_interval=4)
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=12)
    victim = _parts(tmp_path)[0]
    victim_ids = set(pl.read_parquet(victim)["doc_id"])
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "garbage":
        victim.write_bytes(os.urandom(300))
    else:
        pl.DataFrame({"something": [1, 2]}).write_parquet(victim)

    with pytest.warns(CheckpointWarning, match=victim.name):
        second = service.ingest_batch(sample_tree, pattern=ALL, limit=12)
    assert second.run_id == first.run_id
    assert not victim.exists()
    backups = list((tmp_path / "s.state" / "corrupt").iterdir())
    assert len(backups) == 1 and backups[0].name.startswith(victim.name)
    assert second.checkpoint_problems and second.checkpoint_problems[0]["category"] == "checkpoint"
    errors = json.loads(Path(second.reports["errors"]).read_text())
    assert errors["error_summary"].get("checkpoint") == 1
    # the files of the lost part are planned again: in the store they are unchanged,
    # the ones that failed are processed again; none is missing from the outcomes
    rows = second.outcomes.filter(pl.col("doc_id").is_in(list(victim_ids)))
    assert rows.height == len(victim_ids)
    assert set(rows["status"]) <= {"skipped", "failed", "succeeded"}
    while second.pending:
        second = service.ingest_batch(sample_tree, pattern=ALL, limit=12)
    assert second.outcomes["doc_id"].is_unique().all()
    assert set(second.outcomes.filter(status="failed")["doc_id"]) == set(BAD_FILES)


def test_unreadable_run_manifest_starts_a_new_run(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    (tmp_path / "s.state" / "run.json").write_text('{"run_id": "x", "sta')
    with pytest.warns(CheckpointWarning, match="run manifest"):
        second = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    assert second.run_id != first.run_id
    assert second.skipped >= first.succeeded


def test_stray_temp_files_are_swept(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, pattern="*.md")
    stray = tmp_path / "s.state" / "outcomes" / ".part-x-000001.parquet.123.tmp"
    stray.write_bytes(b"half written")
    service.ingest_batch(sample_tree, pattern="*.md")
    assert not stray.exists()


def test_legacy_progress_file_whole_and_cut_off(tmp_path: Path) -> None:
    whole = tmp_path / "progress.json"
    whole.write_text(json.dumps(["a.md", "dir/b.md", 'c "q".md']))
    assert load_legacy_progress(whole) == ({"a.md", "dir/b.md", 'c "q".md'}, None)
    cut = tmp_path / "cut.json"
    cut.write_text('["a.md", "dir/b.md", "c.m')
    paths, note = load_legacy_progress(cut)
    assert paths == {"a.md", "dir/b.md"} and note is not None and "recovered 2 paths" in note
    assert legacy_problems(whole) == []
    [problem] = legacy_problems(cut)  # what an ingest given the file reports
    assert problem["recovered"] == 2 and "backed up to" in problem["message"]
    assert len(list(tmp_path.glob("cut.json.corrupt-*.bak"))) == 1


def test_ingest_accepts_a_damaged_legacy_progress_file(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    legacy = tmp_path / "progress.json"
    legacy.write_text('["guides/installation.md", "FAQ.txt", "api/ca')
    result = make_service().ingest_batch(sample_tree, pattern=ALL, progress_file=legacy)
    problem = result.checkpoint_problems[0]
    assert problem["category"] == "checkpoint" and "recovered 2 paths" in problem["message"]
    # listed files the store did not hold are processed, never skipped on the file's word
    assert result.outcomes.filter(doc_id="FAQ.txt")["status"][0] == "succeeded"
    errors = json.loads(Path(result.reports["errors"]).read_text())
    assert errors["error_summary"]["checkpoint"] == 1


def test_a_run_in_calls_merges_its_index_parts_once_after_its_last_call(
    tmp_path: Path, sample_tree: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbatch.store.sqlite import SQLiteStore

    merges: list[int] = []
    real = SQLiteStore.compact_index

    def counted(self: SQLiteStore, written: int) -> None:
        merges.append(written)
        real(self, written)

    monkeypatch.setattr(SQLiteStore, "compact_index", counted)
    service = make_service()
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=5)
    results = _calls_until_done(service, sample_tree, first, 5)
    assert len(results) > 2
    stored = service.backend.counts()["passages"]
    assert merges == [stored]  # once, for every passage the run's calls wrote
    again = service.ingest_batch(sample_tree, pattern=ALL, limit=5)  # a new run, nothing to write
    assert again.pending == 0 and merges == [stored, 0]
