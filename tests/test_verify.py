"""verify: the store is corrupted behind docbatch's back, and every kind of drift is found and repaired."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from docbatch.cli import main
from docbatch.errors import MassDeleteError
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN

if TYPE_CHECKING:
    from tests.conftest import MakeService


def test_a_clean_store_verifies_clean(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    assert service.verify().height == 0


def test_every_kind_of_drift_is_found_and_repaired(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    passages_before = service.backend.counts()["passages"]
    con = sqlite3.connect(tmp_path / "s.db")
    with con:
        # missing: the document row disappears, which also orphans its passages
        con.execute("DELETE FROM documents WHERE doc_id = 'guides/installation.md'")
        # extra: a document for a file that does not exist
        con.execute(
            "INSERT INTO documents SELECT source, 'guides/ghost.md', title, format, size, mtime_ns, "
            "content_hash, n_chars, 0, fingerprint, git_commit, git_author, git_date, ingested_at "
            "FROM documents WHERE doc_id = 'README.md'"
        )
        # stale: the stored hash no longer matches the file, while size and mtime do
        con.execute("UPDATE documents SET content_hash = 'x' WHERE doc_id = 'FAQ.txt'")
        # passage_count: passages lost for one document
        con.execute("DELETE FROM passages WHERE doc_id = 'api/cache.rst' AND seq > 0")
        # index: a passage written without going into the full-text index
        con.execute(
            "INSERT INTO passages (source, doc_id, seq, passage_id, title, heading_path, start, "
            "\"end\", text) VALUES ('sample_docs', 'README.md', 99, 'x', 't', '', 0, 1, 'unindexed')"
        )
    con.close()

    quick = service.verify()
    assert {(row["kind"], row["doc_id"]) for row in quick.iter_rows(named=True)} == {
        ("missing", "guides/installation.md"),
        ("extra", "guides/ghost.md"),
    }  # without reading a file or the index
    problems = service.verify(deep=True)
    found = {(row["kind"], row["doc_id"]) for row in problems.iter_rows(named=True)}
    assert ("missing", "guides/installation.md") in found
    assert ("orphaned_passages", "guides/installation.md") in found
    assert ("extra", "guides/ghost.md") in found
    assert ("stale", "FAQ.txt") in found
    assert ("passage_count", "api/cache.rst") in found
    assert ("passage_count", "README.md") in found
    assert ("index", None) in found
    planned = dict(service.plan(sample_tree, SAMPLE_PATTERN).select("doc_id", "status").iter_rows())
    assert planned["FAQ.txt"] == "unchanged"  # a normal run would never notice the stale document

    repaired = service.verify(repair=True)  # the deep check, always
    assert repaired.equals(problems)
    assert service.verify(deep=True).height == 0
    assert service.backend.counts()["passages"] == passages_before
    assert service.search("zephyrine")["doc_id"].to_list() == ["api/cache.rst"]
    assert "guides/ghost.md" not in service.backend.known_documents("sample_docs")["doc_id"].to_list()


def test_documents_outside_the_pattern_scope_are_not_extra(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, "*.md,*.rst")
    service.ingest_batch(sample_tree, "*.txt")
    assert service.verify(sample_tree, "*.md,*.rst").height == 0


def test_verify_command_exit_codes(
    tmp_path: Path, sample_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    assert main(["ingest-docs-batch", str(sample_tree), "--db", db, "--quiet"]) == 0
    assert main(["verify", "--db", db]) == 0
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE documents SET content_hash = 'x' WHERE doc_id = 'README.md'")
    con.close()
    capsys.readouterr()
    assert main(["verify", "--db", db]) == 0  # size and mtime agree: only --deep reads the file
    assert "--deep also reads every file" in capsys.readouterr().out
    assert main(["verify", "--db", db, "--deep"]) == 1
    assert "stale" in capsys.readouterr().out
    assert main(["verify", "--db", db, "--repair"]) == 0
    assert main(["verify", "--db", db, "--deep"]) == 0
    assert pl.read_parquet(tmp_path / "s.state" / "outcomes.parquet").height > 0


def test_verify_after_a_run_with_report_dir_finds_a_deleted_document(
    tmp_path: Path, sample_tree: Path
) -> None:
    """The ledger stays in the state folder when the reports go elsewhere: a document
    removed from the store behind docbatch's back is still found missing."""
    db, reports = tmp_path / "s.db", tmp_path / "reports"
    args = ["--db", str(db), "--pattern", SAMPLE_PATTERN, "--quiet"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "docbatch",
            "ingest-docs-batch",
            str(sample_tree),
            *args,
            "--report-dir",
            str(reports),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BATCH_MAX_FILE_SIZE": str(SAMPLE_MAX_FILE_SIZE)},
    )
    assert proc.returncode == 0, proc.stderr
    assert (reports / "outcomes.parquet").is_file()  # the reports are where they were asked for
    con = sqlite3.connect(db)
    with con:  # removed cleanly, passages too: only the ledger can tell
        con.execute("DELETE FROM passages WHERE doc_id = 'guides/installation.md'")
        con.execute("DELETE FROM documents WHERE doc_id = 'guides/installation.md'")
    con.close()
    proc = subprocess.run(
        [sys.executable, "-m", "docbatch", "verify", "--db", str(db)], capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "missing" in proc.stdout and "guides/installation.md" in proc.stdout
    assert (tmp_path / "s.state" / "outcomes.parquet").is_file()  # the ledger where verify reads it


@pytest.fixture
def range_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str | None, int]]:
    """The ranges of stored documents read from now on: (after, upto, rows read)."""
    from docbatch.store.sqlite import SQLiteStore

    seen: list[tuple[str | None, str | None, int]] = []
    between = SQLiteStore.known_documents_between  # known_documents reads through it too

    def counted_range(self: SQLiteStore, source: str, after: str | None, upto: str | None) -> pl.DataFrame:
        rows = between(self, source, after, upto)
        seen.append((after, upto, rows.height))
        return rows

    monkeypatch.setattr(SQLiteStore, "known_documents_between", counted_range)
    return seen


