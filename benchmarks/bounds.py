"""Lower bounds of the machine: stat walk, read, hash, and docbatch's parsers run alone.

The task functions run inside a measured child (``benchmarks.child``); each times only
its own operation, after listing the files. ``measure_bounds`` runs them from the parent.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.corpus import list_files, pattern_regex

CHUNK_FILES = 50


WORKER_START = "import docbatch.run.execution, docbatch.work.worker"
"""What a process-pool worker imports before its first slice (its start-up cost)."""


def stat_walk(root: str, pattern: str) -> dict[str, Any]:
    """Walk the tree with ``os.scandir`` and stat every matching file; nothing is opened."""
    rx = pattern_regex(pattern)
    started = time.perf_counter()
    n, total = 0, 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif rx.match(entry.name):
                    st = entry.stat()
                    n += 1
                    total += st.st_size + (st.st_mtime_ns & 1)
    return {"op_s": time.perf_counter() - started, "files": n}


def read_all(root: str, pattern: str) -> dict[str, Any]:
    """Read every matching file into memory (the file list is built first, untimed)."""
    paths = [p for _, p in list_files(root, pattern)]
    started = time.perf_counter()
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += len(f.read())
    return {"op_s": time.perf_counter() - started, "files": len(paths), "bytes": total}


def sha256_all(root: str, pattern: str) -> dict[str, Any]:
    """Read and SHA-256 every matching file."""
    paths = [p for _, p in list_files(root, pattern)]
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as f:
            hashlib.sha256(f.read()).hexdigest()
    return {"op_s": time.perf_counter() - started, "files": len(paths)}


def _load(root: str, pattern: str) -> list[tuple[str, bytes]]:
    from docbatch.formats import detect_format

    items = []
    for _, path in list_files(root, pattern):
        fmt = detect_format(os.path.basename(path))
        if fmt is not None:
            items.append((fmt, Path(path).read_bytes()))
    return items


def _parse_items(items: list[tuple[str, bytes]]) -> dict[str, list[float]]:
    """Decode and parse each item; per format: [seconds, files, failures]."""
    from docbatch.formats import get_parser
    from docbatch.work.decoding import decode

    stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for fmt, data in items:
        parser = get_parser(fmt)
        started = time.perf_counter()
        try:
            parser(decode(data)[0])
        except Exception:
            stats[fmt][2] += 1
        stats[fmt][0] += time.perf_counter() - started
        stats[fmt][1] += 1
    return dict(stats)


def _rst_with_docutils(items: list[tuple[str, bytes]]) -> list[float] | None:
    """The RST files again with the docutils engine, when the default engine is another one."""
    from docbatch.formats import get_parser
    from docbatch.work.decoding import decode

    try:
        parser = get_parser("rst", rst_engine="docutils")
    except (TypeError, ValueError):
        return None
    if not items or parser is get_parser("rst"):
        return None
    stat = [0.0, 0, 0]
    for _, data in items:
        started = time.perf_counter()
        try:
            parser(decode(data)[0])
        except Exception:
            stat[2] += 1
        stat[0] += time.perf_counter() - started
        stat[1] += 1
    return stat


def _warm(delay_s: float) -> tuple[int, float]:
    """Import every parser; returns this worker's pid and when it was ready (``time.time``).
    The pause after that keeps the worker from taking a second warm-up task, so that every
    worker gets one; it is not part of the start-up."""
    from docbatch.formats import get_parser, supported_formats

    for fmt in supported_formats():
        get_parser(fmt)
    ready = time.time()
    time.sleep(delay_s)
    return os.getpid(), ready


def parse_serial(root: str, pattern: str) -> dict[str, Any]:
    """docbatch's parsers over pre-read files in this one process, per format."""
    from docbatch.formats import get_parser, supported_formats

    items = _load(root, pattern)
    for fmt in supported_formats():
        get_parser(fmt)
    started = time.perf_counter()
    stats = _parse_items(items)
    elapsed = time.perf_counter() - started
    docutils = _rst_with_docutils([item for item in items if item[0] == "rst"])
    if docutils is not None:
        stats["rst_docutils"] = docutils
    return {
        "op_s": elapsed,
        "files": len(items),
        "bytes": sum(len(d) for _, d in items),
        "parsers": {fmt: getattr(get_parser(fmt), "__module__", "?") for fmt in supported_formats()},
        "per_format": {
            fmt: {"s": s, "files": int(n), "failed": int(bad)} for fmt, (s, n, bad) in stats.items()
        },
    }


def parse_parallel(root: str, pattern: str, workers: int) -> dict[str, Any]:
    """The same parsers on ``workers`` spawned processes, over chunks of pre-read files.

    The pool is started and warmed (parsers imported) before timing; ``pool_start_s``
    says what that cost. Each format is timed alone, then all files mixed (``op_s``).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    items = _load(root, pattern)
    by_format: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for item in items:
        by_format[item[0]].append(item)
    started = time.time()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        warmed = list(pool.map(_warm, [0.2] * workers))
        pids = {pid for pid, _ in warmed}
        pool_start = max(ready for _, ready in warmed) - started  # until the last worker is ready
        per_format = {}
        for fmt, group in sorted(by_format.items()):
            t0 = time.perf_counter()
            _run_chunks(pool, group)
            per_format[fmt] = {"s": time.perf_counter() - t0, "files": len(group)}
        t0 = time.perf_counter()
        failed = _run_chunks(pool, items)
        mixed = time.perf_counter() - t0
    return {
        "op_s": mixed,
        "pool_start_s": pool_start,
        "workers": workers,
        "workers_used": len(pids),
        "files": len(items),
        "failed": failed,
        "per_format": per_format,
    }


def _run_chunks(pool: Any, items: list[tuple[str, bytes]]) -> int:
    chunks = [items[i : i + CHUNK_FILES] for i in range(0, len(items), CHUNK_FILES)]
    failed = 0
    for stats in pool.map(_parse_items, chunks):
        failed += sum(int(v[2]) for v in stats.values())
    return failed


def measure_bounds(root: str, pattern: str, repeats: int, workers: int) -> dict[str, Any]:
    """Every bound, each in fresh subprocesses, as medians of ``repeats``."""
    from benchmarks.measure import python_task, repeat, run_measured

    def task(name: str, **extra: Any) -> dict[str, Any]:
        args = {"root": root, "pattern": pattern, **extra}
        return repeat(lambda _: run_measured(python_task(f"bounds:{name}", args)), repeats)

    return {
        "worker_start": repeat(lambda _: run_measured([sys.executable, "-c", WORKER_START]), repeats),
        "stat_walk": task("stat_walk"),
        "read_all": task("read_all"),
        "sha256_all": task("sha256_all"),
        "parse_1core": task("parse_serial"),
        "parse_ncores": task("parse_parallel", workers=workers),
    }
