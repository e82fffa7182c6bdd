"""``python -m benchmarks.scaleout [--copies N] [--workers 1,2] [--repeats R] [--setting K=V] [--json OUT]``.

Throughput with more workers: a scaled corpus (the shared dev corpus copied N times
into a temporary folder, or copies of the sample tree when it is absent) is ingested
into a fresh SQLite store in this process (serial, the baseline), with the local
process pool and with a Dask LocalCluster (worker processes, one thread each), at
each worker count. Reports files/s, the speed-up over the serial run and over one
worker of the same engine, and the scaling efficiency (that speed-up / workers).
``--setting rst_engine=docutils`` (any ``BatchConfig`` field) changes the workload.

The time is that of ``ingest_batch`` (scan, plan, parse, store, checkpoints,
reports): it includes starting the process pool, which ``ingest_batch`` does itself,
but not starting the Dask cluster, which is already running when a run begins (its
start-up is reported apart). The driver commits every slice to the store itself, so
the store's write rate bounds the scaling.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "dev"
DEV_PATTERN = "*.md,*.rst,*.txt,*.html,*.html.en,*.html.en.utf8"
SAMPLE_COPIES_PER_DEV_COPY = 100


def build_corpus(dest: Path, copies: int) -> tuple[Path, str, str]:
    """``copies`` of the dev corpus (or of the sample tree) under ``dest``: (root, pattern, name)."""
    if DEV.is_dir():
        for i in range(copies):
            shutil.copytree(
                DEV,
                dest / f"copy{i:02d}",
                ignore=shutil.ignore_patterns("LICENSE*", "NOTICE*", "MANIFEST.md"),
            )
        return dest, DEV_PATTERN, f"dev corpus x{copies}"
    from docbatch.sample import SAMPLE_PATTERN, write_sample_tree

    n = copies * SAMPLE_COPIES_PER_DEV_COPY
    for i in range(n):
        write_sample_tree(dest / f"copy{i:03d}")
    return dest, SAMPLE_PATTERN, f"sample tree x{n}"


def ingest_once(
    root: Path, pattern: str, executor: Any, workers: int, scratch: Path, settings: dict[str, Any]
) -> dict[str, Any]:
    """One ingest of ``root`` into a fresh store; its wall time and counts."""
    from docbatch import BatchConfig, BatchIngestService

    folder = Path(tempfile.mkdtemp(dir=scratch))
    config = BatchConfig(**{"max_batch_size": 10_000_000, **settings})
    with BatchIngestService(folder / "docs.db", config=config) as service:
        clock = time.perf_counter()
        result = service.ingest_batch(root, pattern=pattern, executor=executor, workers=workers)
        wall_s = time.perf_counter() - clock
    shutil.rmtree(folder, ignore_errors=True)
    files = result.succeeded + result.failed + result.skipped
    return {"wall_s": wall_s, "files": files, "succeeded": result.succeeded, "failed": result.failed}


def measure(
    root: Path, pattern: str, engine: str, workers: int, repeats: int, scratch: Path, settings: dict[str, Any]
) -> dict[str, Any]:
    """The median of ``repeats`` ingests with one engine at one worker count."""
    startup_s = 0.0
    if engine == "dask":
        from distributed import Client, LocalCluster

        clock = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
        client.wait_for_workers(workers)
        startup_s = time.perf_counter() - clock
        try:
            runs = [ingest_once(root, pattern, client, workers, scratch, settings) for _ in range(repeats)]
        finally:
            client.close()
            cluster.close()
    else:
        runs = [ingest_once(root, pattern, engine, workers, scratch, settings) for _ in range(repeats)]
    wall_s = statistics.median(r["wall_s"] for r in runs)
    files = runs[0]["files"]
    return {
        "engine": engine,
        "workers": workers,
        "files": files,
        "failed": runs[0]["failed"],
        "wall_s": wall_s,
        "files_per_s": files / wall_s,
        "startup_s": startup_s,
        "runs": runs,
    }


def add_scaling(rows: list[dict[str, Any]]) -> None:
    """Speed-up over serial and over the fewest workers of the same engine, and the
    efficiency per worker."""
    serial = next((r for r in rows if r["engine"] == "serial"), None)
    for row in rows:
        base = min((r for r in rows if r["engine"] == row["engine"]), key=lambda r: r["workers"])
        speedup = row["files_per_s"] / base["files_per_s"]
        row["vs_serial"] = row["files_per_s"] / serial["files_per_s"] if serial else None
        row["speedup"] = speedup
        row["efficiency"] = speedup * base["workers"] / row["workers"]


def render(rows: list[dict[str, Any]], corpus: str, settings: dict[str, Any]) -> str:
    """The Markdown table."""
    note = ", ".join(f"{k}={v}" for k, v in settings.items()) or "default settings"
    lines = [
        f"Settings: {note}.",
        f"Corpus: {corpus}, {rows[0]['files']} files; {os.cpu_count()} CPUs; median wall s of ingest_batch.",
        "",
        "| engine | workers | wall s | files/s | vs serial | vs 1 worker | efficiency | cluster start s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        start = {"dask": f"{r['startup_s']:.1f}", "process": "(in wall)"}.get(r["engine"], "")
        vs_serial = f"{r['vs_serial']:.2f}x" if r["vs_serial"] is not None else ""
        workers = r["workers"] if r["engine"] != "serial" else "0 (driver)"
        lines.append(
            f"| {r['engine']} | {workers} | {r['wall_s']:.2f} | {r['files_per_s']:.0f} | {vs_serial} | "
            f"{r['speedup']:.2f}x | {100 * r['efficiency']:.0f}% | {start} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of the dev corpus (default 2)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    parser.add_argument("--engines", default="serial,process,dask", help="which engines (default all three)")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE", help="a BatchConfig field to set"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per cell; the median is kept")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    engines = [e.strip() for e in args.engines.split(",")]
    settings = dict(_setting(text) for text in args.setting)
    with tempfile.TemporaryDirectory(prefix="docbatch-scaleout-") as tmp:
        scratch = Path(tmp)
        root, pattern, corpus = build_corpus(scratch / "corpus", args.copies)
        rows = []
        for engine in engines:
            for workers in counts if engine != "serial" else [1]:
                print(f"{engine} x{workers} ...", file=sys.stderr, flush=True)
                rows.append(measure(root, pattern, engine, workers, args.repeats, scratch, settings))
    add_scaling(rows)
    print(render(rows, corpus, settings))
    if args.json:
        report = {"corpus": corpus, "cpus": os.cpu_count(), "settings": settings, "rows": rows}
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _setting(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
    return name.strip(), int(value) if value.strip().isdigit() else value.strip()


if __name__ == "__main__":
    sys.exit(main())
