"""What the command line prints cannot drive the terminal: control characters in file
names and documents are shown as escapes; and a damaged report is named while the rest
of the report is still shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ESCAPE = "\x1b[2J\x1b[31m"


def _docbatch(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"evil{ESCAPE}name.md").write_text(f"# Title {ESCAPE}here\n\nThe wombat\x07 rings a bell.\n")
    (docs / f"empty{ESCAPE}.md").write_text("")
    assert _docbatch(tmp_path, "ingest-docs-batch", "docs", "--db", "s.db", "--quiet").returncode == 0
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["search", "wombat", "--db", "s.db"],
        ["plan", "docs", "--db", "s.db", "--force"],
        ["report", "--db", "s.db"],
    ],
    ids=["search", "plan", "report"],
)
def test_control_characters_are_shown_escaped(ingested: Path, command: list[str]) -> None:
    proc = _docbatch(ingested, *command)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "\\x1b[2J\\x1b[31m" in proc.stdout


def test_a_damaged_report_is_named_and_the_rest_is_shown(ingested: Path) -> None:
    state = ingested / "s.state"
    (state / "batch_ingest_errors.json").write_text('{"errors": [trunc')
    proc = _docbatch(ingested, "report", "--db", "s.db")
    assert proc.returncode == 0, proc.stderr
    assert "batch_ingest_errors.json cannot be read" in proc.stderr and "Traceback" not in proc.stderr
    assert "files: succeeded 1, failed 1" in proc.stdout

    (state / "batch_ingest_performance.json").write_text(json.dumps(["not", "a", "report"]))
    both = _docbatch(ingested, "report", "--db", "s.db")
    assert both.returncode == 3 and "no report in" in both.stderr and "Traceback" not in both.stderr
