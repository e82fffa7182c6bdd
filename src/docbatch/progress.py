"""Progress sinks for terminals and logs, and choosing one by name.

A sink has three methods, ``start``, ``update`` and ``stop`` (see
``docbatch.runner.ProgressSink``); the runner calls them from its own loop.
``resolve("auto")`` picks the ipywidgets dashboard (``docbatch.display.widgets``,
imported only then) inside a Jupyter kernel, and a terminal bar or log lines
elsewhere.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from typing import Any, TextIO

from docbatch.errors import ConfigError
from docbatch.metrics import BatchProgress, processing_metrics

log = logging.getLogger("docbatch")

PROGRESS_CHOICES = ("auto", "widget", "terminal", "log", "none")


class LogProgress:
    """One log record per ``interval_s`` seconds (and at the end): for CI, cron and pipes."""

    def __init__(self, interval_s: float = 5.0, logger: logging.Logger = log) -> None:
        self.interval_s = interval_s
        self.logger = logger
        self._last = 0.0

    def start(self, progress: BatchProgress) -> None:
        self._last = time.monotonic()
        self.logger.info(
            "ingesting %d files (%d to process)",
            progress.total_files,
            progress.total_files - progress.processed,
        )

    def update(self, progress: BatchProgress, slice_row: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self.logger.info("%s", describe(progress))

    def stop(self, progress: BatchProgress) -> None:
        self.logger.info("%s", describe(progress))


class TerminalProgress:
    """A one-line bar redrawn in place: percent, counts, files/s, RSS and ETA."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.width = width

    def start(self, progress: BatchProgress) -> None:
        self._draw(progress)

    def update(self, progress: BatchProgress, slice_row: dict[str, Any]) -> None:
        self._draw(progress)

    def stop(self, progress: BatchProgress) -> None:
        self._draw(progress)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, progress: BatchProgress) -> None:
        m = processing_metrics(progress)
        filled = int(self.width * m["progress_percent"] / 100)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {describe(progress)}\x1b[K")
        self.stream.flush()


def describe(progress: BatchProgress) -> str:
    """A one-line summary of the progress counters."""
    m = processing_metrics(progress)
    eta = m["estimated_time_remaining"]
    eta_text = "?" if eta is None else f"{eta:.0f}s"
    return (
        f"{m['processed']}/{m['total_files']} files ({m['progress_percent']:.0f}%) "
        f"ok={m['succeeded']} failed={m['failed']} skipped={m['skipped']} "
        f"{m['files_per_second']:.0f} files/s RSS {m['memory_usage_mb']:.0f} MB ETA {eta_text}"
    )


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (checked without importing IPython or ipykernel)."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_available() -> bool:
    """True when ipywidgets can be imported (looked up, not imported)."""
    if "ipywidgets" in sys.modules:
        return sys.modules["ipywidgets"] is not None
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def resolve(
    spec: object, *, stream: TextIO | None = None, memory_threshold_mb: float | None = None
) -> list[Any]:
    """Sinks for a ``progress=`` argument.

    Args:
        spec: None/"none" (silent); "auto" (the widget dashboard inside a Jupyter kernel
            with ipywidgets, else a terminal bar on a terminal and log lines elsewhere);
            "widget", "terminal" or "log"; an object with ``start``/``update``/``stop``;
            or a list or tuple of any of these.
        stream: where terminal output goes (default stderr).
        memory_threshold_mb: the threshold the dashboard's memory gauge shows.

    Raises:
        ConfigError: an unknown name or an object without the sink methods.
        MissingExtraError: "widget" was asked for and ipywidgets is not installed.
    """
    if isinstance(spec, list | tuple):
        return [
            sink
            for item in spec
            for sink in resolve(item, stream=stream, memory_threshold_mb=memory_threshold_mb)
        ]
    if spec is None or spec == "none":
        return []
    if isinstance(spec, str):
        if spec == "auto":
            if in_jupyter() and widgets_available():
                return [_dashboard(memory_threshold_mb)]
            target = stream or sys.stderr
            return [TerminalProgress(target) if _isatty(target) else LogProgress()]
        if spec == "widget":
            return [_dashboard(memory_threshold_mb)]
        if spec == "terminal":
            return [TerminalProgress(stream)]
        if spec == "log":
            return [LogProgress()]
        raise ConfigError.invalid("progress", spec, f"one of {', '.join(PROGRESS_CHOICES)} or a sink object")
    if all(callable(getattr(spec, name, None)) for name in ("start", "update", "stop")):
        return [spec]
    raise ConfigError.invalid("progress", spec, "an object with start(), update() and stop() methods")


def _dashboard(memory_threshold_mb: float | None) -> Any:
    from docbatch.display.widgets import Dashboard

    return Dashboard(memory_threshold_mb)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False
