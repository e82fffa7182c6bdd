"""``python -m benchmarks.million --files N [N ...] [--keep DIR] [--json OUT]``: docbatch at scale.

For each N: a generated tree of N files (``benchmarks.generate``, seed 7; with ``--keep
DIR`` the tree is kept as ``DIR/tree-N`` and used again by the next run), then in fresh
processes: a full ingest through the command line into a fresh SQLite store (docbatch's
default batch size unless ``--batch-size``), an unchanged re-run of the same command,
and the stat-walk bound (``os.scandir`` + ``stat`` of every file). With ``--in-calls``
the tree is ingested once more by one process calling ``ingest_batch(limit=1000)``
until nothing is pending.

One table row per N: files/s, the driver's peak RSS (``ru_maxrss`` as docbatch reports
it in ``--json``, reports included), the peak of the sum over driver and workers
(sampled), the re-run against the stat walk, the WAL file's peak size (sampled) and
the store's size per MB of text. A second table compares the first and the last tenth of
the full ingest's commits (files/s and the driver's RSS, from the run's timeline: work
that grows with the run shows there), and times ``docbatch verify`` (against the stat
walk plus one pass over the store's document table) and ``docbatch report``, each in a
fresh process. With two or more N, the driver's peak RSS per file (the slope between the
smallest and the largest N) follows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.__main__ import compile_bytecode
from benchmarks.corpus import DEV_PATTERN
from benchmarks.docbatch_runs import IN_CALLS, ingest
from benchmarks.generate import generate
from benchmarks.measure import MB, python_task, run_measured

from docbatch.config import BatchConfig

SEED = 7
DEFAULT_BATCH = str(BatchConfig.max_batch_size)  # docbatch's own default
WAL_SAMPLE_S = 0.2


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def tree_for(files: int, work: Path) -> tuple[Path, dict[str, int]]:
    """The tree of ``files`` generated files under ``work`` (made unless already complete)."""
    tree, marker = work / f"tree-{files}", work / f"tree-{files}.json"
    if marker.exists():
        stats = json.loads(marker.read_text())
        if stats.get("files") == files and stats.get("seed") == SEED and tree.is_dir():
            _log(f"using the generated tree {tree}")
            return tree, stats
    shutil.rmtree(tree, ignore_errors=True)
    _log(f"generating {files} files in {tree}")
    started = time.perf_counter()
    stats = generate(tree, files, SEED) | {"seed": SEED}
    _log(f"  generated {stats['bytes'] / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s")
    marker.write_text(json.dumps(stats))
    return tree, stats


class _SizeSampler(threading.Thread):
    """The largest size a file reaches (0 while it is missing), polled until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.peak = path, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak = max(self.peak, self.path.stat().st_size)
            except OSError:
                pass
            self._stop_event.wait(WAL_SAMPLE_S)

    def __enter__(self) -> _SizeSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


def _store_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


