"""docbatch itself, run through its command line in fresh processes.

Full ingest (fresh store), unchanged re-run (same tree and store, new process) and its
cost broken down, the 5%-touched incremental run against ingesting only those files,
and the scaled corpus.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.corpus import choose_touched, copy_subset, copy_tree, scaled_copy, touch
from benchmarks.measure import python_task, repeat, run_measured

BIG_BATCH = str(10**9)
IN_CALLS = 1000
IN_CALLS_SCRIPT = """
import json, sys
from docbatch import BatchIngestService
root, pattern, db, executor, workers, limit = sys.argv[1:]
with BatchIngestService(db) as service:
    result = None
    while result is None or (result.pending and not result.interrupted):
        result = service.ingest_batch(
            root, pattern, executor=executor, workers=int(workers) or None, limit=int(limit)
        )
print(json.dumps(result.as_dict(), default=str))
"""
TOUCH_FRACTION = 0.05
TOUCH_SEED = 20240505


def ingest(
    root: Path,
    db: Path,
    pattern: str,
    workers: int | None,
    executor: str = "process",
    batch: str = BIG_BATCH,
    calls_of: int | None = None,
) -> dict[str, Any]:
    """One measured ``docbatch ingest-docs-batch`` (process executor unless told otherwise),
    in batches of ``batch`` files (``BATCH_MAX_BATCH_SIZE``; default: one batch); with
    ``calls_of``, a Python process that calls ``ingest_batch(limit=calls_of)`` until nothing
    is pending instead (one service, as a script working through a tree would)."""
    argv = [
        sys.executable,
        "-m",
        "docbatch",
        "ingest-docs-batch",
        str(root),
        "--pattern",
        pattern,
        "--db",
        str(db),
        "--executor",
        executor,
        "--json",
        "--quiet",
    ]
    if workers:
        argv += ["--workers", str(workers)]
    if calls_of is not None:
        script_args = [str(root), pattern, str(db), executor, str(workers or 0), str(calls_of)]
        argv = [sys.executable, "-c", IN_CALLS_SCRIPT, *script_args]
    env = dict(os.environ, BATCH_MAX_BATCH_SIZE=batch)
    run = run_measured(argv, env=env)
    summary = json.loads(run["stdout"].strip().splitlines()[-1])
    run["result"] = {
        key: summary.get(key)
        for key in (
            "total_files",
            "succeeded",
            "failed",
            "skipped",
            "pending",
            "elapsed_s",
            "files_per_second",
            "peak_memory_mb",
        )
    }
    run["result"]["plan"] = summary.get("plan") or {}
    run["files_per_s"] = (summary.get("total_files") or 0) / run["wall_s"]
    return run


class DocbatchBench:
    """The docbatch measurements on one corpus, with scratch space under ``work``."""

    def __init__(
        self,
        corpus: Path,
        pattern: str,
        work: Path,
        repeats: int,
        workers: int | None,
        log: Callable[[str], None] = print,
        executor: str = "process",
    ) -> None:
        self.corpus = corpus
        self.pattern = pattern
        self.work = work
        self.repeats = repeats
        self.workers = workers
        self.log = log
        self.executor = executor
        self.last_store: Path | None = None

    def _fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def full(self) -> dict[str, Any]:
        """Full ingest into a fresh store, ``repeats`` times; keeps the last store."""

        def one(i: int) -> dict[str, Any]:
            store_dir = self._fresh(f"full-{i}")
            run = ingest(self.corpus, store_dir / "store.db", self.pattern, self.workers, self.executor)
            self.last_store = store_dir / "store.db"
            return run

        return repeat(one, self.repeats)

    def unchanged(self) -> dict[str, Any]:
        """Re-run over the same tree and the store of the last full ingest."""
        assert self.last_store is not None, "run full() first"
        db = self.last_store
        return repeat(
            lambda _: ingest(self.corpus, db, self.pattern, self.workers, self.executor), self.repeats
        )

    def breakdown(self) -> dict[str, Any]:
        """Where an unchanged re-run's time goes (interpreter, imports, scan, store, plan, ...)."""
        assert self.last_store is not None, "run full() first"
        source = Path(os.path.realpath(self.corpus)).name
        args = {
            "root": str(self.corpus),
            "pattern": self.pattern,
            "db": str(self.last_store),
            "source": source,
        }
        parts = repeat(lambda _: run_measured(python_task("rerun_parts:breakdown", args)), self.repeats)
        bare = repeat(lambda _: run_measured([sys.executable, "-c", "pass"]), self.repeats)
        imported = repeat(lambda _: run_measured([sys.executable, "-c", "import docbatch.cli"]), self.repeats)
        profile_args = {k: args[k] for k in ("root", "pattern", "db")} | {"executor": self.executor}
        profile = run_measured(python_task("rerun_parts:profile", profile_args))
        return {
            "interpreter_s": bare["median"]["wall_s"],
            "import_process_s": imported["median"]["wall_s"],
            "pieces": parts,
            "profile_top": (profile["result"] or {}).get("top", []),
            "importtime_top": importtime_top("docbatch.cli, docbatch.service"),
        }

    def incremental(self) -> dict[str, Any]:
        """5% of the files touched in a copied tree and re-run, vs only those files fresh."""
        base = self._fresh("incr-base")
        tree = copy_tree(self.corpus, base / self.corpus.name)
        self.log("    incremental: first ingest of the copied tree (setup, not timed)")
        setup = ingest(tree, base / "store.db", self.pattern, self.workers, self.executor)
        rels = choose_touched(tree, self.pattern, TOUCH_FRACTION, TOUCH_SEED)

        def touched_run(i: int) -> dict[str, Any]:
            rep = self.work / f"incr-{i}"
            shutil.rmtree(rep, ignore_errors=True)
            copy_tree(base, rep)
            touch(rep / self.corpus.name, rels)
            return ingest(rep / self.corpus.name, rep / "store.db", self.pattern, self.workers, self.executor)

        def only_run(i: int) -> dict[str, Any]:
            rep = self._fresh(f"only-{i}")
            subset = copy_subset(touched_tree, rels, rep / self.corpus.name)
            return ingest(subset, rep / "store.db", self.pattern, self.workers, self.executor)

        touched = repeat(touched_run, self.repeats)
        touched_tree = self.work / "incr-0" / self.corpus.name
        only = repeat(only_run, self.repeats)
        return {
            "touched_files": len(rels),
            "fraction": TOUCH_FRACTION,
            "seed": TOUCH_SEED,
            "setup_wall_s": setup["wall_s"],
            "touched_rerun": touched,
            "only_touched_fresh": only,
        }

    def scaled(self, times: int) -> dict[str, Any]:
        """Full ingest of ``times`` copies of the corpus in one tree."""
        root = self._fresh(f"scaled-{times}x")
        tree = scaled_copy(self.corpus, root / self.corpus.name, times)

        def one(i: int) -> dict[str, Any]:
            store_dir = self._fresh(f"scaled-store-{i}")
            run = ingest(tree, store_dir / "store.db", self.pattern, self.workers, self.executor)
            shutil.rmtree(store_dir, ignore_errors=True)
            return run

        out = repeat(one, self.repeats)
        out["times"] = times
        # once more in calls of IN_CALLS files (``limit``): each call must cost what its
        # files cost, not what the whole tree does
        store_dir = self._fresh("scaled-store-in-calls")
        out["in_calls"] = ingest(
            tree, store_dir / "store.db", self.pattern, self.workers, self.executor, calls_of=IN_CALLS
        )
        out["in_calls"]["files_per_call"] = IN_CALLS
        shutil.rmtree(store_dir, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        return out


def importtime_top(modules: str, top: int = 8) -> list[dict[str, Any]]:
    """The slowest packages (cumulative import seconds) under ``python -X importtime -c 'import ...'``."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"],
        capture_output=True,
        text=True,
        check=True,
    )
    wanted = {name.strip() for name in modules.split(",")}
    best: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if m and ("." not in m.group(3) or m.group(3) in wanted):
            name = m.group(3)
            best[name] = max(best.get(name, 0.0), int(m.group(2)) / 1e6)
    ranked = sorted(best.items(), key=lambda item: -item[1])[:top]
    return [{"module": k, "cumulative_s": v} for k, v in ranked]


def scratch_dir() -> Path:
    """A scratch folder for one suite run."""
    return Path(tempfile.mkdtemp(prefix="docbatch-bench-"))
