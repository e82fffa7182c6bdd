"""A resumed run checks its checkpoint against the store: documents that committed
transactions put in the store, and that the store then lost (its write-ahead log deleted
after a crash, as a power loss or a careless copy can do), are ingested again in the same
run and reported, never counted as stored."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FILES = 600


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for i in range(FILES):
        folder = root / f"part{i % 6}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"Paragraph {j} of page {i}." for j in range(20))
        (folder / f"page{i:04}.md").write_text(f"# Page {i}\n\n{body}\n")
    return root


def _command(tree: Path, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "docbatch", "ingest-docs-batch", str(tree), "--pattern", "*.md",
        "--db", str(db), "--chunk-size", "5", "--executor", "serial", *extra,
    ]  # fmt: skip


def _stored(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(DISTINCT doc_id) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:  # the table itself was in the lost log
        return 0
    finally:
        con.close()


@pytest.mark.slow
def test_documents_the_store_lost_are_ingested_again_and_reported(tree: Path, tmp_path: Path) -> None:
    db = tmp_path / "docs.db"
    parts = tmp_path / "docs.state" / "outcomes"
    proc = subprocess.Popen(_command(tree, db, "--quiet"), cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (parts.exists() and len(list(parts.iterdir())) >= 10) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    wal = Path(f"{db}-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the commits since the last checkpoint are there
    wal.unlink()  # ... and now they are lost
    Path(f"{db}-shm").unlink(missing_ok=True)
    lost_before = _stored(db)

    again = subprocess.run(
        _command(tree, db, "--json"), cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    summary = json.loads(again.stdout)
    assert (summary["succeeded"], summary["failed"], summary["pending"]) == (FILES, 0, 0)
    assert _stored(db) == FILES > lost_before
    assert "the store has lost" in again.stderr
    errors = json.loads((tmp_path / "docs.state" / "batch_ingest_errors.json").read_text())
    lost = [e for e in errors["errors"] if e.get("type") == "StoreLost"]
    assert len(lost) == 1 and lost[0]["count"] > 0
    performance = json.loads((tmp_path / "docs.state" / "batch_ingest_performance.json").read_text())
    assert performance["recovered"] == lost[0]["count"]


@pytest.mark.slow
def test_verify_while_a_run_writes_says_so_instead_of_agreeing(tree: Path, tmp_path: Path) -> None:
    db = tmp_path / "docs.db"
    parts = tmp_path / "docs.state" / "outcomes"
    ingest = subprocess.Popen(_command(tree, db, "--quiet"), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not (parts.exists() and any(parts.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.01)
        verify = subprocess.run(
            [sys.executable, "-m", "docbatch", "verify", str(tree), "--db", str(db)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        running = ingest.poll() is None
    finally:
        ingest.wait(timeout=300)
    assert running, "the run ended before verify looked: make the tree larger"
    assert verify.returncode == 3, verify.stdout + verify.stderr
    assert "being written by another run" in verify.stderr and "agree" not in verify.stdout
    after = subprocess.run(
        [sys.executable, "-m", "docbatch", "verify", "--db", str(db)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0 and "agree" in after.stdout, after.stdout + after.stderr
