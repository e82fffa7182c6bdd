"""A run is marked complete only once its reports are written: killed in between, it is
still running, and the next call writes the reports again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os, sys
import docbatch.state.reports
from docbatch import BatchIngestService

if sys.argv[1] == "die":
    def killed(*args, **kwargs):
        os._exit(9)  # as a SIGKILL would, while the reports are being written
    docbatch.state.reports.write_reports = killed
result = BatchIngestService("s.db").ingest_batch("docs", executor="serial")
print(result.succeeded)
"""


def test_a_run_killed_while_writing_its_reports_is_not_complete_and_the_next_call_writes_them(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"{i}.md").write_text(f"# Page {i}\n\ntext\n")
    killed = subprocess.run(
        [sys.executable, "-c", SCRIPT, "die"], cwd=tmp_path, capture_output=True, text=True
    )
    assert killed.returncode == 9, killed.stderr
    state = tmp_path / "s.state"
    assert json.loads((state / "run.json").read_text())["state"] == "running"
    assert not (state / "batch_ingest_performance.json").exists() or (
        json.loads((state / "batch_ingest_performance.json").read_text())["state"] == "running"
    )

    again = subprocess.run(
        [sys.executable, "-c", SCRIPT, "live"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0 and again.stdout.strip() == "5", again.stderr
    assert json.loads((state / "run.json").read_text())["state"] == "complete"
    performance = json.loads((state / "batch_ingest_performance.json").read_text())
    assert performance["state"] == "complete" and performance["succeeded"] == 5
