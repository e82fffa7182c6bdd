"""Notebook display: a live ipywidgets dashboard, matplotlib plots and past runs read back.

Importing this package is cheap: ipywidgets and matplotlib are imported only when a
dashboard is built or a plot is drawn, and ``MissingExtraError`` names the extra to
install when they are absent. A past run, in a new kernel::

    from docbatch.display import load_run
    run = load_run("docbatch.state")
    run.plot.throughput()
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from docbatch.display.load import LoadedRun, load_run
from docbatch.display.summary import summary_html
from docbatch.errors import MissingExtraError

if TYPE_CHECKING:
    from docbatch.display.widgets import Dashboard

INSTALL_HINT = "pip install 'docbatch[notebook]'"


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ``MissingExtraError`` saying which extra to install.

    Args:
        module: the module to import (``"ipywidgets"``, ``"matplotlib"``).
        feature: what needs it, for the message (``"the progress dashboard"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs {module.split('.')[0]}, which is not installed: {INSTALL_HINT}",
            name=module,
        ) from exc


def __getattr__(name: str) -> Any:
    if name == "Dashboard":
        from docbatch.display.widgets import Dashboard

        return Dashboard
    if name == "plots":
        return importlib.import_module("docbatch.display.plots")
    raise AttributeError(f"module 'docbatch.display' has no attribute {name!r}")


__all__ = [
    "INSTALL_HINT",
    "Dashboard",
    "LoadedRun",
    "MissingExtraError",
    "load_run",
    "require",
    "summary_html",
]
