"""Scope-safe deletion: only files gone from this root and pattern scope, never too many."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbatch import BatchIngestService
from docbatch.cli import main
from docbatch.errors import MassDeleteError


def test_deleted_files_are_removed_and_listed(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(sample_tree, "*.md,*.rst")
    (sample_tree / "api" / "cache.rst").unlink()
    kept = service.ingest_batch(sample_tree, "*.md,*.rst")
    assert kept.deleted == 0 and service.search("zephyrine").height == 1  # not without asking
    assert "--delete-missing" in kept.summary()
    result = service.ingest_batch(sample_tree, "*.md,*.rst", sync_deletions=True)
    assert result.outcomes.filter(status="deleted")["doc_id"].to_list() == ["api/cache.rst"]
    assert result.deleted == 1 and result.total_files == result.outcomes.height - 1
    assert service.search("zephyrine").height == 0
    assert "api/cache.rst" not in service.backend.known_documents("sample_docs")["doc_id"].to_list()


def test_files_outside_the_pattern_or_root_are_never_deleted(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(sample_tree, "*.md,*.rst")
    before = service.backend.counts()["documents"]
    # a run over only the .rst files must not delete the .md documents
    result = service.ingest_batch(sample_tree, "*.rst", sync_deletions=True)
    assert result.deleted == 0 and service.backend.counts()["documents"] == before
    # nor does a non-recursive run delete what lives in subfolders
    result = service.ingest_batch(sample_tree, "*.md,*.rst", recursive=False, sync_deletions=True)
    assert result.deleted == 0 and service.backend.counts()["documents"] == before


def test_mass_deletion_is_refused_unless_allowed(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(sample_tree, "*.md")
    for path in (sample_tree / "guides").rglob("*.md"):
        path.unlink()
    before = service.backend.counts()
    with pytest.raises(
        MassDeleteError, match=r"refusing to delete 8 of 14 stored documents .*nothing was deleted"
    ):
        service.ingest_batch(sample_tree, "*.md", sync_deletions=True)
    assert service.backend.counts() == before
    code = main(
        [
            "ingest-docs-batch",
            str(sample_tree),
            "--pattern",
            "*.md",
            "--db",
            str(tmp_path / "s.db"),
            "--delete-missing",
            "--quiet",
        ]
    )
    assert code == 2
    assert service.backend.counts() == before
    result = service.ingest_batch(sample_tree, "*.md", sync_deletions=True, allow_mass_delete=True)
    assert result.deleted == 8 and service.backend.counts()["documents"] == 6
