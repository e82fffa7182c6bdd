"""A service manager's SIGTERM (or a closed terminal's SIGHUP) stops a real ``docbatch``
run the way Ctrl-C does: the current commit ends, the workers stop, the reports are
written, the exit status says which signal, and the same command resumes the run."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FILES = 3000


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signals") / "docs"
    for i in range(FILES):
        folder = root / f"section{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"Paragraph {j} of page {i} about signals and shutdown." for j in range(30))
        (folder / f"page{i:04}.md").write_text(f"# Page {i}\n\n{body}\n")
    return root


def _command(tree: Path, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "docbatch", "ingest-docs-batch", str(tree), "--pattern", "*.md",
        "--db", str(db), "--chunk-size", "10", "--executor", "process", "--workers", "2", *extra,
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_the_run_cleanly_and_the_same_command_resumes(
    tree: Path, tmp_path: Path, signum: int, status: int
) -> None:
    db = tmp_path / "docs.db"
    parts = tmp_path / "docs.state" / "outcomes"
    proc = subprocess.Popen(
        _command(tree, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    deadline = time.monotonic() + 120
    while not (parts.exists() and any(parts.iterdir())) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err[-3000:]
    assert f"{signal.Signals(signum).name} received" in err
    assert "run the same command again to resume" in err
    assert "Traceback" not in err and "leaked semaphore" not in err
    state = tmp_path / "docs.state"
    assert json.loads((state / "run.json").read_text())["state"] == "running"
    performance = json.loads((state / "batch_ingest_performance.json").read_text())
    assert 0 < performance["processed"] < FILES

    again = subprocess.run(
        _command(tree, db, "--json"), capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert (summary["succeeded"], summary["failed"], summary["pending"]) == (FILES, 0, 0)
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT doc_id) FROM documents").fetchone() == (
            FILES,
            FILES,
        )
    finally:
        con.close()


def test_signal_handlers_are_put_back_after_a_run(tmp_path: Path) -> None:
    from docbatch import BatchIngestService

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\ntext\n")
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with BatchIngestService(tmp_path / "s.db") as service:
        service.ingest_batch(tmp_path / "docs")
    assert {s: signal.getsignal(s) for s in before} == before
