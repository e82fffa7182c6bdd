"""The pure per-slice work: read, decode, hash, parse and chunk each file.

``process_slice`` takes a slice of the plan frame and returns frames; it keeps
no state, touches no store, and is picklable, so the same function runs in the
driver, in a local process pool or on a distributed executor.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from docbatch.errors import NotRegularFile, ValidationError
from docbatch.formats import get_parser
from docbatch.formats.base import LabelParser, Parser
from docbatch.formats.html import HtmlOptions
from docbatch.formats.html import parse as parse_html
from docbatch.formats.includes import Includes
from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.work.chunking import PassageRules, chunk
from docbatch.work.decoding import BINARY_SNIFF_BYTES, check_not_binary, decode
from docbatch.work.filekinds import not_regular_reason
from docbatch.work.isolation import Heartbeat, time_limit
from docbatch.work.labels import LABELS, TitleIndex, includes_fingerprint, refs_fingerprint, source_root
from docbatch.work.outcomes import WORKER_OUTCOMES, failed_rows, failure, worker_rows

if TYPE_CHECKING:
    from docbatch.work.label_scan import LabelScan

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
"""Non-blocking: opening a FIFO (or a device) must not wait for a writer; the file is
checked to be a regular one before anything is read from it."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class ParseOptions:
    """What a worker needs to know besides the files themselves."""

    max_file_size: int = 50 * 1024 * 1024
    passages: PassageRules = PassageRules()
    """How documents are cut into passages."""
    fallback_encoding: str | None = None
    parsers: Mapping[str, Parser] = field(default_factory=dict)
    """Parsers by format name, overriding the built-in ones (must be picklable for pools)."""
    rst_engine: str = "fast"
    html: HtmlOptions | None = None
    """The built-in HTML parser's selectors and the source's site template."""
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    """The fingerprint recorded with each new document, by format."""
    file_timeout_s: float = 0.0
    """Give up on a file whose parsing takes longer (0: no limit)."""
    heartbeat_dir: str | None = None
    """Where a worker process records the file it is on (read by the driver's watchdog)."""
    labels: Mapping[str, str] | None = None
    """Section titles by label for the built-in reStructuredText parsers, which then report
    each document's labels (``SliceResult.labels``): the titles the slice's documents refer
    to (``for_slice``), or all of them; None: no label table is kept."""
    title_index: TitleIndex | None = None
    """The titles of the source's labels and the labels each document refers to, when known
    before parsing: each slice is then given only the titles its documents refer to, as
    ``labels`` (``for_slice``)."""
    label_scan: LabelScan | None = None
    """The scan of the call's files that gives ``title_index`` before any is parsed: the run
    does it on its executor (``docbatch.run.runner``), then sets ``title_index``."""

    def for_slice(self, piece: pl.DataFrame) -> ParseOptions:
        """These options as parsing ``piece`` needs them: of the label table, the titles its
        documents refer to (the whole table, copied to a worker with every slice, would cost
        in proportion to the tree for each slice)."""
        if self.title_index is None:
            return self if self.label_scan is None else replace(self, label_scan=None)
        titles = self.title_index.titles_for(piece["doc_id"])
        return replace(self, labels=titles, title_index=None, label_scan=None)


@dataclass
class SliceResult:
    """What one slice produced: outcome rows, and the documents and passages to store."""

    outcomes: pl.DataFrame
    documents: pl.DataFrame
    passages: pl.DataFrame
    touched: pl.DataFrame
    """Documents whose content is unchanged but whose size/mtime must be recorded."""
    labels: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LABELS))
    """The section labels of the reStructuredText documents parsed (``work.labels``)."""

    def without(self, doc_ids: set[str]) -> SliceResult:
        """This result minus the given documents (used when a retry replaces them)."""
        keep = ~pl.col("doc_id").is_in(list(doc_ids))
        return SliceResult(*(frame.filter(keep) for frame in self.frames()))

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return self.outcomes, self.documents, self.passages, self.touched, self.labels

    @staticmethod
    def empty() -> SliceResult:
        """A result with no rows."""
        return SliceResult(
            pl.DataFrame(schema=WORKER_OUTCOMES),
            pl.DataFrame(schema=DOCUMENTS),
            pl.DataFrame(schema=PASSAGES),
            pl.DataFrame(schema=TOUCHED),
            pl.DataFrame(schema=LABELS),
        )

    @staticmethod
    def failed(
        files: pl.DataFrame, category: str | pl.Expr, error_type: str | pl.Expr, message: str | pl.Expr
    ) -> SliceResult:
        """A result holding only the ``failed_rows`` of ``files`` (nothing to store)."""
        empty = SliceResult.empty()
        return SliceResult(failed_rows(files, category, error_type, message), *empty.frames()[1:])

    @staticmethod
    def concat(results: list[SliceResult]) -> SliceResult:
        """One result holding the rows of all ``results``."""
        return SliceResult(*(pl.concat(parts) for parts in zip(*(r.frames() for r in results), strict=True)))


