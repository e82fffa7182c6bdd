"""Nothing that is not a regular file is ever read, and a binary file is refused from its
first block: a FIFO put in place of a file during a run cannot hang it, and a huge sparse
file is not read into memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from docbatch.frames import INVENTORY
from docbatch.work.worker import ParseOptions, process_slice

FILES = 300
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def _plan(root: Path, names: list[str]) -> pl.DataFrame:
    rows = [
        {"doc_id": n, "path": str(root / n), "format": "markdown", "size": 10, "mtime_ns": 0, "status": "new"}
        for n in names
    ]
    return pl.DataFrame(rows, schema=INVENTORY)


def test_a_fifo_is_a_skipped_row_and_never_opened_for_a_blocking_read(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\ntext\n")
    os.mkfifo(tmp_path / "pipe.md")  # no writer: a blocking open or read would wait forever
    result = process_slice(_plan(tmp_path, ["a.md", "pipe.md"]), ParseOptions())
    rows = {r["doc_id"]: r for r in result.outcomes.iter_rows(named=True)}
    assert rows["a.md"]["status"] == "succeeded"
    assert rows["pipe.md"]["status"] == "skipped"
    assert rows["pipe.md"]["reason"] == "not a regular file: a FIFO (named pipe); never read"


SCRIPT = """
import json, os, sys
from docbatch import BatchConfig, BatchIngestService

class ReplaceWithFifo:
    # after the first commit, the last file of the tree becomes a FIFO
    done = False
    def start(self, progress): pass
    def stop(self, progress): pass
    def update(self, progress, row):
        if not self.done:
            self.done = True
            os.remove("docs/z-last.md")
            os.mkfifo("docs/z-last.md")

config = BatchConfig(chunk_processing_size=2, file_timeout_s=float(sys.argv[2]))
service = BatchIngestService("s.db", config=config)
result = service.ingest_batch("docs", executor=sys.argv[1], progress=ReplaceWithFifo())
row = result.outcomes.filter(doc_id="z-last.md").row(0, named=True)
print(json.dumps({"status": row["status"], "reason": row["reason"], "succeeded": result.succeeded}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("executor", "timeout"), [("serial", 0), ("serial", 5), ("process", 0)])
def test_a_file_replaced_by_a_fifo_during_a_run_does_not_hang_it(
    tmp_path: Path, executor: str, timeout: int
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(FILES - 1):  # enough that the last file is still waiting at the first commit
        (docs / f"page{i}.md").write_text(f"# Page {i}\n\ntext\n")
    (docs / "z-last.md").write_text("# Last\n\ntext\n")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, executor, str(timeout)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {
        "status": "skipped",
        "reason": "not a regular file: a FIFO (named pipe); never read",
        "succeeded": FILES - 1,
    }


@pytest.mark.slow
def test_a_huge_sparse_binary_file_is_refused_from_its_first_block(tmp_path: Path) -> None:
    sparse = tmp_path / "docs" / "huge.md"
    sparse.parent.mkdir()
    with open(sparse, "wb") as f:
        f.truncate(1 << 30)  # 1 GiB of NUL bytes, none of it on disk
    script = (
        "import json, resource\n"
        "from docbatch import BatchConfig, BatchIngestService\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "s = BatchIngestService('s.db', config=BatchConfig(max_file_size=2 << 30))\n"
        "r = s.ingest_batch('docs', executor='serial')\n"
        "row = r.outcomes.row(0, named=True)\n"
        "grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(json.dumps({'message': row['error_message'], 'grew_mb': grew / 1024}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["message"] == "binary content (NUL byte at offset 0), not a text document"
    assert out["grew_mb"] < 200  # not the 1 GiB the file says it holds


def test_a_fifo_present_from_the_start_is_a_skipped_row_with_its_reason(tmp_path: Path) -> None:
    from docbatch import BatchIngestService

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\ntext\n")
    os.mkfifo(docs / "pipe.md")
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(docs, pattern="*.md", executor="serial")
    rows = {r["doc_id"]: r for r in result.outcomes.iter_rows(named=True)}
    assert rows["pipe.md"]["status"] == "skipped"
    assert rows["pipe.md"]["reason"] == "not a regular file: a FIFO (named pipe); never read"
    assert (result.succeeded, result.skipped) == (1, 1)
