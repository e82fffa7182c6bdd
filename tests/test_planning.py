"""Plan / dry run: what an ingest would do, without touching the store."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from docbatch import BatchIngestService, IngestResult
from docbatch.cli import main
from docbatch.formats import get_parser
from docbatch.sample import BAD_FILES, SAMPLE_PATTERN

if TYPE_CHECKING:
    from tests.conftest import MakeService


def _skipped_reasons(result: IngestResult) -> list[str]:
    return result.outcomes.filter(status="skipped")["reason"].to_list()


def _store_bytes(tmp_path: Path) -> bytes:
    con = sqlite3.connect(tmp_path / "s.db")
    try:
        return repr(con.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()).encode()
    finally:
        con.close()


def test_plan_reports_every_status_without_touching_the_store(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    first = service.plan(sample_tree, SAMPLE_PATTERN)
    assert set(first["status"]) == {"new", "invalid", "skipped"}  # skipped: the hidden .drafts/
    assert service.backend.counts()["documents"] == 0
    service.ingest_batch(sample_tree, SAMPLE_PATTERN)
    (sample_tree / "guides" / "installation.md").write_text("# Install\n\nNew text.\n")
    os.utime(sample_tree / "FAQ.txt", ns=(10**18, 10**18))  # touched, same content
    (sample_tree / "api" / "cache.rst").unlink()
    (sample_tree / "new.md").write_text("# New\n")
    before = _store_bytes(tmp_path)
    planned = service.plan(sample_tree, SAMPLE_PATTERN)
    assert _store_bytes(tmp_path) == before
    status = dict(planned.select("doc_id", "status").iter_rows())
    reason = dict(planned.select("doc_id", "reason").iter_rows())
    assert status["guides/installation.md"] == "changed"
    assert status["FAQ.txt"] == "unchanged" and "only the mtime changed" in reason["FAQ.txt"]
    assert status["api/cache.rst"] == "deleted"
    assert status["new.md"] == "new"
    assert {d for d, s in status.items() if s == "invalid"} == {
        p for p, kind in BAD_FILES.items() if kind in ("empty", "too_large")
    }
    assert status["README.md"] == "unchanged"


def test_changing_a_chunking_setting_replans_every_document(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    make_service().ingest_batch(sample_tree, "*.md,*.rst")
    stored_ids = make_service().backend.known_documents("sample_docs")["doc_id"]
    replanned = make_service(max_passage_chars=400).plan(sample_tree, "*.md,*.rst")
    stored = replanned.filter(pl.col("doc_id").is_in(stored_ids.implode()))
    assert stored.height == stored_ids.len() > 20
    assert (stored["status"] == "changed").all()
    assert (stored["reason"] == "stored with other parser or chunking settings").all()
    result = make_service(max_passage_chars=400).ingest_batch(sample_tree, "*.md,*.rst")
    assert _skipped_reasons(result) == ["hidden"]  # only the hidden .drafts/ folder
    assert result.succeeded == stored.height
    assert (
        make_service(max_passage_chars=400)
        .plan(sample_tree, "*.md,*.rst")
        .filter(pl.col("status") == "changed")
        .height
        == 0
    )


def test_a_new_parser_for_one_format_replans_only_that_format(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    make_service().ingest_batch(sample_tree, "*.md,*.rst")
    markdown = get_parser("markdown")
    service = BatchIngestService(tmp_path / "s.db", ingest_service={"markdown": markdown})
    planned = service.plan(sample_tree, "*.md,*.rst").filter(pl.col("status") != "invalid")
    changed = set(planned.filter(status="changed")["doc_id"])
    assert changed and all(d.endswith(".md") for d in changed)
    assert set(planned.filter(pl.col("doc_id").str.ends_with(".rst"))["status"]) == {"unchanged"}


def test_force_plans_everything_as_changed(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    service.ingest_batch(sample_tree, "*.md")
    planned = service.plan(sample_tree, "*.md", force=True)
    stored = service.backend.known_documents("sample_docs")["doc_id"].implode()
    assert set(planned.filter(pl.col("doc_id").is_in(stored))["status"]) == {"changed"}


def test_a_forced_run_stays_forced_when_it_continues(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    make_service().ingest_batch(sample_tree, SAMPLE_PATTERN)
    service = make_service()
    result = service.ingest_batch(sample_tree, SAMPLE_PATTERN, force=True, limit=10)
    while result.pending:
        result = service.ingest_batch(sample_tree, SAMPLE_PATTERN, limit=10)
    # every file re-ingested, though only the first call said force; skipped: the hidden .drafts/
    assert _skipped_reasons(result) == ["hidden"]


def test_plan_command(tmp_path: Path, sample_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(sample_tree), "--pattern", "*.md", "--db", str(tmp_path / "s.db")]) == 0
    out = capsys.readouterr().out
    # 17 visible .md files, one of them empty, and the hidden folder .drafts/
    assert out.splitlines()[0] == "invalid 1, new 16, skipped 1"
    assert "new       README.md" in out
    assert "skipped   .drafts/  (hidden)" in out
