"""Keeping one file from taking the run down: per-file time limits and worker heartbeats.

In a worker, each file is parsed under an alarm (``file_timeout_s``) that interrupts
Python code; for code that does not return to Python (a parser stuck in C), the worker
writes a heartbeat — the file it is on and since when — that the driver reads to kill
the worker and name the file.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docbatch.errors import FileTimeout

IDLE = ""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``FileTimeout`` in this thread when the block runs longer than ``seconds``.

    Works in the main thread of a process (signals); elsewhere, or with ``seconds <= 0``,
    the block runs unlimited.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise FileTimeout(f"parsing took longer than file_timeout_s={seconds:g}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Heartbeat:
    """This process's heartbeat file, kept open for one slice: a beat is one ``pwrite``.

    A record is ``"<time_ns>\t<doc id>\0"`` written at offset 0 (a doc id never holds
    NUL; bytes left over from a longer record sit after it). Heartbeats are advisory: a
    folder that cannot be written loses the beats, never the slice.
    """

    def __init__(self, heartbeat_dir: str) -> None:
        try:
            self._fd: int | None = os.open(
                os.path.join(heartbeat_dir, str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o644
            )
        except OSError:
            self._fd = None

    def beat(self, doc_id: str) -> None:
        """Record that this process started on ``doc_id`` now (``IDLE``: between files)."""
        if self._fd is None:
            return
        record = f"{time.time_ns()}\t{doc_id}\0".encode("utf-8", "surrogateescape")
        try:
            os.pwrite(self._fd, record, 0)
        except OSError:
            pass

    def close(self) -> None:
        """Record ``IDLE`` and close the file."""
        self.beat(IDLE)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Heartbeat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_beats(heartbeat_dir: str | Path) -> dict[int, tuple[float, str]]:
    """Every worker's last heartbeat: pid -> (seconds since it started its file, doc id)."""
    beats: dict[int, tuple[float, str]] = {}
    now = time.time_ns()
    try:
        names = os.listdir(heartbeat_dir)
    except OSError:
        return beats
    for name in names:
        try:
            record = Path(heartbeat_dir, name).read_bytes().split(b"\0", 1)[0]
            stamp, doc_id = record.decode("utf-8", "surrogateescape").split("\t", 1)
            beats[int(name)] = ((now - int(stamp)) / 1e9, doc_id)
        except (OSError, ValueError):
            continue
    return beats


def alive(pid: int) -> bool:
    """Whether process ``pid`` is still running (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