def process_slice(plan: pl.DataFrame, options: ParseOptions) -> SliceResult:
    """Process every row of a plan slice; one bad file never stops the others.

    ``plan`` has the ``docbatch.frames.PLAN`` columns. A row whose content hash
    equals its ``known_hash`` is reported as skipped ("content unchanged") and
    its new mtime is returned in ``documents`` with no passages, so the store
    can record it without rewriting anything.
    """
    work = _SliceWork(options.for_slice(plan))
    heartbeat = Heartbeat(options.heartbeat_dir) if options.heartbeat_dir is not None else None
    try:
        for row in plan.iter_rows(named=True):
            if heartbeat is not None:
                heartbeat.beat(row["doc_id"])
            work.process(row)
    finally:
        if heartbeat is not None:
            heartbeat.close()
    return work.result()


class _SliceWork:
    """The columns of one slice's frames, filled file by file."""

    def __init__(self, options: ParseOptions) -> None:
        self.options = options
        self.out: dict[str, list[Any]] = {name: [] for name in WORKER_OUTCOMES}
        self.docs: dict[str, list[Any]] = {name: [] for name in DOCUMENTS}
        self.passages: dict[str, list[Any]] = {name: [] for name in PASSAGES}
        self.touched: dict[str, list[Any]] = {name: [] for name in TOUCHED}
        self.labels: dict[str, list[Any]] = {name: [] for name in LABELS}
        self.files = RootFiles(options.max_file_size)

    def result(self) -> SliceResult:
        return SliceResult(
            worker_rows(self.out),
            pl.DataFrame(self.docs, schema=DOCUMENTS),
            pl.DataFrame(self.passages, schema=PASSAGES),
            pl.DataFrame(self.touched, schema=TOUCHED),
            pl.DataFrame(self.labels, schema=LABELS),
        )

    def process(self, row: dict[str, Any]) -> None:
        started = datetime.now(UTC)
        clock = time.perf_counter()
        result: dict[str, Any] = {
            "doc_id": row["doc_id"],
            "path": row["path"],
            "format": row["format"],
            "size": row["size"],
            "mtime_ns": row["mtime_ns"],
            "attempts": 1,
            "started_at": started,
            "retryable": False,
        }
        try:
            data = self.files.read(row["path"], row["doc_id"])
            content_hash = hashlib.sha256(data).hexdigest()
            result["size"] = len(data)
            result["content_hash"] = content_hash
            if content_hash == row.get("known_hash"):
                result.update(status="skipped", reason="content unchanged (only mtime changed)")
                _append(self.touched, (row["doc_id"], len(data), row["mtime_ns"]))
            else:
                result.update(self._parse(row, data, content_hash))
        except MemoryError:
            raise
        except NotRegularFile as exc:
            result.update(status="skipped", reason=str(exc))
        except Exception as exc:  # one bad file never stops the slice
            result.update(failure(exc))
        result["duration_s"] = time.perf_counter() - clock
        result["finished_at"] = datetime.now(UTC)
        _append(self.out, [result.get(name) for name in WORKER_OUTCOMES])

    def _parse(self, row: dict[str, Any], data: bytes, content_hash: str) -> dict[str, Any]:
        """Decode, parse and chunk one file; its document and passages join the slice's."""
        options = self.options
        text, encoding = decode(data, options.fallback_encoding)
        parser = options.parsers.get(row["format"])
        table = options.labels if parser is None and row["format"] == "rst" else None
        if parser is None and row["format"] == "html" and options.html is not None:
            parser = functools.partial(parse_html, options=options.html)
        includes = None
        if parser is None and table is not None:
            includes = Includes(source_root(row["path"], row["doc_id"]), row["path"], options.max_file_size)
            parser = get_parser(row["format"], rst_engine=options.rst_engine)
            parser = functools.partial(cast(LabelParser, parser), labels=table, includes=includes)
        elif parser is None:
            parser = get_parser(row["format"], rst_engine=options.rst_engine)
        with time_limit(options.file_timeout_s):
            parsed = parser(text)
        pieces = chunk(row["doc_id"], parsed, options.passages)
        fingerprint = options.fingerprints.get(row["format"], "")
        if table is not None and includes is not None:  # its labels: once nothing can fail any more
            included = includes_fingerprint(includes.read)
            fingerprint = refs_fingerprint(fingerprint + included, parsed.refs, table)
            labels = dict(parsed.labels)
            _append(
                self.labels,
                (
                    row["doc_id"],
                    content_hash,
                    fingerprint,
                    list(labels),
                    list(labels.values()),
                    list(parsed.refs),
                    list(includes.read),
                    included,
                ),
            )
        columns = self.passages
        columns["doc_id"].extend([row["doc_id"]] * len(pieces))
        columns["seq"].extend([p.seq for p in pieces])
        columns["passage_id"].extend([p.passage_id for p in pieces])
        columns["heading_path"].extend([p.heading_path for p in pieces])
        columns["start"].extend([p.start for p in pieces])
        columns["end"].extend([p.end for p in pieces])
        columns["text"].extend([p.text for p in pieces])
        columns["anchor"].extend([p.anchor for p in pieces])
        columns["line_start"].extend([p.line_start for p in pieces])
        columns["line_end"].extend([p.line_end for p in pieces])
        _append(
            self.docs,
            (
                row["doc_id"],
                parsed.title,
                row["format"],
                len(data),
                row["mtime_ns"],
                content_hash,
                len(parsed.text),
                len(pieces),
                fingerprint,
                None,  # git provenance is added by the driver, which knows the repository
                None,
                None,
            ),
        )
        reason = None if encoding == "utf-8" else f"decoded as {encoding}"
        if parsed.warnings:
            reason = "; ".join(filter(None, [reason, *parsed.warnings]))[:500]
        return {
            "status": "succeeded",
            "reason": reason,
            "title": parsed.title,
            "n_passages": len(pieces),
            "n_chars": len(parsed.text),
        }


