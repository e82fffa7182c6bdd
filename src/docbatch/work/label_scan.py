"""The section labels of the reStructuredText files a call will parse, found before parsing.

A ``:ref:`` in one document shows the title of a section in another, which the workers
know from the label table they are given (``ParseOptions.labels``). On a first ingest the
table is empty, and every document referring to a label of a document parsed in the same
call would be parsed again at its end (``docbatch.run.references``). ``scan_files`` reads
the files first and finds their labels cheaply (``docbatch.formats.rst_fast.labels``), so
the workers start with a nearly complete table; the pass at the end parses again only the
documents whose labels the scan got otherwise than their parser.

Files are read as a worker reads them: inside their root, up to the size limit, decoded
with the fallback encoding. A file that cannot be read gives no labels (its worker reports
why). Given an executor, the files are scanned there, a slice at a time (``scan_slice``),
as the call's slices are parsed: the driver only gathers what they find.
"""

from __future__ import annotations

import codecs
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Protocol

import polars as pl

from docbatch.errors import DocbatchError
from docbatch.formats.rst_fast.labels import ref_labels, scan_labels
from docbatch.work.decoding import decode
from docbatch.work.labels import TitleIndex
from docbatch.work.worker import ParseOptions, RootFiles

SCANNED: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "labels": pl.List(pl.Utf8()),
    "titles": pl.List(pl.Utf8()),
    "refs": pl.List(pl.Utf8()),
}
"""The labels a document defines, with their titles, and the labels its untitled ``:ref:``
roles name, as ``scan_files`` finds them (``docbatch.work.labels.LABELS``)."""

log = logging.getLogger("docbatch")

CHUNK_FILES = 1024
SCAN_SLICE_FILES = 2048
"""reStructuredText files a worker scans in one task."""
PLAN_ROWS_READ = 65_536
"""Rows of the plan read at a time to find the files to scan."""
_MARK = b".. _"
_REF = b"ref:`"
_WIDE = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
"""Byte-order marks of encodings in which the mark is not those bytes (UTF-32's start so)."""


class Plan(Protocol):
    """Rows of the plan frame, in memory (a ``DataFrame``) or read on demand."""

    def lazy(self) -> pl.LazyFrame: ...


@dataclass(frozen=True)
class LabelScan:
    """The labels of a call's files, to be found before they are parsed, where they are
    parsed (``docbatch.run.runner.Runner`` does it with its executor, and puts ``index`` of
    what the scan finds in the options as ``ParseOptions.title_index``)."""

    plan: Plan
    """The rows of the plan to scan (those of reStructuredText files are): read when the
    scan is done, not held."""
    index: Callable[[Iterator[pl.DataFrame]], TitleIndex]
    """The title index the workers parse with, given the ``SCANNED`` rows of the files of
    ``plan`` that define or name labels (a file without a row has none) a part at a time,
    in the plan's order (``scanned_parts``)."""

    def found(
        self,
        options: ParseOptions,
        executor: Executor | None = None,
        in_flight: int = 1,
        stopped: Callable[[], bool] | None = None,
    ) -> TitleIndex:
        """``index`` of the rows ``scanned_parts`` finds (on ``executor``, when given; until
        ``stopped``)."""
        return self.index(scanned_parts(self.plan, options, executor, in_flight, stopped))


def scan_files(
    plan: Plan, options: ParseOptions, executor: Executor | None = None, in_flight: int = 1
) -> pl.DataFrame:
    """The rows of ``scanned_parts`` in one frame."""
    parts = list(scanned_parts(plan, options, executor, in_flight))
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCANNED)


def scanned_parts(
    plan: Plan,
    options: ParseOptions,
    executor: Executor | None = None,
    in_flight: int = 1,
    stopped: Callable[[], bool] | None = None,
) -> Iterator[pl.DataFrame]:
    """``SCANNED`` rows of the reStructuredText files of ``plan`` (rows of the plan frame)
    that define or name labels, a slice of the plan's files at a time, in its order: a file
    without a row has none (at a million files, a row of empty lists for each of the others
    took 50 MB of the driver). With an ``executor``, ``SCAN_SLICE_FILES`` files a task,
    ``in_flight`` tasks at a time; a task that fails there (a worker died) is scanned in
    this process. Once ``stopped()`` (Ctrl-C: the call parses nothing more), no slice is
    scanned or waited for: the scan of a million files takes minutes."""
    pieces = _rst_files(plan)
    if stopped is not None:
        pieces = itertools.takewhile(lambda _: not stopped(), pieces)
    options = replace(options, labels=None, title_index=None, label_scan=None)  # all a worker needs
    if executor is None:
        for piece in pieces:
            yield scan_slice(piece, options)
        return
    pending: deque[tuple[pl.DataFrame, Future[pl.DataFrame] | None]] = deque()
    try:
        for piece in pieces:
            pending.append((piece, _submit(executor, piece, options)))
            while len(pending) >= max(1, in_flight):
                yield _scanned(*pending.popleft(), options)
        while pending and not (stopped is not None and stopped()):
            yield _scanned(*pending.popleft(), options)
    finally:  # stopped: the tasks not started are not run
        for _, future in pending:
            if future is not None:
                future.cancel()


