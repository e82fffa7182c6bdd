"""docbatch.plan.git against the real git, on repositories built in tmp dirs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from docbatch.errors import ConfigError, RunError
from docbatch.plan import git as git_module
from docbatch.plan.git import CHANGES, PROVENANCE, GitError, GitRepo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PROJECT = Path(__file__).resolve().parents[1]
ROOT_NAME = "my docs [v1]"  # the ingested root: a subfolder with a space and glob characters


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git config, and no repository discovery above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def _git(repo: Path, *args: str, who: str = "Ann", date: str = "2024-01-01T00:00:00Z") -> str:
    """Run the real git in ``repo`` (never in the project itself) as ``who`` at ``date``."""
    assert repo.resolve() != PROJECT and PROJECT not in repo.resolve().parents
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": who,
        "GIT_AUTHOR_EMAIL": f"{who.lower()}@example.org",
        "GIT_COMMITTER_NAME": who,
        "GIT_COMMITTER_EMAIL": f"{who.lower()}@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout.decode()


def _commit(repo: Path, who: str, date: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"change by {who}", who=who, date=date)
    return _git(repo, "rev-parse", "HEAD").strip()


def _write(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@dataclass
class History:
    top: Path
    root: Path
    shas: dict[str, str]


@pytest.fixture
def history(tmp_path: Path) -> History:
    """Five authors, a rename, a deletion, a merge, then uncommitted work in the tree."""
    top = tmp_path / "repo"
    root = top / ROOT_NAME
    top.mkdir()
    _git(top, "init", "-q", "-b", "main")
    _write(top, {"README.md": "top", ".gitignore": "*.draft.md\nbuild/\n"})
    _write(root, {".gitignore": "/local.md\n", "guide.md": "v1", "with space.md": "v1"})
    _write(root, {"old.md": "old", "gone.md": "gone", "sub/deep.md": "v1", "kept.draft.md": "forced"})
    _git(top, "add", "-f", f"{ROOT_NAME}/kept.draft.md")
    shas = {"ann": _commit(top, "Ann", "2024-01-01T10:00:00+02:00")}
    _write(root, {"guide.md": "v2", "new\nline.md": "nl", "-dash.md": "dash", "café.md": "cafe"})
    _write(root, {"doomed.md": "soon gone"})
    shas["bob"] = _commit(top, "Bob", "2024-02-01T12:00:00-05:00")
    (root / "old.md").rename(root / "moved.md")
    (root / "gone.md").unlink()
    _write(top, {"README.md": "top v2"})
    shas["cy"] = _commit(top, "Cy", "2024-03-01T00:30:00+01:00")
    _git(top, "checkout", "-q", "-b", "side")
    _write(root, {"sub/deep.md": "v2"})
    shas["eve"] = _commit(top, "Eve", "2024-03-15T09:00:00Z")
    _git(top, "checkout", "-q", "main")
    _write(root, {"with space.md": "v2"})
    shas["dee"] = _commit(top, "Dee", "2024-04-01T09:00:00+00:00")
    _git(top, "merge", "-q", "--no-ff", "--no-edit", "side", who="Dee", date="2024-04-02T09:00:00Z")
    shas["merge"] = _git(top, "rev-parse", "HEAD").strip()
    # uncommitted work: an edit, a deletion, a staged new file, untracked and ignored files
    _write(root, {"guide.md": "v3 not committed", "fresh.md": "untracked", "staged.md": "staged"})
    (root / "doomed.md").unlink()
    _git(top, "add", f"{ROOT_NAME}/staged.md")
    _write(root, {"build/out.md": "ignored", "notes.draft.md": "ignored", "local.md": "ignored"})
    _write(top, {"other.md": "untracked outside the root"})
    return History(top, root, shas)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_discover_finds_top_level_and_prefix(history: History, tmp_path: Path) -> None:
    repo = GitRepo.discover(history.root)
    assert repo is not None
    assert repo.top == str(history.top.resolve())
    assert repo.prefix == f"{ROOT_NAME}/"
    assert GitRepo.discover(history.top).prefix == ""  # type: ignore[union-attr]
    assert GitRepo.discover(history.root / "sub").prefix == f"{ROOT_NAME}/sub/"  # type: ignore[union-attr]
    alias = tmp_path / "alias"
    alias.symlink_to(history.root, target_is_directory=True)
    via_link = GitRepo.discover(alias)
    assert via_link is not None and via_link.prefix == f"{ROOT_NAME}/"


def test_discover_outside_a_work_tree_is_none(history: History, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert GitRepo.discover(plain) is None
    assert GitRepo.discover(tmp_path / "missing") is None
    assert GitRepo.discover(history.top / ".git") is None


def test_discover_without_git_installed_is_none(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert GitRepo.discover(history.root) is None


def test_provenance_is_the_last_commit_per_file(history: History) -> None:
    repo = GitRepo.discover(history.root)
    assert repo is not None
    ids = ["guide.md", "with space.md", "new\nline.md", "-dash.md", "café.md", "moved.md"]
    ids += ["sub/deep.md", "kept.draft.md", "doomed.md", "fresh.md", "staged.md", "notes.draft.md"]
    ids += ["no-such-file.md", "guide.md"]
    frame = repo.provenance(ids)
    assert frame.schema == pl.Schema(PROVENANCE)
    assert frame["doc_id"].to_list() == ids[:-1]  # one row per doc id, in the given order
    got = {row[0]: row[1:] for row in frame.iter_rows()}
    s = history.shas
    bob = (s["bob"], "Bob", _utc("2024-02-01T17:00:00+00:00"))
    assert got["guide.md"] == bob  # the uncommitted edit does not change provenance
    assert got["with space.md"] == (s["dee"], "Dee", _utc("2024-04-01T09:00:00Z"))
    assert got["new\nline.md"] == got["-dash.md"] == got["café.md"] == got["doomed.md"] == bob
    assert got["moved.md"] == (s["cy"], "Cy", _utc("2024-02-29T23:30:00Z"))
    assert got["sub/deep.md"] == (s["eve"], "Eve", _utc("2024-03-15T09:00:00Z"))  # not the merge
    assert got["kept.draft.md"] == (s["ann"], "Ann", _utc("2024-01-01T08:00:00Z"))
    for untracked in ("fresh.md", "staged.md", "notes.draft.md", "no-such-file.md"):
        assert got[untracked] == (None, None, None)


def test_provenance_from_the_top_level_uses_full_paths(history: History) -> None:
    repo = GitRepo.discover(history.top)
    assert repo is not None
    frame = repo.provenance(["README.md", f"{ROOT_NAME}/moved.md", "moved.md"])
    assert frame["git_commit"].to_list() == [history.shas["cy"], history.shas["cy"], None]
    assert repo.provenance([]).schema == pl.Schema(PROVENANCE)


def test_ignored_follows_gitignore_files(history: History) -> None:
    repo = GitRepo.discover(history.root)
    assert repo is not None
    ids = ["guide.md", "fresh.md", "kept.draft.md", "build/out.md", "notes.draft.md", "local.md"]
    assert repo.ignored(ids) == {"build/out.md", "notes.draft.md", "local.md"}
    assert repo.ignored(["guide.md", "fresh.md"]) == set()
    top = GitRepo.discover(history.top)
    assert top is not None
    assert top.ignored([f"{ROOT_NAME}/build/out.md", "README.md"]) == {f"{ROOT_NAME}/build/out.md"}


def test_ignored_handles_symlinked_folders(history: History) -> None:
    (history.root / "alias").symlink_to("sub", target_is_directory=True)
    (history.root / "linked").symlink_to("sub", target_is_directory=True)
    (history.top / ".git" / "info" / "exclude").write_text("linked\n", encoding="utf-8")
    repo = GitRepo.discover(history.root)
    assert repo is not None
    assert repo.ignored(["alias/deep.md", "linked/deep.md", "sub/deep.md"]) == {"linked/deep.md"}


def test_changes_since_compares_with_the_work_tree(history: History) -> None:
    repo = GitRepo.discover(history.root)
    assert repo is not None
    frame = repo.changes_since(history.shas["ann"])
    assert frame.schema == pl.Schema(CHANGES)
    assert frame["doc_id"].to_list() == sorted(frame["doc_id"].to_list())
    assert dict(frame.iter_rows()) == {
        "guide.md": "modified",
        "with space.md": "modified",
        "sub/deep.md": "modified",
        "new\nline.md": "added",
        "-dash.md": "added",
        "café.md": "added",
        "moved.md": "added",  # the rename is a deletion plus an addition
        "old.md": "deleted",
        "gone.md": "deleted",
        "fresh.md": "added",  # untracked, not ignored
        "staged.md": "added",
    }
    assert dict(repo.changes_since("HEAD").iter_rows()) == {
        "guide.md": "modified",
        "doomed.md": "deleted",
        "fresh.md": "added",
        "staged.md": "added",
    }


def test_changes_since_from_the_top_level(history: History) -> None:
    repo = GitRepo.discover(history.top)
    assert repo is not None
    assert dict(repo.changes_since(history.shas["dee"]).iter_rows()) == {
        f"{ROOT_NAME}/sub/deep.md": "modified",  # brought in by the merge
        f"{ROOT_NAME}/guide.md": "modified",
        f"{ROOT_NAME}/doomed.md": "deleted",
        f"{ROOT_NAME}/fresh.md": "added",
        f"{ROOT_NAME}/staged.md": "added",
        "other.md": "added",
    }


def test_file_untracked_since_rev_but_on_disk_is_modified(history: History) -> None:
    _git(history.top, "rm", "-q", "--cached", f"{ROOT_NAME}/guide.md")
    repo = GitRepo.discover(history.root)
    assert repo is not None
    assert dict(repo.changes_since("HEAD").iter_rows())["guide.md"] == "modified"


@pytest.mark.parametrize("rev", ["nope", "HEAD~99", "main..side", "HEAD^{tree}", "--output=leak.txt", " "])
def test_bad_revision_is_a_config_error(history: History, rev: str) -> None:
    repo = GitRepo.discover(history.root)
    assert repo is not None
    with pytest.raises(ConfigError) as caught:
        repo.changes_since(rev)
    assert repr(rev) in str(caught.value)
    if rev.strip():
        assert "fatal:" in str(caught.value) or "error:" in str(caught.value)
    assert not (history.top / "leak.txt").exists()


def test_repository_without_commits(tmp_path: Path) -> None:
    top = tmp_path / "fresh"
    top.mkdir()
    _git(top, "init", "-q", "-b", "main")
    _write(top, {"a.md": "a", "b.tmp.md": "b", ".gitignore": "*.tmp.md\n"})
    repo = GitRepo.discover(top)
    assert repo is not None
    assert repo.provenance(["a.md"]).row(0) == ("a.md", None, None, None)
    assert repo.ignored(["a.md", "b.tmp.md"]) == {"b.tmp.md"}
    with pytest.raises(ConfigError, match="'HEAD'"):
        repo.changes_since("HEAD")


def _fast_import(top: Path, n_commits: int, n_files: int, name: str = "f") -> None:
    """Build a long history quickly: commit i rewrites file ``i % n_files``; commit 0 adds first.md."""
    chunks = []
    for i in range(n_commits):
        chunks.append(f"commit refs/heads/main\ncommitter C{i % 7} <c@x> {1_700_000_000 + 60 * i} +0000\n")
        chunks.append("data 2\nm\n")
        if i == 0:
            chunks.append("M 100644 inline first.md\ndata 1\n0\n")
        chunks.append(f"M 100644 inline {name}-{i % n_files:03d}.md\ndata 5\n{i:05d}\n\n")
    subprocess.run(["git", "fast-import", "--quiet"], input="".join(chunks).encode(), cwd=top, check=True)


def test_provenance_spawns_few_processes_and_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "long"
    top.mkdir()
    _git(top, "init", "-q", "-b", "main")
    long_name = "x" * 200
    _fast_import(top, 3000, 50, name=long_name)  # ~750 KB of log output, far over a pipe buffer
    repo = GitRepo.discover(top)
    assert repo is not None
    spawned: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        spawned.append(real_popen(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(subprocess, "Popen", recording_popen)  # subprocess.run goes through it too
    frame = repo.provenance([f"{long_name}-049.md", f"{long_name}-048.md", "untracked.md"])
    assert frame["git_author"].to_list() == ["C3", "C2", None]  # commits 2999 and 2998
    assert len(spawned) == 3  # rev-parse, ls-tree, log: the same for 3 or 3,000 files
    log = spawned[-1]
    assert isinstance(log.args, list) and "log" in log.args
    assert log.returncode == -signal.SIGTERM  # stopped, not run to the end
    spawned.clear()
    everything = repo.provenance(["first.md", *(f"{long_name}-{i:03d}.md" for i in range(50))])
    assert everything["git_commit"].null_count() == 0
    assert everything["git_author"][0] == "C0"  # only the root commit touched first.md
    assert len(spawned) == 3


def _fake_git(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-bin" / "git"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_a_hanging_git_log_times_out(tmp_path: Path) -> None:
    sha = "0" * 40
    fake = _fake_git(
        tmp_path,
        'for a in "$@"; do case "$a" in\n'
        f"  rev-parse) echo {sha}; exit 0;;\n"
        "  ls-tree) printf 'a.md\\000'; exit 0;;\n"
        "  log) exec sleep 30;;\n"
        "esac; done",
    )
    repo = GitRepo(fake, str(tmp_path), "", timeout_s=0.3)
    with pytest.raises(GitError, match="timed out after 0.3 s"):
        repo.provenance(["a.md"])
    with pytest.raises(GitError, match="timed out"):
        GitRepo(_fake_git(tmp_path, "exec sleep 30"), str(tmp_path), "", timeout_s=0.3).ignored(["a"])


def test_unexpected_git_failure_is_a_run_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_git(tmp_path, "echo 'fatal: index file corrupt' >&2\nexit 3")
    repo = GitRepo(fake, str(tmp_path), "", timeout_s=5)
    with pytest.raises(GitError, match="exit 3.*index file corrupt") as caught:
        repo.ignored(["a.md"])
    assert isinstance(caught.value, RunError)
    monkeypatch.setenv("PATH", str(Path(fake).parent))
    with pytest.raises(GitError, match="index file corrupt"):
        GitRepo.discover(tmp_path)


def test_repository_variables_from_the_caller_are_ignored(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_GLOB_PATHSPECS", "1")
    repo = GitRepo.discover(history.root)
    assert repo is not None and repo.top == str(history.top.resolve())
    assert repo.provenance(["moved.md"])["git_author"].to_list() == ["Cy"]
    assert git_module.DEFAULT_TIMEOUT_S == repo.timeout_s
