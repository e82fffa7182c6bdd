"""The LangChain loader and the LlamaIndex reader of docbatch passages, against the real
libraries (the ``test`` extra installs both), and ``import docbatch`` importing neither."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docbatch import BatchIngestService
from docbatch.errors import ConfigError
from docbatch.sample import SAMPLE_PATTERN
from docbatch.store import SQLiteStore

if TYPE_CHECKING:
    from .conftest import MakeService


@pytest.fixture
def service(sample_tree: Path, make_service: MakeService) -> BatchIngestService:
    service = make_service()
    assert service.ingest_batch(sample_tree, pattern=SAMPLE_PATTERN).succeeded > 20
    return service


def test_importing_docbatch_imports_neither_library() -> None:
    code = (
        "import sys, docbatch, docbatch.integrations, docbatch.export; "
        "print(any(m.split('.')[0] in ('langchain_core', 'llama_index') for m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_langchain_loader(service: BatchIngestService) -> None:
    from langchain_core.document_loaders import BaseLoader
    from langchain_core.documents import Document

    from docbatch.integrations.langchain import DocbatchLoader

    loader = DocbatchLoader(service, format="markdown", batch_size=7)
    assert isinstance(loader, BaseLoader)
    docs = list(loader.lazy_load())
    expected = service.passages(format="markdown").collect()
    assert len(docs) == expected.height > 7
    first, row = docs[0], expected.row(0, named=True)
    assert isinstance(first, Document)
    assert first.id == row["passage_id"] and first.page_content == row["text"]
    assert first.metadata["doc_id"] == row["doc_id"] and first.metadata["format"] == "markdown"
    assert first.metadata["heading_path"] == row["heading_path"] and "text" not in first.metadata
    assert first.metadata["ingested_at"] == row["ingested_at"].isoformat()
    assert all(value is not None for doc in docs for value in doc.metadata.values())
    assert [d.id for d in loader.load()] == [d.id for d in docs]


def test_langchain_loader_from_a_path_and_a_since(service: BatchIngestService, tmp_path: Path) -> None:
    from docbatch.integrations.langchain import DocbatchLoader

    store = service.backend
    assert isinstance(store, SQLiteStore)
    docs = DocbatchLoader(str(store.path), path="guides/*").load()
    assert docs and all(d.metadata["doc_id"].startswith("guides/") for d in docs)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert DocbatchLoader(store, since=later).load() == []
    with pytest.raises(ConfigError, match="needs a BatchIngestService"):
        DocbatchLoader(store, since="20200101T000000-abcdef").load()
    time.sleep(1.1)  # the stores keep times to the second
    run_id = service.ingest_batch(tmp_path / "sample_docs", pattern=SAMPLE_PATTERN).run_id
    assert DocbatchLoader(service, since=run_id).load() == []  # that run wrote nothing new


def test_llamaindex_reader(service: BatchIngestService) -> None:
    from llama_index.core.readers.base import BaseReader
    from llama_index.core.schema import Document

    from docbatch.integrations.llamaindex import DocbatchReader

    reader = DocbatchReader(service, source=None, batch_size=10)
    assert isinstance(reader, BaseReader)
    docs = reader.load_data()
    expected = service.passages().collect()
    assert len(docs) == expected.height
    row = expected.row(0, named=True)
    assert isinstance(docs[0], Document)
    assert docs[0].id_ == row["passage_id"] and docs[0].text == row["text"]
    assert docs[0].metadata["source"] == row["source"] and docs[0].metadata["seq"] == row["seq"]
    nodes = list(DocbatchReader(service, nodes=True, format="rst").lazy_load_data())
    assert nodes and {type(n).__name__ for n in nodes} == {"TextNode"}
    assert {n.metadata["format"] for n in nodes} == {"rst"}
    assert nodes[0].id_ == service.passages(format="rst").head(1).collect()["passage_id"][0]
