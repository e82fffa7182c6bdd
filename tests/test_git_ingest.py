"""Ingest inside a real git work tree: provenance, .gitignore, and planning from a revision."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from docbatch import BatchIngestService, ConfigError
from docbatch.sample import write_sample_tree

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0, reason="git is not installed"
)


def _git(repo: Path, *args: str, author: str = "Ada", date: str = "2024-01-02T03:04:05+00:00") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author}@example.org",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": f"{author}@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    docs = write_sample_tree(root / "docs")
    (root / ".gitignore").write_text("docs/broken/\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "docs")
    (docs / "FAQ.txt").write_text("FAQ\n===\n\nAsked by Grace.\n")
    _git(root, "commit", "-q", "-am", "faq", author="Grace", date="2025-06-07T08:09:10+00:00")
    (docs / "untracked.md").write_text("# Untracked\n")
    return docs


def _documents(db: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT doc_id, git_commit, git_author, git_date FROM documents").fetchall()
    finally:
        con.close()
    return {doc_id: (commit, author, date) for doc_id, commit, author, date in rows}


def test_provenance_and_gitignore(tmp_path: Path, repo: Path) -> None:
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(repo, "*.md,*.rst,*.html,*.txt")
    assert not any(d.startswith("broken/") for d in result.outcomes["doc_id"])  # ignored by git
    docs = _documents(tmp_path / "s.db")
    head = _git(repo.parent, "rev-parse", "HEAD")
    assert docs["FAQ.txt"][:2] == (head, "Grace") and (docs["FAQ.txt"][2] or "").startswith(
        "2025-06-07T08:09:10"
    )
    first = _git(repo.parent, "rev-parse", "HEAD~1")
    assert docs["README.md"][:2] == (first, "Ada")
    assert docs["untracked.md"] == (None, None, None)


def test_git_can_be_turned_off(tmp_path: Path, repo: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db", git_service=False)
    result = service.ingest_batch(repo, "*.md,*.rst,*.html,*.txt")
    assert any(d.startswith("broken/") for d in result.outcomes["doc_id"])
    assert _documents(tmp_path / "s.db")["README.md"] == (None, None, None)


def test_since_plans_from_git_instead_of_walking(tmp_path: Path, repo: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(repo, "*.md,*.rst,*.html,*.txt")
    base = _git(repo.parent, "rev-parse", "HEAD")
    (repo / "guides" / "installation.md").write_text("# Install\n\nWith a wombat.\n")
    _git(repo.parent, "mv", "docs/api/cache.rst", "docs/api/caching.rst")
    _git(repo.parent, "commit", "-q", "-am", "edit and rename")
    result = service.ingest_batch(repo, "*.md,*.rst,*.html,*.txt", since=base, sync_deletions=True)
    assert dict(result.outcomes.select("doc_id", "status").iter_rows()) == {
        "api/cache.rst": "deleted",
        "api/caching.rst": "succeeded",
        "guides/installation.md": "succeeded",
        "untracked.md": "skipped",  # untracked files count as added; this one is already stored
    }
    assert service.search("wombat")["doc_id"].to_list() == ["guides/installation.md"]
    assert service.search("zephyrine")["doc_id"].to_list() == ["api/caching.rst"]


def test_since_needs_a_work_tree(tmp_path: Path) -> None:
    docs = write_sample_tree(tmp_path / "plain")
    with pytest.raises(ConfigError, match="inside a git work tree"):
        BatchIngestService(tmp_path / "s.db").ingest_batch(docs, since="HEAD~1")


def test_a_bad_revision_is_a_clear_error(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(ConfigError, match="no-such-rev"):
        BatchIngestService(tmp_path / "s.db").ingest_batch(repo, since="no-such-rev")
