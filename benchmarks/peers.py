"""LangChain and LlamaIndex on the same corpus, in a virtual environment of their own.

The environment is created on first use under ``~/.cache/docbatch-bench/peers-venv``
(``DOCBATCH_BENCH_CACHE`` moves it) with the packages below, unpinned; later runs reuse
it. Every measurement runs ``benchmarks/peer_tasks.py`` in a fresh process of that
environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.measure import MeasureError, python_task, repeat, run_measured

PACKAGES = ("langchain", "langchain-community", "langchain-text-splitters", "sqlalchemy", "llama-index-core")
EMBED_DIM = 384
TASKS = Path(__file__).resolve().parent / "peer_tasks.py"


def cache_dir() -> Path:
    """Where the peers' environment lives (outside the repository)."""
    override = os.environ.get("DOCBATCH_BENCH_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "docbatch-bench"


def ensure_venv(log: Callable[[str], None] = print) -> tuple[Path | None, str]:
    """The peers' interpreter, creating the environment when missing; or None and why not."""
    venv = cache_dir() / "peers-venv"
    python = venv / "bin" / "python"
    marker = venv / ".docbatch-bench-installed"
    wanted = " ".join(PACKAGES)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python, "reused"
    log(f"  creating the peers' environment in {venv} (pip install {wanted}) ...")
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    log_path = venv.parent / "peers-install.log"
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
        with open(log_path, "w") as out:
            subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", *PACKAGES],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=1800,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        tail = log_path.read_text(errors="replace")[-1500:] if log_path.exists() else ""
        return None, f"cannot install the peers ({exc}); see {log_path}: {tail}"
    marker.write_text(wanted)
    return python, "installed"


class PeersBench:
    """Measurements of both peers on one corpus."""

    def __init__(
        self,
        python: Path,
        corpus: Path,
        pattern: str,
        work: Path,
        repeats: int,
        log: Callable[[str], None] = print,
    ) -> None:
        self.python = str(python)
        self.corpus = str(corpus)
        self.pattern = pattern
        self.work = work
        self.repeats = repeats
        self.log = log

    def _run(self, task: str, **extra: Any) -> dict[str, Any]:
        args = {"root": self.corpus, "pattern": self.pattern, **extra}
        run = run_measured(python_task(task, args, python=self.python, script=TASKS))
        run["files_per_s"] = (run["result"] or {}).get("files", 0) / run["wall_s"]
        return run

    def _fresh(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def langchain(self) -> dict[str, Any]:
        """Load + split; first ``index()`` into a fresh record manager; unchanged re-run."""
        self.log("  langchain: load + split")
        split = repeat(lambda _: self._run("langchain_split"), self.repeats)
        dbs: list[Path] = []

        def first(i: int) -> dict[str, Any]:
            dbs.append(self._fresh(f"langchain-{i}") / "records.db")
            return self._run("langchain_index", db=str(dbs[-1]), embed_dim=EMBED_DIM)

        self.log("  langchain: first index()")
        first_runs = repeat(first, self.repeats)
        self.log("  langchain: unchanged re-run")
        rerun = repeat(
            lambda _: self._run("langchain_index", db=str(dbs[-1]), embed_dim=EMBED_DIM),
            self.repeats,
        )
        return {
            "load_split": split,
            "first_ingest": first_runs,
            "unchanged_rerun": rerun,
            "setup": "DirectoryLoader(TextLoader) + RecursiveCharacterTextSplitter(1500, 0); "
            f"index(cleanup='incremental') with SQLRecordManager (sqlite) and InMemoryVectorStore "
            f"over DeterministicFakeEmbedding(size={EMBED_DIM}); the vector store is not persisted",
        }

    def llamaindex(self) -> dict[str, Any]:
        """Load + split; first pipeline run into a fresh docstore (persisted); unchanged re-run."""
        self.log("  llamaindex: load + split")
        split = repeat(lambda _: self._run("llama_split"), self.repeats)
        dirs: list[Path] = []

        def first(i: int) -> dict[str, Any]:
            dirs.append(self._fresh(f"llama-{i}") / "pipeline")
            return self._run("llama_pipeline", persist_dir=str(dirs[-1]), embed_dim=EMBED_DIM)

        self.log("  llamaindex: first pipeline run")
        first_runs = repeat(first, self.repeats)
        self.log("  llamaindex: unchanged re-run")
        rerun = repeat(
            lambda _: self._run("llama_pipeline", persist_dir=str(dirs[-1]), embed_dim=EMBED_DIM),
            self.repeats,
        )
        return {
            "load_split": split,
            "first_ingest": first_runs,
            "unchanged_rerun": rerun,
            "setup": "SimpleDirectoryReader(filename_as_id) + SentenceSplitter(); IngestionPipeline("
            f"SentenceSplitter, MockEmbedding({EMBED_DIM})) with SimpleDocumentStore (persisted), "
            "SimpleVectorStore (not persisted), DocstoreStrategy.UPSERTS",
        }


def measure_peers(
    corpus: Path, pattern: str, work: Path, repeats: int, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Both peers, or an ``error`` entry saying why they could not be measured."""
    python, how = ensure_venv(log)
    if python is None:
        log(f"  peers not measured: {how}")
        return {"available": False, "error": how}
    out: dict[str, Any] = {"available": True, "venv": str(python.parent.parent), "venv_status": how}
    try:
        out.update(run_measured([str(python), str(TASKS), "versions", "{}"])["result"] or {})
    except MeasureError as exc:
        return {"available": False, "error": str(exc)}
    bench = PeersBench(python, corpus, pattern, work, repeats, log)
    for name, func in (("langchain", bench.langchain), ("llamaindex", bench.llamaindex)):
        try:
            out[name] = func()
        except MeasureError as exc:
            log(f"  {name} failed: {exc}")
            out[name] = {"error": str(exc)}
    return out
