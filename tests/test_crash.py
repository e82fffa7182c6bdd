"""A run killed with SIGKILL at any instant resumes with nothing lost and nothing duplicated.

Each test kills a real ``docbatch`` process — at arbitrary moments of a CLI run,
inside a store transaction, between a store commit and its checkpoint part, and
between writing a part and renaming it — then resumes with the real CLI and
compares the store with an uninterrupted run of the same tree.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from docbatch.sample import BAD_FILES, SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN, write_sample_tree

pytestmark = pytest.mark.slow

COPIES = 8
CLI_OPTIONS = [
    "--pattern",
    SAMPLE_PATTERN,
    "--max-file-size",
    str(SAMPLE_MAX_FILE_SIZE),
    "--chunk-size",
    "6",
    "--workers",  # a known number of slices in flight (9), so that commits stay many
    "2",
    "--quiet",
    "--json",
]
ENV = {**os.environ, "BATCH_PROGRESS_INTERVAL": "2"}


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "docbatch", *args],
        env=ENV,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _store_rows(db: Path) -> pl.DataFrame:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT doc_id, seq, passage_id, text FROM passages ORDER BY doc_id, seq"
        ).fetchall()
        (fts,) = con.execute("SELECT count(*) FROM passages_fts").fetchone()
        (docs,) = con.execute("SELECT count(*) FROM documents").fetchone()
    finally:
        con.close()
    frame = pl.DataFrame(rows, schema=["doc_id", "seq", "passage_id", "text"], orient="row")
    assert fts == frame.height, "full-text index and passages disagree"
    assert docs == frame["doc_id"].n_unique()
    return frame


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "docs"
    for i in range(COPIES):
        write_sample_tree(root / f"copy{i:02d}")
    return root


@pytest.fixture(scope="module")
def reference(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    db = tmp_path_factory.mktemp("reference") / "ref.db"
    proc = _cli("ingest-docs-batch", str(tree), "--db", str(db), *CLI_OPTIONS)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return _store_rows(db)


def _resume_and_check(tree: Path, db: Path, reference: pl.DataFrame) -> None:
    proc = _cli("ingest-docs-batch", str(tree), "--db", str(db), *CLI_OPTIONS)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _store_rows(db).equals(reference)
    outcomes = pl.read_parquet(db.with_suffix(".state") / "outcomes.parquet")
    assert outcomes["doc_id"].is_unique().all()
    assert outcomes.filter(status="pending").height == 0
    assert outcomes.filter(status="failed").height == COPIES * len(BAD_FILES)
    stored = outcomes.filter(status="succeeded").height + outcomes.filter(status="skipped").height
    hidden = outcomes.filter(status="skipped", reason="hidden").height  # the copies' .drafts/ folders
    assert hidden == COPIES and stored - hidden == reference["doc_id"].n_unique()


@pytest.mark.parametrize("after_parts", [1, 3, 5, 6])  # 52 slices, at most 8 per commit: >= 7 parts
def test_sigkill_at_arbitrary_moments_of_a_cli_run(
    tree: Path, reference: pl.DataFrame, tmp_path: Path, after_parts: int
) -> None:
    db = tmp_path / "s.db"
    parts = db.with_suffix(".state") / "outcomes"
    proc = _cli("ingest-docs-batch", str(tree), "--db", str(db), *CLI_OPTIONS)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if parts.is_dir() and len(list(parts.glob("part-*.parquet"))) >= after_parts:
            break
        time.sleep(0.002)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    _resume_and_check(tree, db, reference)


CHILD = textwrap.dedent("""
    import os, signal, sys
    from docbatch import BatchConfig, BatchIngestService
    from docbatch.state import atomic
    from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
    from docbatch.store import SQLiteStore

    tree, db, mode, at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)

    class Store(SQLiteStore):
        writes = 0
        def write_slice(self, source, documents, passages, touched):
            Store.writes += 1
            if mode == "mid_transaction" and Store.writes == at:
                self._con.execute("BEGIN IMMEDIATE")
                self._con.execute("DELETE FROM passages WHERE source = ?", (source,))
                die()
            super().write_slice(source, documents, passages, touched)
            if mode == "after_commit" and Store.writes == at:
                die()

    replaces = [0]
    real_replace = atomic.os.replace
    def replace(src, dst):
        if mode == "before_rename" and str(dst).endswith(".parquet") and "part-" in str(dst):
            replaces[0] += 1
            if replaces[0] == at:
                die()
        real_replace(src, dst)
    atomic.os.replace = replace

    cfg = BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE, chunk_processing_size=6,
                      progress_save_interval=2)
    BatchIngestService(Store(db), config=cfg).ingest_batch(tree, pattern=SAMPLE_PATTERN)
    sys.exit(3)  # never reached: the process kills itself
""")


@pytest.mark.parametrize("mode", ["mid_transaction", "after_commit", "before_rename"])
@pytest.mark.parametrize("at", [1, 6])  # a run of 52 slices makes at least 7 commits
def test_sigkill_at_the_critical_instants(
    tree: Path, reference: pl.DataFrame, tmp_path: Path, mode: str, at: int
) -> None:
    db = tmp_path / "s.db"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(db), mode, str(at)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    _resume_and_check(tree, db, reference)