def _rst_files(plan: Plan) -> Iterator[pl.DataFrame]:
    """The ``doc_id`` and ``path`` of the reStructuredText files of ``plan``, at most
    ``SCAN_SLICE_FILES`` at a time, read ``PLAN_ROWS_READ`` rows of the plan at a time: the
    paths of a million files are 100 MB (``collect_batches`` held a third of them)."""
    rows = plan.lazy()
    height = rows.select(pl.len()).collect().item()
    for offset in range(0, height, PLAN_ROWS_READ):
        files = rows.slice(offset, PLAN_ROWS_READ).filter(pl.col("format") == "rst").select("doc_id", "path")
        yield from files.collect().iter_slices(SCAN_SLICE_FILES)


def scan_slice(files: pl.DataFrame, options: ParseOptions) -> pl.DataFrame:
    """``SCANNED`` rows of the files of ``files`` (``doc_id``, ``path``) that define or name
    labels: the task a worker runs."""
    files_read = RootFiles(options.max_file_size)
    parts: list[pl.DataFrame] = []
    for chunk in files.iter_slices(CHUNK_FILES):
        found_rows = [_scan_one(files_read, doc_id, path, options) for doc_id, path in chunk.iter_rows()]
        rows = [row for row in found_rows if row is not None]
        # each chunk's rows go to a frame at once: strings kept alive among a whole scan's
        # transient ones would hold on to the interpreter's memory pages
        parts.append(pl.DataFrame(rows, schema=SCANNED, orient="row"))
    return pl.concat(parts) if parts else pl.DataFrame(schema=SCANNED)


def _submit(executor: Executor, piece: pl.DataFrame, options: ParseOptions) -> Future[pl.DataFrame] | None:
    """The future of ``scan_slice`` of ``piece`` on ``executor`` (None: it takes no task)."""
    try:
        return executor.submit(scan_slice, piece, options)
    except Exception as exc:  # a broken pool: the run's supervisor replaces it afterwards
        log.debug("labels of %d files scanned in this process: %r", piece.height, exc)
        return None


def _scanned(piece: pl.DataFrame, future: Future[pl.DataFrame] | None, options: ParseOptions) -> pl.DataFrame:
    """What ``future`` found in ``piece``; scanned here when it failed."""
    if future is not None:
        try:
            return future.result()
        except Exception as exc:  # a worker died: the scan only saves work
            log.debug("labels of %d files scanned in this process: %r", piece.height, exc)
    return scan_slice(piece, options)


def no_labels(doc_ids: pl.DataFrame) -> pl.DataFrame:
    """``SCANNED`` rows with empty lists for the documents of ``doc_ids`` (a ``doc_id``
    column)."""
    empty = doc_ids.select("doc_id").with_columns(
        labels=pl.lit([], dtype=SCANNED["labels"]),
        titles=pl.lit([], dtype=SCANNED["titles"]),
        refs=pl.lit([], dtype=SCANNED["refs"]),
    )
    return empty.cast(SCANNED)  # type: ignore[arg-type]


def _scan_one(
    files_read: RootFiles, doc_id: str, path: str, options: ParseOptions
) -> tuple[str, list[str], list[str], list[str]] | None:
    """The ``SCANNED`` row of one file; None when it defines and names no label."""
    try:
        data = files_read.read(path, doc_id)
        wide = data.startswith(_WIDE)
        if _MARK not in data and _REF not in data and not wide:
            return None
        text = decode(data, options.fallback_encoding)[0]
        found = scan_labels(text) if _MARK in data or wide else {}
        named = ref_labels(text) if _REF in data or wide else []
    except (OSError, DocbatchError):
        return None  # its worker reports the file
    except Exception as exc:  # the scan only saves work: the pass at the end is exact
        log.debug("labels of %s not found before parsing: %r", doc_id, exc)
        return None
    if not found and not named:
        return None
    return doc_id, list(found), list(found.values()), named


__all__ = ["SCANNED", "LabelScan", "no_labels", "scan_files", "scan_slice", "scanned_parts"]
