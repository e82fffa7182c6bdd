"""One writer per store: an advisory lock held for the whole run.

The lock is an ``flock`` on a file in the state folder, so the operating system
drops it when the holding process dies for any reason (SIGKILL included): a
killed run never leaves a lock that blocks the next one. The file records who
holds it, for the message a second writer gets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docbatch.errors import StoreLockedError

LOCK_FILE = "writer.lock"


def holder(state_dir: Path) -> dict[str, Any] | None:
    """Who holds (or last held) the lock of ``state_dir``, if it says."""
    try:
        data = json.loads((state_dir / LOCK_FILE).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def writer_lock(state_dir: Path, store: str) -> Iterator[dict[str, Any] | None]:
    """Hold the writer lock of ``state_dir`` for the duration of the block.

    Yields the previous holder's record when the lock was left by a run that died
    (taken over), else None.

    Raises:
        StoreLockedError: another live process holds the lock; the message names it.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = holder(state_dir) or {}
            raise StoreLockedError(
                f"store {store} is being written by another run (pid {who.get('pid', '?')} on "
                f"{who.get('host', '?')}, started {who.get('started_at', '?')}); wait for it to "
                "finish or stop it"
            ) from None
        previous = holder(state_dir)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield previous
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
