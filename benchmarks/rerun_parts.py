"""The pieces of an unchanged re-run, called one by one in a measured child.

Mirrors what ``docbatch ingest-docs-batch`` does when nothing changed: import the CLI
and the service, walk the tree into parts, plan it a part at a time against the stored
documents of each part's range (the reads timed apart), write the checkpoint manifest
and the reports. Reports and checkpoint go to a scratch
folder so the store's own state is left alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any


def breakdown(root: str, pattern: str, db: str, source: str) -> dict[str, Any]:
    """Seconds spent in each piece of an unchanged re-run."""
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    import docbatch.cli  # noqa: F401

    parts["import_cli_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    import docbatch.service  # noqa: F401

    parts["import_service_s"] = time.perf_counter() - t0

    import polars as pl

    from docbatch.frames import TIMELINE
    from docbatch.plan.inventory_parts import scan_parts
    from docbatch.plan.selection import parse_patterns
    from docbatch.run.plan_parts import PartPlanner
    from docbatch.state import reports
    from docbatch.state.checkpoint import Checkpoint
    from docbatch.store.sqlite import SQLiteStore
    from docbatch.work.outcomes import planned_rows

    patterns = parse_patterns(pattern)
    with tempfile.TemporaryDirectory(prefix="docbatch-bench-state-") as tmp:
        t0 = time.perf_counter()
        inventory = scan_parts(root, Path(tmp) / "inventory", patterns)
        parts["scan_s"] = time.perf_counter() - t0

        # planning reads the stored documents a range of the tree at a time: those reads
        # are timed apart from the rest of planning
        store = SQLiteStore(db)
        reads = [0.0]
        read_range = store.known_documents_between

        def timed_read(source: str, after: str | None, upto: str | None) -> pl.DataFrame:
            started = time.perf_counter()
            try:
                return read_range(source, after, upto)
            finally:
                reads[0] += time.perf_counter() - started

        store.known_documents_between = timed_read  # type: ignore[method-assign]
        t0 = time.perf_counter()
        planned, _ = PartPlanner(
            store,
            source,
            Path(tmp) / "plan",
            listed=None,
            force=False,
            scope=(patterns, (), False),
            recursive=True,
            fingerprints={},
        ).plan(inventory)
        parts["store_read_s"] = reads[0]
        parts["plan_s"] = time.perf_counter() - t0 - reads[0]
        counts = planned.statuses()

        t0 = time.perf_counter()
        checkpoint = Checkpoint(Path(tmp) / "state")
        checkpoint.prepare()
        checkpoint.read_run()
        checkpoint.clear_parts()
        manifest = {"root": root, "run_id": "bench", "state": "running"}
        checkpoint.write_run(manifest)
        checkpoint.write_run({**manifest, "state": "complete"})
        parts["checkpoint_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        reports.write_reports(  # the plan's rows are in doc_id order, streamed
            Path(tmp) / "reports",
            performance={"run_id": "bench", "source": source, "files": planned.height},
            outcomes=planned_rows(planned.lazy(), "bench", source),
            timeline=pl.DataFrame(schema=TIMELINE),
        )
        parts["reports_s"] = time.perf_counter() - t0
        store.close()
    return {"parts": parts, "files": inventory.height, "plan": counts}


def import_only(module: str) -> dict[str, Any]:
    """Time importing one module (the interpreter start is measured by the parent)."""
    import importlib

    t0 = time.perf_counter()
    importlib.import_module(module)
    return {"import_s": time.perf_counter() - t0}


def profile(root: str, pattern: str, db: str, executor: str, top: int = 12) -> dict[str, Any]:
    """The unchanged re-run under cProfile: docbatch's functions by cumulative time."""
    import contextlib
    import cProfile
    import io
    import os
    import pstats

    os.environ["BATCH_MAX_BATCH_SIZE"] = str(10**9)
    profiler = cProfile.Profile()
    argv = [
        "ingest-docs-batch",
        root,
        "--pattern",
        pattern,
        "--db",
        db,
        "--executor",
        executor,
        "--json",
        "--quiet",
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        profiler.enable()
        import docbatch.cli

        docbatch.cli.main(argv)
        profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "docbatch" in filename and "/benchmarks/" not in filename:
            where = filename.split("docbatch/", 1)[-1]
            rows.append({"function": f"{where}:{line}({name})", "calls": calls, "cumulative_s": cumulative})
    rows.sort(key=lambda r: -r["cumulative_s"])
    return {"top": rows[:top]}
