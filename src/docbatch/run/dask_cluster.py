"""Slices run on a Dask cluster: connecting to a scheduler named ``dask://HOST:PORT``,
recognising a caller's client, and an executor that submits a slice again when the
worker running it was lost."""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future, InvalidStateError
from typing import Any

from docbatch.errors import ConfigError

DASK_URL = re.compile(r"dask://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})")
DASK_HINT = "pip install 'docbatch[dask]'"
DASK_RESUBMITS = 3
"""How often a slice whose Dask worker died (``KilledWorker``, cancelled) is submitted again."""

log = logging.getLogger("docbatch")


def check_dask_url(spec: str) -> str:
    """``spec`` when it is ``dask://HOST:PORT``, else ``ConfigError``.

    >>> check_dask_url("dask://scheduler.local:8786")
    'dask://scheduler.local:8786'
    """
    match = DASK_URL.fullmatch(spec)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ConfigError.invalid("executor", spec, "dask://HOST:PORT, e.g. dask://scheduler:8786")
    return spec


def connect_dask(spec: str) -> Any:
    """A ``distributed.Client`` connected to the scheduler that ``dask://HOST:PORT`` names.

    Raises:
        ConfigError: a malformed spec, Dask not installed, or no scheduler answering there.
    """
    check_dask_url(spec)
    try:
        distributed = importlib.import_module("distributed")
    except ImportError:
        raise ConfigError(f"executor {spec!r} needs Dask, which is not installed: {DASK_HINT}") from None
    address = "tcp://" + spec.removeprefix("dask://")
    try:
        return distributed.Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {spec}: {exc}") from None


def is_dask(spec: object) -> bool:
    """A Dask client or client executor, recognised without importing Dask."""
    if type(spec).__module__.split(".")[0] != "distributed":
        return False
    return hasattr(spec, "get_executor") or hasattr(spec, "_client")


class DaskExecutor(Executor):
    """A Dask client's executor (``pure=False``) that submits a slice again when the
    worker running it died and Dask gave up on it (``KilledWorker``) or cancelled it.

    Args:
        spec: a ``distributed.Client`` or one of its ``ClientExecutor`` objects (whose
            other submit options, e.g. ``workers=``, are kept).
        resubmits: how many times one slice may be submitted again.
    """

    def __init__(self, spec: Any, *, resubmits: int = DASK_RESUBMITS) -> None:
        options: dict[str, Any] = {}
        if hasattr(spec, "get_executor"):
            self.client = spec
        else:
            self.client = spec._client
            options = dict(getattr(spec, "_kwargs", {}))
        self._inner: Executor = self.client.get_executor(**{**options, "pure": False})
        self.resubmits = resubmits
        self._closed = False

    def worker_threads(self) -> int:
        """Worker threads in the cluster now (at least 1)."""
        return max(1, int(sum(self.client.nthreads().values())))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        outer: Future[Any] = Future()
        self._start(outer, fn, args, kwargs, self.resubmits)
        return outer

    def _start(self, outer: Future[Any], fn: Callable[..., Any], args: Any, kwargs: Any, left: int) -> None:
        try:
            inner = self._inner.submit(fn, *args, **kwargs)
        except Exception as exc:
            _settle(outer, exc=exc)
            return
        outer.add_done_callback(lambda done: inner.cancel() if done.cancelled() else None)
        inner.add_done_callback(lambda done: self._done(outer, done, fn, args, kwargs, left))

    def _done(
        self,
        outer: Future[Any],
        inner: Future[Any],
        fn: Callable[..., Any],
        args: Any,
        kwargs: Any,
        left: int,
    ) -> None:
        if outer.done():
            return
        exc: BaseException | None = CancelledError() if inner.cancelled() else inner.exception()
        if exc is None:
            _settle(outer, result=inner.result())
        elif _worker_lost(exc) and left > 0 and not self._closed:
            log.warning("a Dask worker was lost (%s); submitting its slice again", type(exc).__name__)
            # not from this callback: it runs on the Dask client's event loop
            threading.Thread(
                target=self._start, args=(outer, fn, args, kwargs, left - 1), daemon=True
            ).start()
        else:
            _settle(outer, exc=exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting slices; without ``wait`` (or with ``cancel_futures``), cancel those
        still running."""
        self._closed = True
        self._inner.shutdown(wait=wait and not cancel_futures)


def _worker_lost(exc: BaseException) -> bool:
    """``KilledWorker``, or a cancellation (``concurrent.futures``, asyncio or Dask's own)."""
    return any(cls.__name__ in ("KilledWorker", "CancelledError") for cls in type(exc).__mro__)


def _settle(future: Future[Any], *, result: Any = None, exc: BaseException | None = None) -> None:
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except InvalidStateError:  # cancelled meanwhile
        pass
