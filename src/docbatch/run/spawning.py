"""Starting worker processes that never run the caller's ``__main__``.

A standard spawn pool makes each new process import the parent's main module first
(``__mp_main__``), so that objects defined there can be unpickled. A user's script
without ``if __name__ == "__main__":`` then runs again in every worker — and starts
its own ingest there — while a script on stdin or ``python -c`` cannot be imported at
all: every worker died and every file was recorded as a crash.

docbatch's workers need nothing from the caller's main module: the functions they run,
their arguments and the parsers are docbatch's (a custom parser defined in ``__main__``
is parsed in the driver instead, see ``main_module_parsers``). ``WorkerContext`` is a
spawn context whose processes skip that step: a script without the guard, a script on
stdin, ``python -c``, an IPython or Jupyter kernel all get the same worker processes,
and so does an application that embeds Python (``python_executable``).
"""

# the standard library's stubs leave out the private names the launch uses
# mypy: disable-error-code="attr-defined,arg-type"

from __future__ import annotations

import importlib
import io
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping
from concurrent.futures import Executor
from multiprocessing import context, popen_spawn_posix, spawn, util
from typing import Any

log = logging.getLogger("docbatch")

_MAIN_KEYS = ("init_main_from_name", "init_main_from_path")


class _Popen(popen_spawn_posix.Popen):
    """``multiprocessing.popen_spawn_posix.Popen`` whose preparation data leaves out the
    parent's main module. The launch is the standard library's, with that one change."""

    def _launch(self, process_obj: Any) -> None:
        from multiprocessing import resource_tracker

        tracker_fd = resource_tracker.getfd()
        self._fds.append(tracker_fd)
        prep_data = spawn.get_preparation_data(process_obj._name)
        for key in _MAIN_KEYS:
            prep_data.pop(key, None)
        fp = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            context.reduction.dump(prep_data, fp)
            context.reduction.dump(process_obj, fp)
        finally:
            context.set_spawning_popen(None)

        parent_r = child_w = child_r = parent_w = None
        try:
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            cmd = spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_r)
            self._fds.extend([child_r, child_w])
            self.pid = util.spawnv_passfds(spawn.get_executable(), cmd, self._fds)
            self.sentinel = parent_r
            with open(parent_w, "wb", closefd=False) as f:
                f.write(fp.getbuffer())
        finally:
            self.finalizer = util.Finalize(
                self, util.close_fds, [fd for fd in (parent_r, parent_w) if fd is not None]
            )
            for fd in (child_r, child_w):
                if fd is not None:
                    os.close(fd)


def python_executable() -> str:
    """The interpreter that worker processes run: multiprocessing's choice, unless that is
    not a Python interpreter — in an application that embeds Python, ``sys.executable`` is
    the application — and the installation's own ``python3`` exists: that one is then
    multiprocessing's choice from now on (``multiprocessing.set_executable``), as an
    embedding application is told to do. A frozen application starts itself (it handles
    ``--multiprocessing-fork``)."""
    chosen = os.fsdecode(spawn.get_executable())
    if getattr(sys, "frozen", False) or _looks_like_python(chosen):
        return chosen
    found = _installed_python()
    if found is None:
        return chosen
    log.info("%s is not a Python interpreter; worker processes run %s", chosen, found)
    spawn.set_executable(found)
    return found


def _installed_python() -> str | None:
    for prefix in (sys.exec_prefix, sys.base_exec_prefix):
        for name in (
            f"python{sys.version_info[0]}.{sys.version_info[1]}",
            f"python{sys.version_info[0]}",
            "python",
        ):
            candidate = os.path.join(prefix, "bin", name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def _looks_like_python(executable: str) -> bool:
    return os.path.basename(executable).lower().startswith(("python", "pypy"))


class _Process(context.SpawnProcess):
    _start_method = "spawn"

    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:  # noqa: N802 (the standard library's name)
        return _Popen(process_obj)


class WorkerContext(context.SpawnContext):
    """A spawn context whose processes do not import the parent's main module."""

    Process = _Process


def worker_context() -> multiprocessing.context.BaseContext:
    """``WorkerContext`` where the platform spawns with ``popen_spawn_posix`` (every POSIX
    system), else the standard spawn context (which imports the main module). It settles
    multiprocessing's executable (``python_executable``) first: the pool's queues start
    the resource tracker, before any worker, and the tracker runs that executable too."""
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    python_executable()
    return WorkerContext()


def warm_up() -> None:
    """A worker's first task: import what slices need, while the driver plans."""
    importlib.import_module("docbatch.work.worker")


POOL_START_TIMEOUT_S = 120.0
"""How long a new pool's first worker may take to start before the pool counts as unable to."""


def start_problem(pool: Executor, timeout_s: float = POOL_START_TIMEOUT_S) -> str | None:
    """None when a worker of ``pool`` runs a task within ``timeout_s``; else why it does not."""
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures.process import BrokenProcessPool

    try:
        pool.submit(warm_up).result(timeout=timeout_s)
    except BrokenProcessPool:
        codes = set()
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.join(timeout=2)
            if process.exitcode is not None and process.exitcode != -signal.SIGTERM:  # not the pool's stop
                codes.add(process.exitcode)
        return "worker processes exit as soon as they start" + (
            f" (exit status {', '.join(map(str, sorted(codes)))})" if codes else ""
        )
    except FutureTimeout:
        return f"no worker process was ready after {timeout_s:g} s"
    except Exception as exc:  # e.g. an import error inside the worker
        return f"a worker process fails to start: {type(exc).__name__}: {exc}"
    return None


def main_module_parsers(parsers: Mapping[str, Any]) -> list[str]:
    """The formats whose custom parser lives in ``__main__`` (a worker cannot import it)."""
    return sorted(fmt for fmt, parser in parsers.items() if getattr(parser, "__module__", None) == "__main__")
