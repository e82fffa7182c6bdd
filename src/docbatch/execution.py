"""Where slices run (in this process, a local process pool, or a caller's executor),
and stopping cleanly on Ctrl-C."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from docbatch.errors import ConfigError

ExecutorSpec = str | Executor | None
EXECUTOR_CHOICES = ("auto", "serial", "process")
AUTO_PROCESS_MIN_FILES = 200
"""With ``executor="auto"``, fewer files than this are parsed in the driver: starting
worker processes (about half a second) would cost more than it saves."""


@contextmanager
def open_executor(
    spec: ExecutorSpec, workers: int | None = None, *, work_files: int = 0
) -> Iterator[Executor | None]:
    """The executor for ``spec``: None for "serial", a spawn-context process pool for
    "process" (shut down on exit), or the caller's own ``Executor`` (left running).
    "auto" (or None) is "process" when there are ``AUTO_PROCESS_MIN_FILES`` or more files
    to parse and more than one CPU, else "serial".

    Spawn, not fork: a forked child of a process that has used polars can deadlock.
    """
    if spec is None or spec == "auto":
        cpus = workers or os.cpu_count() or 1
        spec = "process" if work_files >= AUTO_PROCESS_MIN_FILES and cpus > 1 else "serial"
    if spec == "serial":
        yield None
    elif spec == "process":
        n = workers or os.cpu_count() or 1
        pool = ProcessPoolExecutor(
            n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif isinstance(spec, Executor):
        yield spec
    else:
        raise ConfigError.invalid(
            "executor", spec, f"one of {', '.join(EXECUTOR_CHOICES)} or a concurrent.futures.Executor"
        )


def slices_in_flight(pool: Executor | None) -> int:
    """How many slices to keep submitted at once: one per worker plus one queued."""
    if pool is None:
        return 1
    workers = getattr(pool, "_max_workers", None) or os.cpu_count() or 1
    return int(workers) + 1


def _init_worker(driver_pid: int) -> None:
    """Set up a worker process: Ctrl-C is left to the driver (which stops after the current
    slice), and the worker exits on its own if the driver dies (e.g. killed with SIGKILL),
    instead of waiting forever on a queue that no one will write to."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch_parent() -> None:
        # the driver's pid comes from the driver itself: it may be dead before this runs
        while os.getppid() == driver_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch_parent, name="docbatch-parent-watch", daemon=True).start()


@contextmanager
def stop_on_sigint() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the returned event (stop after this slice); a second one interrupts.

    Outside the main thread signals cannot be handled; the event is then only set by the caller.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
