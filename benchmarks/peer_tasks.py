# mypy: disable-error-code="import-not-found"
"""The peers' side of the benchmark, run by path with the peers' own interpreter.

``PEERS_PYTHON benchmarks/peer_tasks.py TASK ARGS_JSON``: imports nothing from docbatch
or from the ``benchmarks`` package. Everything runs offline: deterministic fake
embeddings, in-memory vector stores, SQLite / JSON change tracking on disk.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

CHUNK_CHARS = 1500
CHUNK_OVERLAP = 0


def _globs(pattern: str) -> list[str]:
    return [g.strip() for g in pattern.split(",") if g.strip()]


def _suffixes(pattern: str) -> list[str]:
    return sorted({"." + g.rsplit(".", 1)[-1] for g in _globs(pattern)})


class _Clock:
    def __init__(self) -> None:
        self.parts: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.parts[name] = now - self._last
        self._last = now


def _langchain_chunks(root: str, pattern: str, clock: _Clock) -> tuple[list[Any], int]:
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    clock.lap("import_s")
    loader = DirectoryLoader(
        root,
        glob=_globs(pattern),
        recursive=True,
        loader_cls=TextLoader,
        loader_kwargs={"encoding": "utf-8"},
        silent_errors=True,
    )
    docs = loader.load()
    clock.lap("load_s")
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP)
    chunks = splitter.split_documents(docs)
    clock.lap("split_s")
    return chunks, len(docs)


def langchain_split(root: str, pattern: str) -> dict[str, Any]:
    """DirectoryLoader(TextLoader) + RecursiveCharacterTextSplitter."""
    clock = _Clock()
    chunks, files = _langchain_chunks(root, pattern, clock)
    return {"parts": clock.parts, "files": files, "chunks": len(chunks)}


def _record_manager_class() -> Any:
    try:
        from langchain_classic.indexes import SQLRecordManager
    except ImportError:
        try:
            from langchain.indexes import SQLRecordManager
        except ImportError:
            from langchain_community.indexes._sql_record_manager import SQLRecordManager
    return SQLRecordManager


def langchain_index(root: str, pattern: str, db: str, embed_dim: int) -> dict[str, Any]:
    """Load, split and ``index()`` with a SQLite SQLRecordManager, cleanup="incremental"."""
    clock = _Clock()
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.indexing import index
    from langchain_core.vectorstores import InMemoryVectorStore

    record_manager_cls = _record_manager_class()
    chunks, files = _langchain_chunks(root, pattern, clock)
    manager = record_manager_cls("docbatch-bench", db_url=f"sqlite:///{db}")
    manager.create_schema()
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=embed_dim))
    result = index(chunks, manager, store, cleanup="incremental", source_id_key="source")
    clock.lap("index_s")
    return {"parts": clock.parts, "files": files, "chunks": len(chunks), "indexing": dict(result)}


def _llama_reader(root: str, pattern: str) -> Any:
    from llama_index.core import SimpleDirectoryReader

    return SimpleDirectoryReader(root, recursive=True, required_exts=_suffixes(pattern), filename_as_id=True)


def llama_split(root: str, pattern: str) -> dict[str, Any]:
    """SimpleDirectoryReader + SentenceSplitter (default sizes)."""
    clock = _Clock()
    from llama_index.core.node_parser import SentenceSplitter

    clock.lap("import_s")
    docs = _llama_reader(root, pattern).load_data()
    clock.lap("load_s")
    nodes = SentenceSplitter().get_nodes_from_documents(docs)
    clock.lap("split_s")
    return {"parts": clock.parts, "files": len(docs), "chunks": len(nodes)}


def llama_pipeline(root: str, pattern: str, persist_dir: str, embed_dim: int) -> dict[str, Any]:
    """IngestionPipeline(SentenceSplitter, MockEmbedding) with a persisted SimpleDocumentStore,
    docstore strategy UPSERTS; loads the persisted state first when there is one."""
    clock = _Clock()
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.core.vector_stores import SimpleVectorStore

    clock.lap("import_s")
    docs = _llama_reader(root, pattern).load_data()
    clock.lap("load_s")
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(), MockEmbedding(embed_dim=embed_dim)],
        docstore=SimpleDocumentStore(),
        vector_store=SimpleVectorStore(),
        docstore_strategy=DocstoreStrategy.UPSERTS,
    )
    if Path(persist_dir).exists():
        pipeline.load(persist_dir)
    clock.lap("setup_s")
    nodes = pipeline.run(documents=docs)
    clock.lap("run_s")
    pipeline.persist(persist_dir)
    clock.lap("persist_s")
    return {"parts": clock.parts, "files": len(docs), "nodes_written": len(nodes)}


def versions() -> dict[str, Any]:
    """Installed versions of the peers' packages."""
    from importlib import metadata

    names = (
        "langchain",
        "langchain-core",
        "langchain-community",
        "langchain-text-splitters",
        "langchain-classic",
        "llama-index-core",
        "sqlalchemy",
    )
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": found}


TASKS = {f.__name__: f for f in (langchain_split, langchain_index, llama_split, llama_pipeline, versions)}


def main(argv: list[str]) -> int:
    """Run one task; write its result and this process's peak RSS to ``BENCH_RESULT``."""
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    result = TASKS[argv[0]](**json.loads(argv[1]))
    result["task_s"] = time.perf_counter() - started
    result["self_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = os.environ.get("BENCH_RESULT")
    text = json.dumps(result, default=str)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
