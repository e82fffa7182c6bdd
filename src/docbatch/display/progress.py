"""Progress sinks for terminals and logs, and choosing one by name.

A sink has three methods, ``start``, ``update`` and ``stop`` (see
``docbatch.run.runner.ProgressSink``); the runner calls them from its own loop.
``resolve("auto")`` picks the ipywidgets dashboard (``docbatch.display.widgets``,
imported only then) inside a Jupyter kernel, tqdm's text bar in a kernel without
ipywidgets and on a terminal, and log lines elsewhere (pipes, CI, cron).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
from typing import Any, TextIO

from tqdm.std import tqdm

from docbatch.errors import ConfigError
from docbatch.metrics import BatchProgress, format_rate, processing_metrics

log = logging.getLogger("docbatch")

PROGRESS_CHOICES = ("auto", "tqdm", "terminal", "log", "widget", "none")
"""The names ``progress=`` takes ("terminal" is "tqdm"), besides None and a sink object."""


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

    def update(self, progress: BatchProgress, commit_row: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self.logger.info("%s", describe(progress))

    def stop(self, progress: BatchProgress) -> None:
        self.logger.info("%s", describe(progress))


class _Bar(tqdm):  # type: ignore[misc]  # tqdm has no type information here
    monitor_interval = 0  # no monitor thread: the run redraws the bar after every commit


class TqdmProgress:
    """A tqdm bar redrawn in place, never wider than the terminal (it follows resizes).

    It shows percent, files done of the run's total, the run's files/s
    (``docbatch.metrics.files_per_second``, as every other display), the ETA, failures
    and memory, dropping the last of these when the terminal is narrow. After a stop
    (Ctrl-C, ``limit``) its last frame says "stopped" and how many files are pending.
    While it is shown, log records of the console handlers are written above it.

    Args:
        stream: where the bar goes (default stderr).
        ncols: a fixed width; default the terminal's, or 80 when the stream has none.
        mininterval: at most one redraw per this many seconds (the last frame is always drawn).
    """

    MIN_BAR = 6

    def __init__(
        self, stream: TextIO | None = None, *, ncols: int | None = None, mininterval: float = 0.1
    ) -> None:
        self.stream = stream or sys.stderr
        self.ncols = ncols
        self.mininterval = mininterval
        self._bar: Any = None
        self._redirect: Any = None

    def start(self, progress: BatchProgress) -> None:
        self.close()
        m = processing_metrics(progress)
        width = self._width()
        self._bar = _Bar(
            total=m["total_files"],
            initial=m["processed"],
            file=self.stream,
            ncols=width,
            dynamic_ncols=self.ncols is None and _terminal_width(self.stream) is not None,
            mininterval=self.mininterval,
            bar_format=BAR_FORMAT,
            leave=True,
            unit="files",
            postfix=self._postfix(m, width),
        )
        loggers = [lg for lg in (logging.getLogger(), log) if any(map(_to_console, lg.handlers))]
        if loggers and _isatty(self.stream):
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._redirect = logging_redirect_tqdm(loggers, tqdm_class=_Bar)
            self._redirect.__enter__()

    def update(self, progress: BatchProgress, commit_row: dict[str, Any]) -> None:
        if self._bar is None:
            self.start(progress)
        m = processing_metrics(progress)
        bar = self._bar
        bar.total = m["total_files"]
        bar.set_postfix_str(self._postfix(m, self._width()), refresh=False)
        bar.update(m["processed"] - bar.n)

    def stop(self, progress: BatchProgress) -> None:
        if self._bar is None:
            self.start(progress)
        m = processing_metrics(progress)
        bar = self._bar
        bar.total = m["total_files"]
        bar.n = m["processed"]
        bar.set_postfix_str(self._postfix(m, self._width(), final=True), refresh=False)
        bar.refresh()
        self.close()

    def close(self) -> None:
        """Leave the bar's last frame on screen and stop redirecting log records."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._redirect is not None:
            self._redirect.__exit__(None, None, None)
            self._redirect = None

    def _width(self) -> int:
        return self.ncols or _terminal_width(self.stream) or 80

    def _postfix(self, m: dict[str, Any], width: int, final: bool = False) -> str:
        total = m["total_files"]
        head = len(f"100%||{total}/{total}, ") + self.MIN_BAR
        pieces = [format_rate(m["files_per_second"])]
        left = m["pending"]
        if final and left:
            pieces.append(f"stopped, {left:,} pending")
        elif final:
            pieces.append(f"done in {_seconds(m['elapsed_s'])}")
        else:
            pieces.append(f"ETA {_seconds(m['estimated_time_remaining'])}")
        if m["failed"]:
            pieces.append(f"{m['failed']:,} failed")
        pieces.append(f"RSS {m['memory_usage_mb']:,.0f} MB")
        text = pieces[0]
        for piece in pieces[1:]:
            if head + len(text) + 2 + len(piece) > width:
                break
            text += ", " + piece
        return text


BAR_FORMAT = "{percentage:3.0f}%|{bar}| {n}/{total}{postfix}"


def describe(progress: BatchProgress) -> str:
    """A one-line summary of the progress counters."""
    m = processing_metrics(progress)
    if m["pending"] and progress.finished:
        state = f"stopped, {m['pending']} pending"
    elif progress.finished:
        state = "done"
    else:
        state = f"ETA {_seconds(m['estimated_time_remaining'])}"
    return (
        f"{m['processed']}/{m['total_files']} files ({m['progress_percent']:.0f}%) "
        f"ok={m['succeeded']} failed={m['failed']} skipped={m['skipped']} "
        f"{format_rate(m['files_per_second'])} RSS {m['memory_usage_mb']:.0f} MB {state}"
    )


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 10:
        return "<0.1s" if 0 < seconds < 0.05 else f"{seconds:.1f}s"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _to_console(handler: logging.Handler) -> bool:
    """True for a handler that writes on stdout or stderr (where the bar is)."""
    stream = getattr(handler, "stream", None)
    return isinstance(handler, logging.StreamHandler) and stream in (sys.stdout, sys.stderr)


def _terminal_width(stream: TextIO) -> int | None:
    """The width of the terminal ``stream`` writes to, or None when it is not a terminal."""
    if not _isatty(stream):
        return None
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError, AttributeError):
        return None


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
            with ipywidgets, tqdm's text bar inside one without them and on a terminal,
            log lines elsewhere); "tqdm" (or "terminal"), "log" or "widget"; an object
            with ``start``/``update``/``stop``; or a list or tuple of any of these.
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
            if in_jupyter():
                if widgets_available():
                    return [_dashboard(memory_threshold_mb)]
                return [TqdmProgress(stream)]  # the notebook shows the text bar in place
            target = stream or sys.stderr
            return [TqdmProgress(target) if _isatty(target) else LogProgress()]
        if spec == "widget":
            return [_dashboard(memory_threshold_mb)]
        if spec in ("tqdm", "terminal"):
            return [TqdmProgress(stream)]
        if spec == "log":
            return [LogProgress()]
    if isinstance(spec, str) or not all(
        callable(getattr(spec, m, None)) for m in ("start", "update", "stop")
    ):
        raise ConfigError.invalid("progress", spec, CHOICES_TEXT)
    return [spec]


CHOICES_TEXT = (
    'one of "auto", "tqdm" (or "terminal"), "log", "widget", "none" or None, '
    "or an object with start(), update() and stop() methods"
)


def _dashboard(memory_threshold_mb: float | None) -> Any:
    from docbatch.display.widgets import Dashboard

    return Dashboard(memory_threshold_mb)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if callable(isatty) else False