def measure(files: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement of one N."""
    tree, stats = tree_for(files, work)
    store_dir = work / f"store-{files}"
    shutil.rmtree(store_dir, ignore_errors=True)
    store_dir.mkdir(parents=True)
    db = store_dir / "store.db"
    _log(f"full ingest of {files} files")
    with _SizeSampler(db.parent / (db.name + "-wal")) as wal:
        full = ingest(tree, db, args.pattern, args.workers, batch=args.batch_size)
    store_size = _store_bytes(db)
    batches = first_and_last(db.with_suffix(".state") / "timeline.parquet")
    _log(f"  {full['wall_s']:.1f} s; unchanged re-run")
    rerun = ingest(tree, db, args.pattern, args.workers, batch=args.batch_size)
    _log(f"  {rerun['wall_s']:.1f} s; stat walk and interpreter start")
    walk = run_measured(python_task("bounds:stat_walk", {"root": str(tree), "pattern": args.pattern}))
    bare = run_measured([sys.executable, "-c", "pass"])
    _log("  verify, one pass over the document table, report")
    verify = run_measured([sys.executable, "-m", "docbatch", "verify", "--db", str(db), "--json"])
    table_pass = run_measured([sys.executable, "-c", TABLE_PASS, str(db)])
    report = run_measured([sys.executable, "-m", "docbatch", "report", "--db", str(db)])
    record: dict[str, Any] = {
        "files": files,
        "bytes": stats["bytes"],
        "full": _slim(full),
        "unchanged": _slim(rerun),
        "stat_walk_s": walk["result"]["op_s"],
        "stat_walk_wall_s": walk["wall_s"],
        "interpreter_s": bare["wall_s"],
        "wal_peak_mb": wal.peak / MB,
        "store_mb": store_size / MB,
        "store_mb_per_text_mb": store_size / stats["bytes"],
        "batches": batches,
        "verify": _slim(verify),
        "table_pass_s": table_pass["wall_s"],
        "report": _slim(report),
    }
    if args.in_calls:
        _log(f"  in calls of {IN_CALLS} files")
        calls_dir = work / f"store-{files}-calls"
        shutil.rmtree(calls_dir, ignore_errors=True)
        calls_dir.mkdir(parents=True)
        record["in_calls"] = _slim(
            ingest(tree, calls_dir / "store.db", args.pattern, args.workers, calls_of=IN_CALLS)
        )
        shutil.rmtree(calls_dir, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(store_dir, ignore_errors=True)
    return record


TABLE_PASS = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for _ in con.execute("SELECT doc_id, size, mtime_ns, content_hash FROM documents"):
    pass
"""
"""One pass over the store's document table, as verify's bound counts it."""


def first_and_last(timeline: Path) -> dict[str, float]:
    """Files/s and the driver's RSS over the first and the last tenth of a run's commits."""
    import polars as pl

    commits = pl.read_parquet(timeline).sort("elapsed_s")
    tenth = max(1, commits.height // 10)

    def rate(rows: pl.DataFrame, before: float) -> float:
        seconds = float(rows["elapsed_s"].max()) - before  # type: ignore[arg-type]
        return float(rows["commit_files"].sum()) / seconds if seconds > 0 else 0.0

    first, last = commits.head(tenth), commits.tail(tenth)
    before_last = float(commits["elapsed_s"][commits.height - tenth - 1]) if commits.height > tenth else 0.0
    return {
        "first_files_per_s": rate(first, 0.0),
        "last_files_per_s": rate(last, before_last),
        "first_rss_mb": float(first["rss_mb"].max()),  # type: ignore[arg-type]
        "last_rss_mb": float(last["rss_mb"].max()),  # type: ignore[arg-type]
    }


def _slim(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "stdout"}


def render(records: list[dict[str, Any]]) -> str:
    """The Markdown table of the records, and the per-file slope of the driver's RSS."""
    head = (
        "| files | files/s | driver peak RSS MB | tree peak RSS MB | re-run s | stat walk s "
        "| re-run / (walk + interpreter) | WAL peak MB | store MB / text MB |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in records:
        full, rerun = r["full"], r["unchanged"]
        bound = r["stat_walk_s"] + r["interpreter_s"]
        lines.append(
            f"| {r['files']:,} | {full['files_per_s']:.0f} | {full['result']['peak_memory_mb']:.0f} "
            f"| {full['tree_peak_mb']:.0f} | {rerun['wall_s']:.2f} | {r['stat_walk_s']:.2f} "
            f"| {rerun['wall_s'] / bound:.1f} | {r['wal_peak_mb']:.0f} | {r['store_mb_per_text_mb']:.2f} |"
        )
    lines.append(
        "\n| files | first tenth files/s | last tenth files/s | first tenth RSS MB | last tenth RSS MB "
        "| verify s | verify / (walk + table pass) | verify RSS MB | report s | report RSS MB |"
    )
    lines.append("|" + "---|" * 10)
    for r in records:
        b, verify, report = r["batches"], r["verify"], r["report"]
        bound = r["stat_walk_s"] + r["table_pass_s"]
        lines.append(
            f"| {r['files']:,} | {b['first_files_per_s']:.0f} | {b['last_files_per_s']:.0f} "
            f"| {b['first_rss_mb']:.0f} | {b['last_rss_mb']:.0f} | {verify['wall_s']:.2f} "
            f"| {verify['wall_s'] / bound:.1f} | {verify['maxrss_mb']:.0f} | {report['wall_s']:.2f} "
            f"| {report['maxrss_mb']:.0f} |"
        )
    for r in records:
        if "in_calls" in r:
            calls = r["in_calls"]
            lines.append(
                f"\n{r['files']:,} files in calls of {IN_CALLS}: {calls['wall_s']:.1f} s "
                f"({calls['wall_s'] / r['full']['wall_s']:.2f}x one call), "
                f"driver peak {calls['maxrss_mb']:.0f} MB"
            )
    if len(records) >= 2:
        lo, hi = min(records, key=lambda r: r["files"]), max(records, key=lambda r: r["files"])
        rss = hi["full"]["result"]["peak_memory_mb"] - lo["full"]["result"]["peak_memory_mb"]
        rerun_rss = hi["unchanged"]["result"]["peak_memory_mb"] - lo["unchanged"]["result"]["peak_memory_mb"]
        n = hi["files"] - lo["files"]
        lines.append(
            f"\ndriver peak RSS per file ({lo['files']:,} -> {hi['files']:,}): full ingest "
            f"{rss * 1024 / n:.2f} KB, unchanged re-run {rerun_rss * 1024 / n:.2f} KB"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.million", description=__doc__)
    p.add_argument("--files", type=int, nargs="+", required=True, help="tree sizes, one row each")
    p.add_argument("--keep", type=Path, help="keep trees and stores here (a kept tree is used again)")
    p.add_argument("--json", type=Path, help="write all results as JSON here")
    p.add_argument("--pattern", default=DEV_PATTERN)
    p.add_argument("--workers", type=int)
    p.add_argument("--batch-size", default=DEFAULT_BATCH, help="BATCH_MAX_BATCH_SIZE of the runs")
    p.add_argument("--in-calls", action="store_true", help=f"also ingest in calls of {IN_CALLS} files")
    args = p.parse_args(argv)
    if min(args.files) < 1:
        p.error("--files must be at least 1")
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="docbatch-million-"))
    work.mkdir(parents=True, exist_ok=True)
    _log(compile_bytecode())
    records: list[dict[str, Any]] = []
    try:
        for files in sorted(args.files):
            records.append(measure(files, work, args))
            if args.json:
                args.json.write_text(json.dumps({"records": records}, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(render(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
