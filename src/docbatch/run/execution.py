"""Where slices run (in this process, a local process pool, a Dask cluster, or a
caller's executor), and stopping cleanly on Ctrl-C, SIGTERM or SIGHUP. The Dask side
(a scheduler's address, resubmitting a lost worker's slice) is in ``dask_cluster``."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeAlias

from docbatch.errors import ConfigError, WorkerStartError
from docbatch.run.dask_cluster import DaskExecutor, check_dask_url, connect_dask, is_dask
from docbatch.run.spawning import warm_up, worker_context

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from distributed import Client as DaskClient

ExecutorSpec: TypeAlias = "str | Executor | DaskClient | None"
""""auto", "serial", "process", "dask://HOST:PORT", a ``concurrent.futures.Executor``,
a Dask ``distributed.Client`` or None (auto)."""
EXECUTOR_CHOICES = ("auto", "serial", "process")
AUTO_PROCESS_MIN_FILES = 200
"""With ``executor="auto"``, fewer files than this are parsed in the driver: starting
worker processes (about half a second) would cost more than it saves."""

log = logging.getLogger("docbatch")


@contextmanager
def open_executor(
    spec: ExecutorSpec,
    workers: int | None = None,
    *,
    work_files: int = 0,
    max_tasks_per_child: int | None = None,
    keeper: PoolKeeper | None = None,
    fallback: bool | None = None,
) -> Iterator[Executor | None]:
    """The executor for ``spec``: None for "serial", a spawn-context process pool for
    "process" (shut down on exit; with a ``keeper``, its pool, left running unless the
    block raises), or the caller's own ``Executor`` (left running).
    "auto" (or None) is "process" when there are ``AUTO_PROCESS_MIN_FILES`` or more files
    to parse and more than one CPU, else "serial"; when this platform cannot make worker
    processes at all, "auto" parses in this process (with a warning saying why) and
    "process" raises ``WorkerStartError`` (``fallback`` overrides which does which).

    A Dask ``distributed.Client`` (or its ``get_executor()``) runs slices on its cluster
    (left running); "dask://HOST:PORT" connects a client to that scheduler for the run.
    Dask tasks are submitted with ``pure=False`` (Dask would otherwise return cached
    results for a slice seen before) and a slice whose worker died is submitted again.

    Spawn, not fork: a forked child of a process that has used polars can deadlock.

    Raises:
        ConfigError: an unknown spec, Dask asked for but not installed, or a scheduler
            that cannot be reached.
    """
    spec, workers, auto_fallback = resolve_local(spec, workers, work_files=work_files, isolate=False)
    fallback = auto_fallback if fallback is None else fallback
    if spec == "serial":
        yield None
    elif spec == "process" and keeper is not None:
        try:
            made = _made_or_none(lambda: keeper.pool(workers, max_tasks_per_child), fallback)
        except BaseException:
            keeper.close()
            raise
        try:
            yield made
        except BaseException:
            keeper.close()
            raise
    elif spec == "process":
        pool = process_pool(workers, max_tasks_per_child)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif is_dask(spec):
        dask = DaskExecutor(spec)
        try:
            yield dask
        finally:
            dask.shutdown(wait=False)
    elif isinstance(spec, Executor):
        yield spec
    elif isinstance(spec, str) and spec.startswith("dask://"):
        client = connect_dask(spec)
        dask = DaskExecutor(client)
        try:
            yield dask
        finally:
            dask.shutdown(wait=False)
            client.close()
    else:
        check_executor(spec)


def _made_or_none(make: Callable[[], ProcessPoolExecutor], fallback: bool) -> ProcessPoolExecutor | None:
    """``make()``; when the platform refuses to make processes (no semaphores, no ``fork``
    allowed, ...) None — parse in this process — if ``fallback``, else ``WorkerStartError``."""
    try:
        return make()
    except (OSError, ImportError, NotImplementedError) as exc:
        why = f"worker processes cannot be started here ({type(exc).__name__}: {exc})"
        if not fallback:
            raise WorkerStartError(f"{why}; use executor='serial' (--executor serial)") from exc
        log.warning("%s; parsing in this process instead", why)
        return None


def resolve_local(
    spec: ExecutorSpec, workers: int | None, *, work_files: int, isolate: bool
) -> tuple[ExecutorSpec, int | None, bool]:
    """Where a call's files are parsed: (spec, workers, fallback) for ``open_executor``.

    "auto" is decided here (see ``open_executor``). With ``isolate`` (a per-file time or
    memory limit is set), what would run in this process runs in one supervised worker
    process instead: the driver cannot interrupt a parser stuck in C code, nor bound its
    memory, but it can kill a worker. ``fallback``: when worker processes cannot start,
    parse in this process with a warning (for "auto", and for "serial" made a worker).
    """
    fallback = spec is None or spec == "auto"
    if fallback:
        cpus = workers or os.cpu_count() or 1
        spec = "process" if work_files >= AUTO_PROCESS_MIN_FILES and cpus > 1 else "serial"
    if spec == "serial" and isolate and work_files:
        return "process", 1, True
    return spec, workers, fallback


def check_executor(spec: object) -> None:
    """Raise ``ConfigError`` unless ``spec`` is something ``open_executor`` accepts.

    >>> check_executor("threads")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    docbatch.errors.ConfigError: executor='threads' is not allowed: expected one of auto, ...
    """
    if spec is None or spec in EXECUTOR_CHOICES or isinstance(spec, Executor) or is_dask(spec):
        return
    if isinstance(spec, str) and spec.startswith("dask://"):
        check_dask_url(spec)
        return
    raise ConfigError.invalid(
        "executor",
        spec,
        f"one of {', '.join(EXECUTOR_CHOICES)}, dask://HOST:PORT, a concurrent.futures.Executor "
        "or a Dask distributed.Client",
    )


def process_pool(workers: int | None = None, max_tasks_per_child: int | None = None) -> ProcessPoolExecutor:
    """A spawn-context pool of ``workers`` processes (default: one per CPU); each worker is
    replaced after ``max_tasks_per_child`` slices when given, to bound leaks.

    The processes start now, not at the first slice: each imports the worker code while
    the caller gets the run ready (starting one takes about a quarter of a second). When
    they die as they start, the pool is returned broken: ``start_problem`` says why.
    """
    from concurrent.futures import ProcessPoolExecutor  # only when a pool is made
    from concurrent.futures.process import BrokenProcessPool

    count = workers or os.cpu_count() or 1
    pool = ProcessPoolExecutor(
        count,
        mp_context=worker_context(),
        initializer=_init_worker,
        initargs=(os.getpid(),),
        max_tasks_per_child=max_tasks_per_child,
    )
    # All processes start before the pool's manager thread does: a spawn pool otherwise
    # starts one per task, adding to its process table while that thread reads it
    # (Python 3.11 then fails in the thread with "dictionary changed size during iteration").
    launch = getattr(pool, "_launch_processes", None)
    if callable(launch):
        launch()
    if max_tasks_per_child is None:  # else the warm-up would count as one of its tasks
        try:
            for _ in range(count):
                pool.submit(warm_up)
        except BrokenProcessPool:  # the workers died already
            pass
    return pool


class PoolKeeper:
    """One local process pool kept from one call to the next, so that a command which
    works through several calls (``limit``) starts its workers once.

    ``replace`` is the factory a supervisor calls when a worker died (it shuts down the
    broken pool itself); ``close`` stops the workers.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._key: tuple[int, int | None] = (0, None)

    def pool(self, workers: int | None = None, max_tasks_per_child: int | None = None) -> ProcessPoolExecutor:
        """The kept pool, or a new one when there is none, it broke or its settings differ."""
        key = (workers or os.cpu_count() or 1, max_tasks_per_child)
        if self._pool is not None and (key != self._key or getattr(self._pool, "_broken", False)):
            self.close()
        if self._pool is None:
            self._key = key
            self._pool = process_pool(*key)
        return self._pool

    def replace(self) -> ProcessPoolExecutor:
        """A new pool with the same settings, kept from now on."""
        self._pool = process_pool(*self._key)
        return self._pool

    def close(self) -> None:
        """Stop the workers (cancelling slices not started); the next ``pool`` starts new ones."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def pool_now(self) -> ProcessPoolExecutor | None:
        """The kept pool, if there is one (without starting one)."""
        return self._pool


SLICES_PER_WORKER = 4
"""Slices kept submitted per local worker. The driver submits new slices only between
commits, and a commit (of several slices back together) takes as long as a worker needs
for a few slices: with one slice each, the workers sat idle for over a third of the time
files were being parsed."""


def slices_in_flight(pool: Executor | None) -> int:
    """How many slices to keep submitted at once: ``SLICES_PER_WORKER`` per local worker,
    one per worker thread on Dask (whose scheduler queues its own), plus one."""
    if pool is None:
        return 1
    if isinstance(pool, DaskExecutor):
        return pool.worker_threads() + 1
    workers = getattr(pool, "_max_workers", None) or os.cpu_count() or 1
    return int(workers) * SLICES_PER_WORKER + 1


def _init_worker(driver_pid: int) -> None:
    """Set up a worker process: Ctrl-C is left to the driver (which stops after the current
    slice), and the worker exits on its own if the driver dies (e.g. killed with SIGKILL),
    instead of waiting forever on a queue that no one will write to."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # a closed terminal: the driver stops the run and the workers
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def watch_parent() -> None:
        # the driver's pid comes from the driver itself: it may be dead before this runs
        while os.getppid() == driver_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch_parent, name="docbatch-parent-watch", daemon=True).start()
    # A worker gets to its exit hooks once the pool has told it to stop: its last result
    # has gone out, multiprocessing has finished its own clean-up and flushed the streams.
    # Tearing down an interpreter that has loaded polars and the parsers then takes
    # 50-70 ms, which every run waited for when it closed its pool: leave at once.
    atexit.register(os._exit, 0)


class StopRequest(threading.Event):
    """Set when the run is asked to stop after its current commit; ``signum`` says by which
    signal (None: set by the caller)."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Ctrl-C, and what service managers (systemd, Docker, Kubernetes) and a closed terminal send."""


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """The first Ctrl-C, SIGTERM or SIGHUP sets the returned event (stop after this commit,
    stop the workers, write the reports); a second one interrupts at once.

    Outside the main thread signals cannot be handled; the event is then only set by the caller.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signum = signum
        stop.set()
        if signum != signal.SIGINT:
            log.warning("%s received: stopping after the current commit", signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)
