"""One writer per store: a second run is refused at once; a dead run's lock is taken over."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docbatch import BatchIngestService
from docbatch.cli import main
from docbatch.errors import StoreLockedError
from docbatch.state.lock import holder

HOLD = """
import sys, time
from pathlib import Path
from docbatch.state.lock import writer_lock
with writer_lock(Path(sys.argv[1]), "test"):
    print("locked", flush=True)
    time.sleep(60)
"""


def _hold(state_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(
    tmp_path: Path, sample_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = _hold(tmp_path / "s.state")
    try:
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as info:
            BatchIngestService(tmp_path / "s.db").ingest_batch(sample_tree)
        assert time.monotonic() - started < 5  # refused at once, not after a wait
        message = str(info.value)
        assert f"pid {proc.pid}" in message and socket.gethostname() in message
        code = main(["ingest-docs-batch", str(sample_tree), "--db", str(tmp_path / "s.db")])
        assert code == 3 and f"pid {proc.pid}" in capsys.readouterr().err
    finally:
        proc.kill()
        proc.communicate()


def test_a_killed_runs_lock_is_taken_over(
    tmp_path: Path, sample_tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proc = _hold(tmp_path / "s.state")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    record = holder(tmp_path / "s.state")
    assert record is not None and record["pid"] == proc.pid  # the dead run's record is still there
    with caplog.at_level(logging.WARNING, logger="docbatch"):
        result = BatchIngestService(tmp_path / "s.db").ingest_batch(sample_tree, pattern="*.md")
    assert result.succeeded > 0
    assert any(f"pid {proc.pid}" in r.getMessage() for r in caplog.records)
    assert holder(tmp_path / "s.state") is None  # released at the end of the run


def test_runs_one_after_another_do_not_conflict(tmp_path: Path, sample_tree: Path) -> None:
    service = BatchIngestService(tmp_path / "s.db")
    service.ingest_batch(sample_tree, pattern="*.md")
    assert service.ingest_batch(sample_tree, pattern="*.md").skipped > 0
