"""Every path under the root that the pattern selects gets an answer: hidden paths and folder
symlinks are skipped rows with a reason, patterns follow gitignore rules, and a pattern that
matches nothing is a warning, not silence."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docbatch import BatchIngestService
from docbatch.plan.inventory import scan, scan_listed
from docbatch.plan.planning import scoped_ids
from docbatch.plan.selection import selection

PAGES = {
    "index.md": "# Shell builtins\n\nThe `.` command and friends.\n",
    "..md": "# The dot command\n\nRead and run commands from a file: plinthwort.\n",
    ".nojekyll.md": "# hidden page\n",
    "cd.md": "# cd\n\nChange directory.\n",
    ".drafts/unfinished.md": "# Draft\n\nNot ready.\n",
    ".git/notes.md": "# git's own store\n",
    "docs/a.rst": "A\n=\n\nalpha\n",
    "docs/b.rst": "B\n=\n\nbeta\n",
    "docs/c.rst": "C\n=\n\ngamma\n",
    "docs/api/d.rst": "D\n=\n\ndelta\n",
    "docs/api/deep/e.rst": "E\n=\n\nepsilon\n",
    "drafts/wip.md": "# WIP\n",
}


def _tree(root: Path, files: dict[str, str] = PAGES) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _rows(result_or_frame: object) -> dict[str, tuple[str, str | None]]:
    frame = getattr(result_or_frame, "outcomes", result_or_frame)
    assert isinstance(frame, pl.DataFrame)
    return {d: (s, r) for d, s, r in frame.select("doc_id", "status", "reason").iter_rows()}


def _taken(inventory: pl.DataFrame) -> list[str]:
    return sorted(inventory.filter(pl.col("status") != "skipped")["doc_id"])


# hidden files and folders ------------------------------------------------------------------


def test_a_page_named_dot_dot_md_is_answered_and_ingested_on_request(tmp_path: Path) -> None:
    root = _tree(tmp_path / "shell")
    files_on_disk = sum(len(f) for _, _, f in os.walk(root))
    service = BatchIngestService(tmp_path / "s.db")
    result = service.ingest_batch(root, "*.md")
    rows = _rows(result)
    assert rows["..md"] == ("skipped", "hidden")
    assert rows[".nojekyll.md"] == ("skipped", "hidden")
    assert rows[".drafts/"] == ("skipped", "hidden")  # one row; the folder is not walked
    assert not any(d.startswith(".git") for d in rows)  # git's own store: no row, never walked
    assert result.skipped == 3 and result.succeeded == 3  # index, cd, drafts/wip
    # every .md file on disk is answered (by its own row, or its hidden folder's) but .git's
    assert files_on_disk == 12 and result.total_files == 6

    again = service.ingest_batch(root, "*.md", include_hidden=True)
    rows = _rows(again)
    assert rows["..md"][0] == "succeeded" and rows[".drafts/unfinished.md"][0] == "succeeded"
    assert rows[".nojekyll.md"][0] == "succeeded"
    assert not any(d.startswith(".git") for d in rows)  # not even with include_hidden
    assert service.search("plinthwort")["doc_id"].to_list() == ["..md"]


def test_the_command_line_takes_hidden_files_with_include_hidden(tmp_path: Path) -> None:
    root = _tree(tmp_path / "shell")
    plain = _cli("ingest-docs-batch", str(root), "--pattern", "*.md", "--db", "s.db", "--json", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    summary = json.loads(plain.stdout)
    assert summary["skipped"] == 3 and summary["succeeded"] == 3
    planned = _cli("plan", str(root), "--pattern", "*.md", "--db", "s.db", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    assert "skipped   ..md  (hidden)" in planned.stdout
    assert "skipped   .drafts/  (hidden)" in planned.stdout
    hidden = _cli(
        "ingest-docs-batch", str(root), "--pattern", "*.md", "--db", "s.db", "--include-hidden", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert hidden.returncode == 0, hidden.stderr
    assert json.loads(hidden.stdout)["succeeded"] == 3  # ..md, .nojekyll.md, .drafts/unfinished.md
    search = _cli("search", "plinthwort", "--db", "s.db", "--json", cwd=tmp_path)
    assert [hit["doc_id"] for hit in json.loads(search.stdout)] == ["..md"]


def test_hidden_rows_reach_the_reports(tmp_path: Path) -> None:
    root = _tree(tmp_path / "shell")
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(root, "*.md")
    ledger = pl.read_parquet(result.reports["outcomes"])
    assert _rows(ledger)["..md"] == ("skipped", "hidden")
    performance = json.loads(Path(result.reports["performance"]).read_text())
    assert performance["skipped"] == result.skipped == 3


# folder symlinks ---------------------------------------------------------------------------


def test_folder_symlinks_are_skipped_rows_with_their_reason(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", {"secret.md": "# secret\n"})
    root = _tree(tmp_path / "docs", {"a.md": "# a\n", "guide/b.md": "# b\n"})
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "guide" / "up").symlink_to(root / "guide", target_is_directory=True)
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    (root / "latest").symlink_to(root / "guide", target_is_directory=True)
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(root, "*.md")
    rows = _rows(result)
    assert rows["loop/"] == ("skipped", "symlink loop")
    assert rows["guide/up/"] == ("skipped", "symlink loop")
    assert rows["elsewhere/"] == ("skipped", "outside root")
    assert rows["latest/"] == ("skipped", "not followed")  # guide/b.md is listed under its own path
    assert rows["a.md"][0] == rows["guide/b.md"][0] == "succeeded"
    assert result.total_files == 6 and result.skipped == 4
    planned = _cli("plan", str(root), "--pattern", "*.md", "--db", str(tmp_path / "p.db"), cwd=tmp_path)
    assert "skipped   elsewhere/  (outside root)" in planned.stdout


# patterns ----------------------------------------------------------------------------------


def test_a_slash_anchors_a_pattern_and_star_does_not_cross_folders(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    assert sorted(scan(root, "docs/*.rst")["doc_id"]) == ["docs/a.rst", "docs/b.rst", "docs/c.rst"]
    assert sorted(scan(root, "docs/**/*.rst")["doc_id"]) == [
        "docs/a.rst",
        "docs/api/d.rst",
        "docs/api/deep/e.rst",
        "docs/b.rst",
        "docs/c.rst",
    ]
    assert sorted(scan(root, "api/*.rst")["doc_id"]) == []  # anchored at the root
    anywhere = scan(root, "*.rst")  # no '/': the name, at any depth (and the hidden folder's row)
    assert anywhere.height == 6 and anywhere.filter(status="skipped")["doc_id"].to_list() == [".drafts/"]
    assert _taken(scan(root, "*.rst,!docs/api/**")) == ["docs/a.rst", "docs/b.rst", "docs/c.rst"]
    assert _taken(scan(root, "*.rst,!docs/api/**,docs/api/d.rst")) == [  # the last match decides
        "docs/a.rst",
        "docs/api/d.rst",
        "docs/b.rst",
        "docs/c.rst",
    ]
    assert _taken(scan(root, "*.rst", exclude=["docs/api/", "docs/b.rst"])) == [
        "docs/a.rst",
        "docs/c.rst",
    ]


def test_the_api_and_the_command_line_take_gitignore_patterns_and_excludes(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(root, pattern="docs/*.rst")
    assert sorted(result.outcomes["doc_id"]) == ["docs/a.rst", "docs/b.rst", "docs/c.rst"]
    run = _cli(
        "ingest-docs-batch", str(root), "--pattern", "*.rst,*.md", "--exclude", "docs/api/**",
        "--exclude", "drafts/", "--db", "c.db", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = pl.read_parquet(tmp_path / "c.state" / "outcomes.parquet")
    assert sorted(rows.filter(status="succeeded")["doc_id"]) == [
        "cd.md",
        "docs/a.rst",
        "docs/b.rst",
        "docs/c.rst",
        "index.md",
    ]


def test_a_pattern_that_matches_nothing_is_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _tree(tmp_path / "t")
    with caplog.at_level(logging.WARNING, logger="docbatch"):
        result = BatchIngestService(tmp_path / "s.db").ingest_batch(
            root, "*.md,*.txt,doc/*.rst", exclude=["nowhere/**"]
        )
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'*.txt' matches no file" in m for m in warned)
    assert any("'doc/*.rst' matches no file" in m for m in warned)
    assert any("exclude pattern 'nowhere/**' excludes no file" in m for m in warned)
    assert not any("'*.md'" in m for m in warned)
    messages = [p["message"] for p in result.checkpoint_problems]
    assert any("'*.txt'" in m for m in messages) and any("'doc/*.rst'" in m for m in messages)
    errors = json.loads(Path(result.reports["errors"]).read_text())
    assert errors["error_summary"].get("pattern") == 3
    assert result.succeeded == 3

    run = _cli("ingest-docs-batch", str(root), "--pattern", "docs/*.txt", "--db", "c.db", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "pattern 'docs/*.txt' matches no file" in run.stderr
    hidden = _cli("plan", str(root), "--pattern", ".drafts/*.md", "--db", "c.db", cwd=tmp_path)
    assert hidden.returncode == 0 and "'.drafts/*.md' matches no file" in hidden.stderr
    assert "--include-hidden" in hidden.stderr


# --since: the same rules on git's list ------------------------------------------------------


def test_scan_listed_keeps_the_same_rules(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    (root / "latest").symlink_to(root / "docs", target_is_directory=True)
    on_disk = [*PAGES, "latest/a.rst", "missing.md"]  # as git could list them (and one since removed)
    for pattern, exclude in [
        ("docs/*.rst", None),
        ("*.md,*.rst", ["docs/api/"]),
        ("**/*.rst,!docs/c.rst", None),
    ]:
        walked = scan(root, pattern, exclude=exclude)
        listed = scan_listed(root, on_disk, pattern, exclude=exclude)
        taken = pl.col("status") != "skipped"
        assert listed.filter(taken).sort("doc_id").equals(walked.filter(taken))
        # what the walk answers with a folder's row, the list answers file by file
        folders = tuple(walked.filter(~taken)["doc_id"])
        assert all(d.startswith(folders) or d in folders for d in listed.filter(~taken)["doc_id"])
    rows = _rows(scan_listed(root, on_disk, "*.md,*.rst"))
    assert rows["..md"] == ("skipped", "hidden") and rows[".drafts/unfinished.md"] == ("skipped", "hidden")
    assert rows["latest/a.rst"] == ("skipped", "not followed")
    assert ".git/notes.md" not in rows and "missing.md" not in rows
    assert rows["docs/api/deep/e.rst"] == ("", None)
    assert "docs/api/d.rst" not in _rows(scan_listed(root, on_disk, "docs/*.rst"))


# one scope for listing, deleting and verifying ------------------------------------------------

_NAMES = st.sampled_from(["a.md", "b.rst", ".c.md", "..md", "d.txt", "e.md"])
_DIRS = st.sampled_from(["", "docs/", "docs/api/", ".hidden/", "x/docs/", "drafts/"])
_GLOBS = st.sampled_from(
    ["*.md", "*.rst", "docs/*.rst", "docs/**", "**/api/*", "docs/", "!drafts/**", "!*.rst", "*", "x/**/*.md"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.sets(st.tuples(_DIRS, _NAMES).map("".join), min_size=1, max_size=12),
    globs=st.lists(_GLOBS, min_size=1, max_size=3),
    exclude=st.lists(st.sampled_from(["drafts/", "*.txt", "docs/api/**"]), max_size=2),
    include_hidden=st.booleans(),
    recursive=st.booleans(),
)
def test_a_stored_document_is_in_scope_exactly_when_a_walk_lists_it(
    tmp_path_factory: pytest.TempPathFactory,
    files: set[str],
    globs: list[str],
    exclude: list[str],
    include_hidden: bool,
    recursive: bool,
) -> None:
    if all(g.startswith("!") for g in globs):
        globs = ["*", *globs]
    root = _tree(tmp_path_factory.mktemp("t"), {f: "x" for f in files})
    inv = scan(root, globs, exclude=exclude, include_hidden=include_hidden, recursive=recursive)
    listed = set(inv.filter(pl.col("status") != "skipped")["doc_id"])
    # the rule deletion and verify use for stored documents
    rules = selection(tuple(globs), tuple(exclude), include_hidden, recursive)
    assert listed == set(scoped_ids(files, inv, rules))


def test_deletion_and_verify_use_the_new_scope(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(root, "*.rst,*.md", include_hidden=True)
    (root / "docs" / "api" / "d.rst").unlink()
    (root / ".drafts" / "unfinished.md").unlink()
    # docs/api/d.rst is not in the scope of docs/*.rst: it is left alone, not deleted
    narrow = service.ingest_batch(root, "docs/*.rst", sync_deletions=True, allow_mass_delete=True)
    assert narrow.deleted == 0 and "docs/api/d.rst" not in _rows(narrow)
    assert service.verify(root, "docs/*.rst").height == 0
    # without include_hidden, stored hidden documents are out of scope for both too
    plain = service.ingest_batch(root, "*.rst,*.md", sync_deletions=True, allow_mass_delete=True)
    assert _rows(plain).get("docs/api/d.rst") == ("deleted", "file gone from disk; removed from the store")
    assert ".drafts/unfinished.md" not in _rows(plain)
    assert set(service.verify(root, "*.rst,*.md")["kind"]) == set()
    problems = service.verify(root, "*.rst,*.md", include_hidden=True)
    assert problems.select("doc_id", "kind").rows() == [(".drafts/unfinished.md", "extra")]


def test_verify_does_not_miss_what_the_last_run_skipped_as_hidden(tmp_path: Path) -> None:
    root = _tree(tmp_path / "t")
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(root, "*.md")  # ..md is a skipped row: never stored
    assert service.verify().height == 0
    assert service.verify(root, "*.md", include_hidden=True).height == 0


@pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0, reason="git is not installed"
)
def test_since_answers_hidden_pages_git_lists_as_changed(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo", {"index.md": "# index\n", "docs/a.rst": "A\n=\n\nalpha\n"})
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "a@example.org"}
    env |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "a@example.org"}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "docs")
    base = git("rev-parse", "HEAD")
    _tree(root, {"..md": "# dot\n", ".github/guide.md": "# hidden\n", "docs/api/b.rst": "B\n=\n\nbeta\n"})
    service = BatchIngestService(tmp_path / "s.db")
    result = service.ingest_batch(root, "*.md,docs/*.rst", since=base)
    assert _rows(result) == {"..md": ("skipped", "hidden"), ".github/guide.md": ("skipped", "hidden")}
    hidden_too = service.ingest_batch(root, "*.md,docs/*.rst", since=base, include_hidden=True)
    assert {d: s for d, (s, _) in _rows(hidden_too).items()} == {
        "..md": "succeeded",
        ".github/guide.md": "succeeded",
    }
