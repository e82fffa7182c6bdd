"""``python -m benchmarks [CORPUS] [--json OUT] [--quick] [--scale N] [--peers] [--workers N]``.

Runs the whole benchmark suite on one corpus (default: the shared dev corpus when it is
there, else a generated one): the machine's bounds, docbatch's full ingest, unchanged
re-run (broken down), 5%-touched incremental, the RST quality gate, the scaled corpus
and, with ``--peers``, LangChain and LlamaIndex. Every figure is a median over fresh
processes; the tables print ratios against the baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import quality
from benchmarks.bounds import measure_bounds
from benchmarks.corpus import DEV_PATTERN, corpus_size, default_corpus, list_files
from benchmarks.docbatch_runs import DocbatchBench, scratch_dir
from benchmarks.generate import generate
from benchmarks.measure import REPO, MeasureError, python_task, run_measured
from benchmarks.table import compute_ratios, render

GENERATED_FILES = 3000
GENERATED_SEED = 7


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("corpus", nargs="?", type=Path, help="documentation tree (default: shared dev corpus)")
    p.add_argument("--pattern", default=DEV_PATTERN, help=f"globs of files to ingest (default {DEV_PATTERN})")
    p.add_argument("--json", type=Path, help="write all results as JSON here")
    p.add_argument("--quick", action="store_true", help="one repeat instead of three")
    p.add_argument("--repeats", type=int, help="repeats per measurement (default 3, 1 with --quick)")
    p.add_argument("--scale", type=int, default=10, help="copies of the corpus for the scale run (0: skip)")
    p.add_argument("--peers", action="store_true", help="measure LangChain and LlamaIndex too")
    p.add_argument("--workers", type=int, help="docbatch workers (default: docbatch's default)")
    p.add_argument(
        "--executor", default="process", help="docbatch --executor for every run (default process)"
    )
    p.add_argument(
        "--generate",
        type=int,
        default=GENERATED_FILES,
        help="files of the generated corpus when there is no dev corpus",
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return p


def _versions() -> dict[str, str]:
    found = {}
    for name in ("docbatch", "polars", "pyromark", "selectolax", "docutils", "psutil"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return proc.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty_files": len(git("status", "--porcelain").splitlines())}


def _meta(corpus: Path, args: argparse.Namespace, repeats: int, workers: int) -> dict[str, Any]:
    files, size = corpus_size(corpus, args.pattern)
    return {
        "corpus": str(corpus),
        "pattern": args.pattern,
        "files": files,
        "bytes": size,
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "parse_workers": workers,
        "executor": args.executor,
        "page_cache": "warmed (every file read once before measuring)",
        "repeats": repeats,
        "quick": args.quick,
        "scale": args.scale,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
        "git": _git(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
    }


class Suite:
    """One run of the suite: results so far, saved after every section."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.repeats = args.repeats or (1 if args.quick else 3)
        self.work = scratch_dir()
        self.results: dict[str, Any] = {}
        self.timings: dict[str, str] = {}

    def corpus(self) -> Path:
        if self.args.corpus is not None:
            return Path(self.args.corpus).resolve()
        dev = default_corpus()
        if dev is not None:
            return dev
        dest = self.work / "generated"
        _log(f"no dev corpus: generating {self.args.generate} files in {dest}")
        generate(dest, self.args.generate, GENERATED_SEED)
        return dest

    def save(self) -> None:
        self.results["section_times"] = self.timings
        if self.args.json is not None:
            self.args.json.parent.mkdir(parents=True, exist_ok=True)
            self.args.json.write_text(json.dumps(self.results, indent=1, default=str))

    def section(self, name: str, func: Any) -> Any:
        _log(f"{name} ...")
        started = time.perf_counter()
        try:
            value = func()
        except (MeasureError, OSError, ValueError, KeyError) as exc:
            _log(f"{name} failed: {type(exc).__name__}: {exc}")
            value = {"error": f"{type(exc).__name__}: {exc}"}
        self.timings[name] = (
            f"{datetime.now(UTC).isoformat(timespec='seconds')} ({time.perf_counter() - started:.0f} s)"
        )
        return value

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        finally:
            if not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)

    def _run(self) -> dict[str, Any]:
        args = self.args
        corpus = self.corpus()
        workers = args.workers or os.cpu_count() or 1
        self.results["meta"] = _meta(corpus, args, self.repeats, workers)
        warm_page_cache(corpus, args.pattern)
        self.results["meta"]["bytecode"] = compile_bytecode()
        _log(f"corpus {corpus}: {self.results['meta']['files']} files; scratch {self.work}")
        r = self.results
        r["bounds"] = self.section(
            "bounds", lambda: measure_bounds(str(corpus), args.pattern, self.repeats, workers)
        )
        self.save()
        bench = DocbatchBench(
            corpus, args.pattern, self.work, self.repeats, args.workers, _log, args.executor
        )
        db: dict[str, Any] = {}
        r["docbatch"] = db
        db["full"] = self.section("docbatch full ingest", bench.full)
        if bench.last_store is not None:
            db["unchanged"] = self.section("docbatch unchanged re-run", bench.unchanged)
            db["breakdown"] = self.section("docbatch re-run breakdown", bench.breakdown)
        self.save()
        db["incremental"] = self.section("docbatch 5% incremental", bench.incremental)
        self.save()
        r["rst_quality"] = self.section("RST quality gate", lambda: self.gate(corpus))
        self.save()
        if args.peers:
            from benchmarks.peers import measure_peers

            r["peers"] = self.section(
                "peers", lambda: measure_peers(corpus, args.pattern, self.work / "peers", self.repeats, _log)
            )
            self.save()
        if args.scale > 1:
            db["scaled"] = self.section(f"docbatch {args.scale}x corpus", lambda: bench.scaled(args.scale))
        r["meta"]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        r["meta"]["load_average_end"] = os.getloadavg()
        r["ratios"] = compute_ratios(r)
        r["table"] = render(r)
        self.save()
        return r

    def gate(self, corpus: Path) -> dict[str, Any]:
        if not quality.available():
            return {"available": False, "error": "not available (benchmarks.rst_quality cannot be imported)"}
        run = run_measured(python_task("quality:gate", {"corpus": str(corpus), "pattern": self.args.pattern}))
        out = dict(run["result"] or {})
        out["wall_s"] = run["wall_s"]
        out["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return out


def compile_bytecode() -> str:
    """Compile docbatch's modules to bytecode, as ``pip install`` does for a package.

    An editable install only gets its ``__pycache__`` when Python may write one; with
    ``PYTHONDONTWRITEBYTECODE`` set (as on some machines and images) every module would be
    compiled again in the driver and in every worker of every measured run: 0.3 CPU-s of a
    full ingest of the dev corpus, which no installed package pays (the peers' do not).
    """
    import compileall

    import docbatch

    folder = Path(docbatch.__file__).parent
    ok = compileall.compile_dir(folder, quiet=1)
    return f"{folder}: {'compiled' if ok else 'could not compile every module'}"


def warm_page_cache(root: Path, pattern: str) -> None:
    """Read every file once, so every measurement sees the same (hot) page cache."""
    for _, path in list_files(root, pattern):
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the tables, write the JSON."""
    args = _parser().parse_args(argv)
    if args.corpus is not None and not args.corpus.is_dir():
        print(f"python -m benchmarks: not a directory: {args.corpus}", file=sys.stderr)
        return 2
    results = Suite(args).run()
    print(results["table"])
    if args.json is not None:
        _log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
