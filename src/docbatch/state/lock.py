"""One writer at a time: advisory locks held for the whole run.

The state folder is always locked: an ``flock`` on a file in it, which the operating
system drops when the holding process dies for any reason (SIGKILL included), so a
killed run never leaves a lock that blocks the next one. The file records who holds
it, for the message a second writer gets.

A store other processes can reach by another state folder (PostgreSQL) is locked in the
store as well (its ``writer_lock(source)``, see ``WriterLocker``): two runs of one
source are refused whatever their state folders.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docbatch.store.base import DocumentStore, WriterLocker, holder_record, lock_refused

LOCK_FILE = "writer.lock"


@dataclass
class HeldLock:
    """A writer lock being held."""

    previous: dict[str, Any] | None = None
    """The record of a holder that died without releasing the lock (taken over), else None."""
    _notes: list[Callable[..., None]] = field(default_factory=list)

    def note(self, **fields: Any) -> None:
        """Add ``fields`` (e.g. ``run_id``) to the holder record a refused writer reads."""
        for note in self._notes:
            note(**fields)


def holder(state_dir: Path) -> dict[str, Any] | None:
    """Who holds (or last held) the lock of ``state_dir``, if it says."""
    try:
        data = json.loads((state_dir / LOCK_FILE).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def writer_lock(state_dir: Path, store: DocumentStore | str, source: str | None = None) -> Iterator[HeldLock]:
    """Hold the writer lock of ``state_dir``, and the store's own lock of ``source`` when the
    store has one, for the duration of the block.

    Yields a ``HeldLock``: its ``previous`` is the record of a run that died holding a lock
    (taken over), else None.

    Raises:
        StoreLockedError: another live process holds a lock; the message names it.
    """
    location = store if isinstance(store, str) else store.location
    with ExitStack() as stack:
        held = HeldLock()
        if source is not None and isinstance(store, WriterLocker):
            in_store = stack.enter_context(store.writer_lock(source))
            held.previous = in_store.previous
            held._notes.append(in_store.note)
        state_previous, note = stack.enter_context(_file_lock(state_dir, location))
        held.previous = held.previous or state_previous
        held._notes.append(note)
        yield held


@contextmanager
def _file_lock(state_dir: Path, location: str) -> Iterator[tuple[dict[str, Any] | None, Callable[..., None]]]:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise lock_refused(location, holder(state_dir)) from None
        previous = holder(state_dir)
        record = holder_record()

        def write(**fields: Any) -> None:
            record.update(fields)
            data = json.dumps(record).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)

        write()
        try:
            yield previous, write
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
