"""The docbatch command, run as a real subprocess and in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from docbatch.cli import main
from docbatch.sample import BAD_FILES, HIDDEN_FILES, KNOWN_WORDS, SAMPLE_PATTERN, sample_files

GOOD = [p for p in sample_files() if p not in BAD_FILES and p not in HIDDEN_FILES]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_end_to_end_on_the_shipped_sample(tmp_path: Path, sample_tree: Path) -> None:
    ingest = _run(
        "ingest-docs-batch",
        str(sample_tree),
        "--pattern",
        SAMPLE_PATTERN,
        "--max-file-size",
        "200KB",
        "--json",
        cwd=tmp_path,
    )
    assert ingest.returncode == 0, ingest.stderr
    summary = json.loads(ingest.stdout)
    assert summary["succeeded"] == len(GOOD) and summary["failed"] == len(BAD_FILES)
    assert summary["error_summary"] == {"validation": len(BAD_FILES)}
    assert {e["doc_id"] for e in summary["errors"]} == set(BAD_FILES)
    assert (tmp_path / "docbatch.db").exists()
    assert (tmp_path / "docbatch.state" / "batch_ingest_errors.json").exists()

    search = _run("search", "zephyrine", "--json", cwd=tmp_path)
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)
    assert hits[0]["doc_id"] == KNOWN_WORDS["zephyrine"]
    assert set(hits[0]) == {
        "source", "doc_id", "title", "heading_path", "snippet", "score",
        "passage_id", "anchor", "line_start", "line_end", "format", "text", "git_commit", "git_date",
    }  # fmt: skip
    assert hits[0]["passage_id"] and hits[0]["line_start"] is not None

    text = _run("search", "quokka", cwd=tmp_path)
    assert KNOWN_WORDS["quokka"] in text.stdout

    report = _run("report", cwd=tmp_path)
    assert report.returncode == 0 and "validation: 4" in report.stdout

    again = _run(
        "ingest-docs-batch",
        str(sample_tree),
        "--pattern",
        SAMPLE_PATTERN,
        "--max-file-size",
        "200KB",
        "--fail-on-error",
        cwd=tmp_path,
    )
    assert again.returncode == 1
    assert f"skipped {len(GOOD) + len(HIDDEN_FILES)}" in again.stdout  # hidden: skipped rows


def test_human_summary_and_progress_log(tmp_path: Path, sample_tree: Path) -> None:
    run = _run("ingest-docs-batch", str(sample_tree), "--pattern", "*.md", cwd=tmp_path)
    assert run.returncode == 0
    assert "succeeded" in run.stdout and "errors by category: validation" in run.stdout
    assert "docbatch INFO" in run.stderr  # not a terminal: one-line log records


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("docbatch")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ingest-docs-batch" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["ingest-docs-batch", "no/such/dir"],
        ["ingest-docs-batch", ".", "--pattern", " , "],
        ["ingest-docs-batch", ".", "--chunk-size", "0"],
        ["ingest-docs-batch", ".", "--max-file-size", "lots"],
        ["ingest-docs-batch", ".", "--bogus"],
        ["search", '"unbalanced'],
        ["search", "word", "--limit", "-1"],
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], tmp_path: Path, sample_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if args[0] == "search":
        assert main(["ingest-docs-batch", str(sample_tree), "--pattern", "FAQ.txt", "--quiet"]) == 0
        capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        code = main(args)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("docbatch") and err.count("\n") == 1, err


def test_bad_environment_value_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sample_tree: Path
) -> None:
    monkeypatch.setenv("BATCH_CHUNK_SIZE", "abc")
    assert main(["ingest-docs-batch", str(sample_tree)]) == 2
    assert "BATCH_CHUNK_SIZE='abc'" in capsys.readouterr().err


def test_search_without_a_store_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "anything", "--db", "missing.db"]) == 2
    assert "ingest a directory first" in capsys.readouterr().err


def test_a_batch_size_groups_one_command_into_batches(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sample_tree: Path
) -> None:
    monkeypatch.setenv("BATCH_MAX_BATCH_SIZE", "5")
    monkeypatch.setenv("BATCH_CHUNK_SIZE", "2")
    assert main(["ingest-docs-batch", str(sample_tree), "--pattern", "*.md,*.rst", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    md_rst = [p for p in GOOD if p.endswith((".md", ".rst"))]
    assert summary["pending"] == 0 and summary["succeeded"] == len(md_rst)
    timeline = pl.read_parquet("docbatch.state/timeline.parquet")
    parsed = int(timeline["commit_files"].sum())
    assert timeline["batch"].n_unique() == -(-parsed // 5)
    assert timeline.group_by("batch").agg(pl.col("commit_files").sum())["commit_files"].max() == 5


def test_limit_leaves_files_pending_says_so_and_the_same_command_continues(
    capsys: pytest.CaptureFixture[str], sample_tree: Path
) -> None:
    command = ["ingest-docs-batch", str(sample_tree), "--pattern", "*.md,*.rst", "--limit", "4", "--json"]
    runs: list[dict[str, Any]] = []
    while not runs or runs[-1]["pending"]:
        assert main(command) == 0
        captured = capsys.readouterr()
        runs.append(json.loads(captured.out))
        if runs[-1]["pending"]:
            assert f"{runs[-1]['pending']} files pending (--limit 4)" in captured.err
            assert "run the same command again to continue" in captured.err
        assert len(runs) < 20
    assert len(runs) > 2 and len({r["run_id"] for r in runs}) == 1
    md_rst = [p for p in GOOD if p.endswith((".md", ".rst"))]
    assert runs[-1]["succeeded"] == len(md_rst)


def test_sample_command_writes_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path / "docs")]) == 0
    assert (tmp_path / "docs" / "README.md").exists()
    assert main(["sample", str(tmp_path / "docs")]) == 2


def test_search_shows_matches_within_guillemets_off_a_terminal(tmp_path: Path, sample_tree: Path) -> None:
    ingest = _run("ingest", str(sample_tree), "--pattern", "*.md", cwd=tmp_path)
    assert ingest.returncode in (0, 1), ingest.stderr
    text = _run("search", "quokka", cwd=tmp_path)
    assert "«quokka»" in text.stdout.casefold() and "\x1b[" not in text.stdout
    hits = json.loads(_run("search", "quokka", "--json", cwd=tmp_path).stdout)
    assert "«" in hits[0]["snippet"] and "»" in hits[0]["snippet"]


def test_search_filters_as_options(tmp_path: Path, sample_tree: Path) -> None:
    ingest = _run(
        "ingest", str(sample_tree), "--pattern", SAMPLE_PATTERN, "--max-file-size", "200KB", cwd=tmp_path
    )
    assert ingest.returncode in (0, 1), ingest.stderr
    every = json.loads(_run("search", "quokka", "--all-passages", "--json", cwd=tmp_path).stdout)
    assert KNOWN_WORDS["quokka"] in {h["doc_id"] for h in every}
    inside = json.loads(_run("search", "quokka", "--path", "guides/*", "--json", cwd=tmp_path).stdout)
    assert inside and all(h["doc_id"].startswith("guides/") for h in inside)
    rst = json.loads(_run("search", "quokka", "--format", "rst,html", "--json", cwd=tmp_path).stdout)
    assert all(h["format"] in ("rst", "html") for h in rst) and KNOWN_WORDS["quokka"] not in {
        h["doc_id"] for h in rst
    }
    future = _run("search", "quokka", "--modified-since", "2999-01-01", cwd=tmp_path)
    assert future.returncode == 0 and "no matches" in future.stdout
    bad = _run("search", "quokka", "--git-since", "yesterday", cwd=tmp_path)
    assert bad.returncode != 0 and "git_since" in bad.stderr
    wrong = _run("search", "quokka", "--format", "pdf", cwd=tmp_path)
    assert wrong.returncode != 0 and "format" in wrong.stderr
