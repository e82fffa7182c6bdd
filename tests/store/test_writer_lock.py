"""One writer per PostgreSQL store and source, whatever the state folders: the lock lives in
the database (an advisory lock), names its holder, and dies with it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from docbatch.errors import StoreLockedError


def _docbatch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "docbatch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def _tables_locked(url: str) -> Iterator[None]:
    """While entered, every write to the store waits: a run that got its writer lock stays
    in the middle of its work."""
    import psycopg

    from docbatch.store.postgres import PostgresStore

    PostgresStore(url).close()  # the tables exist
    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE documents, passages IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            blocker.rollback()


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _ingest(tree: Path, url: str, state: Path, *more: str) -> subprocess.Popen[str]:
    return _docbatch("ingest-docs-batch", str(tree), "--db", url, "--state-dir", str(state), *more)


def test_a_second_ingest_with_another_state_folder_is_refused(
    postgres_schema_url: str, sample_tree: Path, tmp_path: Path
) -> None:
    import psycopg

    with _tables_locked(postgres_schema_url):
        first = _ingest(sample_tree, postgres_schema_url, tmp_path / "a", "--pattern", "*.md", "--json")
        _wait_for(tmp_path / "a" / "run.json", first)  # planned, and now waiting to write
        second = _ingest(sample_tree, postgres_schema_url, tmp_path / "b", "--pattern", "*.md", "--quiet")
        try:
            _, err = second.communicate(timeout=15)
        except subprocess.TimeoutExpired:  # not refused: it waits to write as well
            second.kill()
            _, err = second.communicate()
    out, first_err = first.communicate(timeout=120)
    assert second.returncode == 3, err
    assert f"pid {first.pid} on {socket.gethostname()}" in err and "run " in err
    assert "being written by another run" in err
    assert first.returncode == 0, first_err
    result = json.loads(out)
    assert result["succeeded"] > 0 and result["pending"] == 0
    assert not (tmp_path / "b" / "run.json").exists()  # the refused run did nothing
    with psycopg.connect(postgres_schema_url) as conn:
        ((stored,),) = conn.execute("SELECT count(*) FROM documents").fetchall()
        held = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    assert stored == result["succeeded"]
    assert held == (0,)  # released at the end of the run


def test_a_killed_holder_frees_the_lock_and_is_named(
    postgres_schema_url: str, sample_tree: Path, tmp_path: Path
) -> None:
    with _tables_locked(postgres_schema_url):
        first = _ingest(sample_tree, postgres_schema_url, tmp_path / "a", "--pattern", "*.md", "--quiet")
        _wait_for(tmp_path / "a" / "run.json", first)
        os.kill(first.pid, signal.SIGKILL)
        first.communicate()
    second = _ingest(sample_tree, postgres_schema_url, tmp_path / "b", "--pattern", "*.md", "--json")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert json.loads(out)["succeeded"] > 0
    assert "took over the writer lock" in err and f"pid {first.pid}" in err


def test_other_sources_of_the_store_are_written_at_the_same_time(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    from docbatch.store.postgres import PostgresStore

    one, two = PostgresStore(postgres_schema_url), PostgresStore(postgres_schema_url)
    try:
        with one.writer_lock("docs") as held:
            assert held.previous is None
            held.note(run_id="r1")
            with two.writer_lock("other"):
                pass
            with pytest.raises(StoreLockedError, match=rf"pid {os.getpid()} .*run r1"):
                with two.writer_lock("docs"):
                    pass
        with two.writer_lock("docs") as held:  # released: the next one gets it, with no one to take over
            assert held.previous is None
    finally:
        one.close()
        two.close()