def test_verify_reads_the_store_a_part_of_the_walk_at_a_time(
    tmp_path: Path,
    sample_tree: Path,
    make_service: MakeService,
    monkeypatch: pytest.MonkeyPatch,
    range_reads: list[tuple[str | None, str | None, int]],
) -> None:
    """The walk is compared a part at a time, each part with the stored documents of its
    range of doc ids alone: the store is read in one pass of ranges, never whole, and the
    problems are the same whatever the size of the parts (drift in the first, a middle
    and the last range; a stored document under a folder the walk did not look into)."""
    from docbatch.plan import inventory_parts

    service = make_service()
    service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    con = sqlite3.connect(tmp_path / "s.db")
    with con:
        con.execute("DELETE FROM documents WHERE doc_id = 'guides/installation.md'")
        for ghost in ("0-first.md", "api/ghost.rst", "zz/last.md", ".drafts/old.md"):
            con.execute(
                "INSERT INTO documents SELECT source, ?, title, format, size, mtime_ns, content_hash, "
                "n_chars, 0, fingerprint, git_commit, git_author, git_date, ingested_at "
                "FROM documents WHERE doc_id = 'README.md'",
                (ghost,),
            )
        con.execute("UPDATE documents SET content_hash = 'x' WHERE doc_id = 'site/index.html'")
    con.close()
    stored = service.backend.counts()["documents"]

    def kinds(problems: pl.DataFrame) -> set[tuple[str, str | None]]:
        return {(row["kind"], row["doc_id"]) for row in problems.iter_rows(named=True)}

    quick, deep = service.verify(), service.verify(deep=True)
    assert kinds(quick) == {
        ("missing", "guides/installation.md"),
        ("extra", "0-first.md"),
        ("extra", "api/ghost.rst"),
        ("extra", "zz/last.md"),
    }
    assert ("stale", "site/index.html") in kinds(deep)
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 3)
    range_reads.clear()
    assert service.verify().equals(quick)
    assert service.verify(deep=True).equals(deep)
    one_pass = range_reads[: len(range_reads) // 2]
    assert len(one_pass) > 5 and range_reads == one_pass * 2
    assert sum(rows for _, _, rows in one_pass) == stored  # every stored document, once
    assert all(rows < stored / 3 for _, _, rows in one_pass)
    assert one_pass[0][0] is None and one_pass[-1][1] is None
    assert all(before[1] == after[0] is not None for before, after in itertools.pairwise(one_pass))
    # a repair counts the stored documents in scope across the parts (not the one under the
    # folder the walk did not look into) for the share it may delete, and mends the rest
    service.config.max_delete_share = 0.01
    with pytest.raises(MassDeleteError, match=f"refusing to delete 3 of {stored - 1} stored documents"):
        service.verify(repair=True)
    service.config.max_delete_share = 0.5
    assert service.verify(repair=True).equals(deep)
    assert service.verify(deep=True).height == 0
