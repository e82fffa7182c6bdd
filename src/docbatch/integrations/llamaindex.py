"""A LlamaIndex reader of docbatch passages (extra ``docbatch[llamaindex]``).

>>> from docbatch.integrations.llamaindex import DocbatchReader  # doctest: +SKIP
>>> nodes = DocbatchReader("docs.db", nodes=True).load_data()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document, TextNode

from docbatch.integrations.records import PassageQuery, Target, passage_records
from docbatch.store.records import DEFAULT_BATCH_SIZE


class DocbatchReader(BaseReader):
    """One LlamaIndex ``Document`` per stored passage (a ``TextNode`` with ``nodes=True``:
    passages are already cut, so they can go to an index without a node parser): ``text``
    the passage's text, ``id_`` its ``passage_id``, ``metadata`` the other columns of
    ``PASSAGE_RECORDS``.

    Args:
        target: a ``BatchIngestService``, a store, or a store's path or URL.
        nodes: give ``TextNode`` objects instead of ``Document`` objects.
        source, format, path, since, batch_size: as ``BatchIngestService.passages`` takes
            them (``since`` a run id only with a service).
    """

    def __init__(
        self,
        target: Target,
        *,
        nodes: bool = False,
        source: str | None = None,
        format: str | None = None,
        path: str | None = None,
        since: datetime | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.target = target
        self.nodes = nodes
        self.query = PassageQuery(source, format, path, since, batch_size)

    def lazy_load_data(self, *args: Any, **load_kwargs: Any) -> Iterable[Document]:
        """The passages one at a time, read from the store in batches."""
        kind = TextNode if self.nodes else Document
        for passage_id, text, metadata in passage_records(self.target, self.query):
            yield kind(text=text, id_=passage_id, metadata=metadata)  # type: ignore[misc]
