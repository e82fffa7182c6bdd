"""What a plain Python REPL prints for a result: a short summary, not a dataclass dump."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docbatch import IngestResult, sample


def _repl(lines: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-i", "-q"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_a_result_in_the_repl_is_a_short_summary(tmp_path: Path) -> None:
    root = sample.write_sample_tree(tmp_path / "docs")
    shown = _repl(
        [
            "from docbatch import BatchIngestService, BatchConfig, sample",
            "cfg = BatchConfig(max_file_size=sample.SAMPLE_MAX_FILE_SIZE)",
            "svc = BatchIngestService('docs.db', config=cfg)",
            f"result = svc.ingest_batch({str(root)!r}, sample.SAMPLE_PATTERN)",
            "result",
            "from docbatch.display import load_run",
            "load_run('docs.state')",
        ],
        tmp_path,
    )
    first, second = shown.split("\n<", 1) if "\n<" in shown else (shown, "")
    assert "IngestResult(" not in shown and "shape:" not in shown and "LoadedRun(" not in shown
    assert 3 <= len(shown.strip().splitlines()) <= 30, shown[:3000]
    assert shown.count("files/s") == 2 and shown.count("succeeded") >= 2


def test_repr_is_the_summary_and_html_is_kept(sample_run: IngestResult) -> None:
    text = repr(sample_run)
    assert text.startswith("<IngestResult ") and len(text.splitlines()) <= 15
    assert sample_run.run_id in text and f"succeeded {sample_run.succeeded}" in text
    assert "<div" in sample_run._repr_html_()
