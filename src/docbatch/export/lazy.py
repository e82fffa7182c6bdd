"""A polars LazyFrame over a store's passages (``docbatch.store.records.PASSAGE_RECORDS``),
read in bounded batches when it is collected or sunk.

The frame is a polars IO source (``polars.io.plugins.register_io_source``): polars tells it
the columns the query needs (only those are read from the store), the filter of the query
(applied to each batch as it arrives) and how many rows it wants (reading stops there). The
filter of ``PassageFilter`` (source, format, path glob, since) is run by the store itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
from polars.io.plugins import register_io_source

from docbatch.errors import ConfigError
from docbatch.store.base import DocumentStore, PassageReader
from docbatch.store.records import DEFAULT_BATCH_SIZE, PASSAGE_RECORDS, PassageFilter, check_batch_size


def passage_reader(store: DocumentStore) -> PassageReader:
    """``store`` as a ``PassageReader``.

    Raises:
        ConfigError: the store cannot give its passages back out.
    """
    if not isinstance(store, PassageReader):
        raise ConfigError(f"store {store.location} cannot read its passages out (no passage_batches method)")
    return store


def scan_passages(
    store: DocumentStore, where: PassageFilter | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> pl.LazyFrame:
    """The passages of ``store`` that ``where`` keeps, in the order (source, doc_id, seq), as
    a LazyFrame: nothing is read until it is collected (or sunk), and then at most
    ``batch_size`` passages at a time (fewer when polars asks for smaller batches).

    Raises:
        ConfigError: the store cannot give its passages back out.
        ValueError: ``batch_size`` is not a positive integer.
    """
    reader = passage_reader(store)
    batch_size = check_batch_size(batch_size)

    def read(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, hint: int | None
    ) -> Iterator[pl.DataFrame]:
        wanted = list(with_columns) if with_columns is not None else list(PASSAGE_RECORDS)
        needed = set(wanted)
        if predicate is not None:
            needed.update(name for name in predicate.meta.root_names() if name in PASSAGE_RECORDS)
        size = min(batch_size, hint) if hint else batch_size
        left = n_rows
        for batch in reader.passage_batches(where, columns=sorted(needed), batch_size=size):
            if predicate is not None:
                batch = batch.filter(predicate)
            batch = batch.select(wanted)
            if left is not None:
                batch = batch.head(left)
                left -= batch.height
            if batch.height:
                yield batch
            if left is not None and left <= 0:
                return

    return register_io_source(read, schema=PASSAGE_RECORDS)
