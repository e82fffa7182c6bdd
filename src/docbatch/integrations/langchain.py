"""A LangChain document loader of docbatch passages (extra ``docbatch[langchain]``).

>>> from docbatch.integrations.langchain import DocbatchLoader  # doctest: +SKIP
>>> docs = DocbatchLoader("docs.db", source="guides").load()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from docbatch.integrations.records import PassageQuery, Target, passage_records
from docbatch.store.records import DEFAULT_BATCH_SIZE


class DocbatchLoader(BaseLoader):
    """One LangChain ``Document`` per stored passage: ``page_content`` its text, ``id`` its
    ``passage_id``, ``metadata`` the other columns of ``PASSAGE_RECORDS`` (source, doc_id,
    title, heading_path, anchor, lines, git provenance, ...).

    Args:
        target: a ``BatchIngestService``, a store, or a store's path or URL.
        source, format, path, since, batch_size: as ``BatchIngestService.passages`` takes
            them (``since`` a run id only with a service).
    """

    def __init__(
        self,
        target: Target,
        *,
        source: str | None = None,
        format: str | None = None,
        path: str | None = None,
        since: datetime | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.target = target
        self.query = PassageQuery(source, format, path, since, batch_size)

    def lazy_load(self) -> Iterator[Document]:
        """The passages one at a time, read from the store in batches."""
        for passage_id, text, metadata in passage_records(self.target, self.query):
            yield Document(page_content=text, id=passage_id, metadata=metadata)
