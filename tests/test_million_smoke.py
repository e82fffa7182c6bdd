"""The scale benchmark (``benchmarks.million``) runs end to end on a small generated tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_million_runs_on_a_small_tree(tmp_path: Path) -> None:
    out = tmp_path / "million.json"
    argv = [sys.executable, "-m", "benchmarks.million", "--files", "120", "200", "--keep", str(tmp_path)]
    proc = subprocess.run([*argv, "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| 200 |" in proc.stdout and "driver peak RSS per file (120 -> 200)" in proc.stdout
    assert "last tenth files/s" in proc.stdout and "verify / (walk + table pass)" in proc.stdout
    records = json.loads(out.read_text())["records"]
    assert [r["files"] for r in records] == [120, 200]
    for record in records:
        assert record["full"]["result"]["succeeded"] == record["files"]
        assert record["unchanged"]["result"]["skipped"] == record["files"]
        assert record["full"]["result"]["peak_memory_mb"] > 0 and record["full"]["tree_peak_mb"] > 0
        assert record["stat_walk_s"] > 0 and record["store_mb_per_text_mb"] > 0
        assert record["batches"]["first_rss_mb"] > 0 and record["batches"]["last_files_per_s"] > 0
        assert record["verify"]["wall_s"] > 0 and record["report"]["maxrss_mb"] > 0
    assert (tmp_path / "tree-200.json").exists()  # kept: a second run uses the tree again

    again = subprocess.run(
        [*argv[:4], "200", "--keep", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=180
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "using the generated tree" in again.stderr
