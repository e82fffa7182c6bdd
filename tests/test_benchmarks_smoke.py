"""The benchmark suite runs end to end on a tiny generated corpus (so it cannot rot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_suite_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny"
    gen = subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", str(corpus), "--files", "60", "--seed", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gen.returncode == 0, gen.stderr
    assert len([p for p in corpus.rglob("*") if p.is_file()]) == 60

    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", str(corpus), "--quick", "--scale", "2", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| first ingest with change tracking |" in proc.stdout

    results = json.loads(out.read_text())
    assert results["meta"]["files"] == 60
    bounds = results["bounds"]
    for name in ("stat_walk", "read_all", "sha256_all", "parse_1core", "parse_ncores"):
        assert bounds[name]["median"]["result.op_s"] > 0, name
        assert bounds[name]["median"]["wall_s"] > 0, name
    assert bounds["worker_start"]["median"]["cpu_s"] > 0
    per_format = bounds["parse_1core"]["runs"][0]["result"]["per_format"]
    assert {"markdown", "rst", "html", "text"} <= set(per_format)

    db = results["docbatch"]
    for name in ("full", "unchanged", "scaled"):
        median = db[name]["median"]
        assert median["wall_s"] > 0 and median["tree_peak_mb"] > 0 and median["maxrss_mb"] > 0, name
        assert median["result.peak_memory_mb"] > 0, name
    assert db["full"]["median"]["result.succeeded"] == 60
    assert db["unchanged"]["median"]["result.skipped"] == 60
    assert db["scaled"]["median"]["result.total_files"] == 120
    assert db["scaled"]["in_calls"]["result"]["total_files"] == 120
    assert db["incremental"]["touched_files"] == 3
    assert db["incremental"]["touched_rerun"]["median"]["result.plan.changed"] == 3
    assert db["incremental"]["only_touched_fresh"]["median"]["result.succeeded"] == 3
    parts = db["breakdown"]["pieces"]["median"]
    assert parts["result.parts.scan_s"] > 0 and parts["result.parts.import_cli_s"] > 0

    ratios = results["ratios"]
    for name in (
        "ingest throughput / parse-only bound (N cores, pool start included in both)",
        "unchanged re-run / stat walk",
        "5%-touched incremental / only those files, fresh store",
        "driver peak RSS scaled / 1x",
        "files/s scaled / 1x",
        "scaled, in calls of 1,000 files / in one call (wall)",
        "full ingest wall / its CPU floor",
        "workers' start-up (importing the worker code) / full ingest CPU-s",
    ):
        assert ratios[name]["value"] > 0, name
    assert "rst_quality" in results
    assert "peers" not in results