class RootFiles:
    """Reads the files of one root as a worker reads them: a file that now resolves outside
    its root is refused, and the bytes are read up to the size limit (``_read``)."""

    def __init__(self, max_file_size: int) -> None:
        self.max_file_size = max_file_size
        self.real_folders: dict[str, str] = {}
        """Folder -> its real path (a file's own lstat is never remembered)."""

    def read(self, path: str, doc_id: str) -> bytes:
        """The bytes of the file ``path`` (``doc_id`` under its root): see ``open`` and ``_read``."""
        return _read(self.open(path, doc_id), self.max_file_size)

    def open(self, path: str, doc_id: str) -> int:
        """Open ``path`` for reading, refusing a file that now resolves outside its root: the
        inventory checked symlinks, but a file can be replaced by one (or a folder by a
        symlinked one) before it is read. The root is ``path`` minus ``doc_id``; rows not
        built that way are not checked.

        The file is opened without following a symlink, so the common case (a plain file)
        costs no extra system call; a symlink is resolved and checked, then followed.
        """
        suffix = os.sep + doc_id.replace("/", os.sep)
        if not path.endswith(suffix):
            return os.open(path, _READ)
        root = _real_root(path[: -len(suffix)])
        inside = root.rstrip(os.sep) + os.sep
        folder, name = os.path.split(path)
        real_folder = self.real_folders.get(folder)
        if real_folder is None:
            real_folder = self.real_folders[folder] = os.path.realpath(folder)
        if not os.path.join(real_folder, name).startswith(inside):
            raise ValidationError("symlink points outside the root (the file changed after the inventory)")
        if _NOFOLLOW:
            try:
                return os.open(path, _READ | _NOFOLLOW)
            except OSError as exc:
                if exc.errno != errno.ELOOP or not os.path.islink(path):
                    raise
        elif not os.path.islink(path):  # no O_NOFOLLOW here: look first
            return os.open(path, _READ)
        real = os.path.realpath(path)
        if not (real == root or real.startswith(inside)):
            raise ValidationError("symlink points outside the root (the file changed after the inventory)")
        return os.open(path, _READ)


def _append(columns: dict[str, list[Any]], values: Any) -> None:
    for column, value in zip(columns.values(), values, strict=True):
        column.append(value)


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    return os.path.realpath(root)


def _read(fd: int, max_file_size: int) -> bytes:
    """The bytes of the open file ``fd`` (closed here), up to ``max_file_size`` and one more.

    Raises:
        NotRegularFile: ``fd`` is not a regular file (nothing was read from it).
        ValidationError: empty, over the size limit, or binary (told from its first block,
            before the rest is read).
    """
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(not_regular_reason(st.st_mode))
        size = st.st_size
        expected = min(size, max_file_size)
        # read(n) allocates n bytes up front: ask for what the file holds (and one more,
        # to see it grew), not for the size limit; a large file's first block is looked
        # at first, so that a binary one is refused before it is read whole
        if expected > BINARY_SNIFF_BYTES:
            check_not_binary(os.pread(fd, BINARY_SNIFF_BYTES, 0))
        data = os.read(fd, expected + 1)
        # read on after a short read (one read returns at most 2 GiB), or when the file grew
        # (or, like /proc files, has no size), up to one byte over the limit
        while len(data) <= max_file_size and (len(data) < expected or len(data) > size):
            more = os.read(fd, max_file_size + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if not data:
        raise ValidationError("empty file")
    if len(data) > max_file_size:
        raise ValidationError(f"file is over max_file_size={max_file_size} bytes")
    return data
