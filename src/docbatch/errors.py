"""The exceptions docbatch defines, and its one warning.

Every exception below descends from ``DocbatchError`` except ``MissingExtraError``
(an ``ImportError``, so that ``except ImportError`` around an optional import keeps
working); ``CheckpointWarning`` is a warning, issued and never raised. Python's own
exceptions still pass through where the docstrings say so (``load_run`` raises
``FileNotFoundError``; a programming error is not wrapped)::

    DocbatchError
    ├── ConfigError (ValueError)          a bad setting: names the variable, the value, what is allowed
    │   ├── MassDeleteError               --delete-missing would remove too much; nothing deleted
    │   └── FormatError                   a format or rst_engine docbatch has no parser for
    ├── RunError                          stops a run; the checkpoint stays intact
    │   ├── RootError (OSError)           the directory to ingest is missing or unreadable
    │   ├── StoreError                    the store cannot be opened or written
    │   │   ├── StoreBusyError            the store is locked by another writer (transient)
    │   │   └── StoreLockedError          another docbatch run is writing this store
    │   ├── QueryError (ValueError)       a search query the store cannot understand
    │   ├── StateError                    the state or report folder cannot be used
    │   ├── GitError                      git failed in an unexpected way or did not answer in time
    │   └── WorkerStartError              worker processes cannot start (every file would fail)
    ├── FileError                         one file's problem; becomes an outcome row, never stops a run
    │   ├── ValidationError (ValueError)  empty, too large, binary, not decodable (terminal)
    │   ├── ParseError (ValueError)       the parser rejected the file (terminal)
    │   ├── FileTimeout (TimeoutError)    parsing took longer than file_timeout_s (terminal)
    │   ├── WorkerCrash                   the worker died on this file (terminal)
    │   └── NotRegularFile                a FIFO, socket or device: a skipped row, never read
    └── IngestFailures                    raise_on_failures(): some files of a finished call failed

    MissingExtraError (ImportError)       an optional library of the notebook extra is missing
    CheckpointWarning (UserWarning)       a checkpoint part was unreadable and has been moved aside

An ``OSError`` while reading a file is retried when its errno says the condition may
pass (EIO, EAGAIN, ETIMEDOUT, ...; see ``is_transient``).

``TransientError`` and ``TerminalError`` are marker bases: the retry policy reads them.
"""

from __future__ import annotations

import errno
import os


class DocbatchError(Exception):
    """Root of every docbatch exception."""


class TransientError(DocbatchError):
    """Marker: trying again later may succeed."""


class TerminalError(DocbatchError):
    """Marker: trying again cannot succeed without a change to the input."""


class ConfigError(DocbatchError, ValueError):
    """A setting has a value that is not allowed."""

    @classmethod
    def invalid(cls, name: str, value: object, allowed: str) -> ConfigError:
        return cls(f"{name}={value!r} is not allowed: expected {allowed}")


class MassDeleteError(ConfigError):
    """Syncing deletions would remove more of a source than allowed; nothing was deleted."""


class FormatError(ConfigError):
    """A format name or reStructuredText engine that docbatch has no parser for
    (``docbatch.formats.get_parser``)."""


class RunError(DocbatchError):
    """A problem that stops the whole run (never one file's fault)."""


class StateError(RunError):
    """The state folder (or the report folder) cannot be used; the message says which path
    and what to do."""


class GitError(RunError):
    """git failed in an unexpected way or did not answer in time."""


class WorkerStartError(RunError):
    """Worker processes die as they start, so every file would fail the same way."""


class RootError(RunError, OSError):
    """The directory to ingest cannot be used."""


def check_root(directory: str | os.PathLike[str]) -> None:
    """Raise ``RootError`` unless ``directory`` is an existing folder: called before anything
    (a store, a state folder, a lock) is created for a run on it."""
    if not os.path.exists(directory):
        raise RootError(f"directory not found: {os.fspath(directory)}")
    if not os.path.isdir(directory):
        raise RootError(f"not a directory: {os.fspath(directory)}")


class StoreError(RunError):
    """The store cannot be opened, read or written."""


class StoreBusyError(StoreError, TransientError):
    """The store is locked by another connection; retrying may succeed."""


class StoreLockedError(StoreError):
    """Another docbatch run holds this store's writer lock."""


class QueryError(RunError, ValueError):
    """A search query that cannot be run, with the reason."""


class FileError(DocbatchError):
    """One file could not be ingested; it becomes an outcome row."""

    category = "processing"


class NotRegularFile(FileError, TerminalError):
    """The path is a FIFO, socket or device (maybe put in place of a file during the run):
    it is never read, and its row is ``skipped`` with this reason."""


class ValidationError(FileError, TerminalError, ValueError):
    """The file is not acceptable input (empty, too large, binary, not decodable)."""

    category = "validation"


class ParseError(FileError, TerminalError, ValueError):
    """The parser could not make sense of the file."""

    category = "processing"


class FileTimeout(FileError, TerminalError, TimeoutError):
    """Parsing one file took longer than ``file_timeout_s``."""

    category = "timeout"


class WorkerCrash(FileError, TerminalError):
    """The worker process died (crash, out of memory, killed) while on this file."""

    category = "worker_crash"


TRANSIENT_ERRNOS = frozenset(
    {errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.EINTR, errno.EBUSY, errno.ENFILE, errno.EMFILE}
)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is worth retrying: a marked transient error, a timeout,
    or an ``OSError`` whose errno says the condition may pass."""
    if isinstance(exc, TerminalError):
        return False
    if isinstance(exc, TransientError | TimeoutError):
        return True
    if isinstance(exc, OSError):
        return exc.errno in TRANSIENT_ERRNOS
    return False


class IngestFailures(DocbatchError):
    """Raised by ``IngestResult.raise_on_failures()`` when some files of the call failed;
    the message names them."""


class CheckpointWarning(UserWarning):
    """A checkpoint part was unreadable and has been moved aside."""


class MissingExtraError(ImportError):
    """An optional library of the ``notebook`` extra is not installed."""
