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


def beat(heartbeat_dir: str, doc_id: str) -> None:
    """Record that this process started on ``doc_id`` now (``IDLE`` when it is between files)."""
    path = os.path.join(heartbeat_dir, str(os.getpid()))
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{time.time_ns()}\t{doc_id}")


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
            stamp, doc_id = Path(heartbeat_dir, name).read_text(encoding="utf-8").split("\t", 1)
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
