"""Run one measurement in a fresh subprocess: wall time, peak RSS, and the child's own report.

Peak RSS comes from three places:

- ``maxrss_mb``: ``os.wait4`` of the child, which the kernel reports as the largest
  single process among the child and its reaped descendants;
- ``tree_peak_mb``: the largest *sum* of RSS over the child's process tree, sampled
  from this process with psutil at about 20 Hz;
- ``root_peak_mb``: the child process alone, sampled the same way.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
SAMPLE_INTERVAL_S = 0.05


class MeasureError(RuntimeError):
    """A measured subprocess failed."""


class _TreeSampler(threading.Thread):
    """Samples the RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.tree_peak = 0
        self.root_peak = 0
        self.max_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop_event.is_set():
            total, count = 0, 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                count += 1
                if proc.pid == self.pid:
                    self.root_peak = max(self.root_peak, rss)
            self.tree_peak = max(self.tree_peak, total)
            self.max_processes = max(self.max_processes, count)
            self._stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout_s: float = 3600.0,
) -> dict[str, Any]:
    """Run ``argv`` to completion and measure it.

    The child finds a path in ``BENCH_RESULT`` where it may write a JSON object; that
    object comes back as ``result`` (None when the child wrote nothing).

    Raises:
        MeasureError: the child exited with a non-zero status.
    """
    with tempfile.TemporaryDirectory(prefix="docbatch-bench-run-") as tmp:
        result_path = Path(tmp) / "result.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        child_env = dict(os.environ if env is None else env)
        child_env["BENCH_RESULT"] = str(result_path)
        paths = child_env.get("PYTHONPATH", "").split(os.pathsep)
        if str(REPO) not in paths:
            child_env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, paths)])
        load_1m = os.getloadavg()[0]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(list(argv), env=child_env, cwd=cwd, stdout=out, stderr=err)
            sampler = _TreeSampler(proc.pid)
            sampler.start()
            timer = threading.Timer(timeout_s, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            wall = time.perf_counter() - started
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        if proc.returncode != 0:
            raise MeasureError(
                f"{' '.join(map(str, argv[:6]))} ... exited {proc.returncode}: {stderr.strip()[-2000:]}"
            )
        child = json.loads(result_path.read_text()) if result_path.exists() else None
    return {
        "wall_s": wall,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "tree_peak_mb": sampler.tree_peak / MB,
        "root_peak_mb": sampler.root_peak / MB,
        "processes": sampler.max_processes,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "load_1m_before": load_1m,
        "stdout": stdout,
        "result": child,
    }


def python_task(
    task: str, args: Mapping[str, Any], *, python: str | None = None, script: Path | None = None
) -> list[str]:
    """The argv that runs ``task`` of ``benchmarks.child`` (or of a standalone ``script``)."""
    payload = json.dumps(dict(args))
    if script is not None:
        return [python or sys.executable, str(script), task, payload]
    return [python or sys.executable, "-m", "benchmarks.child", task, payload]


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric leaves of a nested dict, keyed by dotted path."""
    flat: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            flat[name] = float(value)
        elif isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
    return flat


def median_record(runs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The per-metric median over runs (numeric leaves only, dotted keys)."""
    flats = [flatten(r) for r in runs]
    keys = sorted({k for f in flats for k in f})
    return {k: statistics.median([f[k] for f in flats if k in f]) for k in keys}


def repeat(
    make_run: Callable[[int], dict[str, Any]], repeats: int, *, keep: Sequence[str] = ()
) -> dict[str, Any]:
    """Call ``make_run(i)`` ``repeats`` times; the median of every metric plus the raw runs.

    ``keep`` names non-numeric fields copied from the last run (e.g. counts as text).
    """
    runs = [make_run(i) for i in range(repeats)]
    slim = [{k: v for k, v in r.items() if k != "stdout"} for r in runs]
    out: dict[str, Any] = {"median": median_record(slim), "runs": slim}
    for name in keep:
        if name in runs[-1]:
            out[name] = runs[-1][name]
    return out
