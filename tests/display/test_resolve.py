from __future__ import annotations

import io
import sys
import types
from typing import Any

import pytest

from docbatch.display.progress import LogProgress, TqdmProgress, in_jupyter, resolve
from docbatch.errors import ConfigError


class Sink:
    def start(self, progress: Any) -> None: ...

    def update(self, progress: Any, commit_row: dict[str, Any]) -> None: ...

    def stop(self, progress: Any) -> None: ...


class Shell:
    kernel = object()


@pytest.fixture
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the process look like a Jupyter kernel: ipykernel loaded, a shell with a kernel."""
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = Shell  # type: ignore[attr-defined]
    ipykernel = types.ModuleType("ipykernel")
    ipykernel.version_info = (7, 0, 0)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipykernel", ipykernel)
    monkeypatch.setitem(sys.modules, "IPython", ipython)


def test_auto_outside_jupyter_is_the_terminal_or_the_log() -> None:
    assert not in_jupyter()
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    assert [type(s) for s in resolve("auto", stream=tty)] == [TqdmProgress]
    assert [type(s) for s in resolve("auto", stream=io.StringIO())] == [LogProgress]


@pytest.fixture
def widgets() -> None:
    """ipywidgets imported for real (before any fake kernel), or the test skipped."""
    pytest.importorskip("ipywidgets")


def test_auto_inside_a_kernel_is_the_dashboard(widgets: None, fake_kernel: None) -> None:
    from docbatch.display.widgets import Dashboard

    assert in_jupyter()
    (sink,) = resolve("auto", memory_threshold_mb=300)
    assert isinstance(sink, Dashboard) and sink.memory_threshold_mb == 300
    sink.close()


def test_auto_inside_a_kernel_without_ipywidgets_falls_back(
    fake_kernel: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    # a text bar the notebook redraws in place, not nothing and not log lines
    assert [type(s) for s in resolve("auto", stream=io.StringIO())] == [TqdmProgress]


def test_widget_by_name(widgets: None) -> None:
    from docbatch.display.widgets import Dashboard

    (sink,) = resolve("widget")
    assert isinstance(sink, Dashboard)
    sink.close()


def test_none_objects_and_lists() -> None:
    sink = Sink()
    assert resolve(None) == [] and resolve("none") == []
    assert resolve(sink) == [sink]
    assert [type(s) for s in resolve(["log", sink, None])] == [LogProgress, Sink]


def test_bad_values_name_the_choices() -> None:
    with pytest.raises(ConfigError, match="widget") as raised:
        resolve("widgets")
    for choice in ('"auto"', '"tqdm"', '"terminal"', '"log"', '"widget"', '"none"', "None", "start()"):
        assert choice in str(raised.value)
    assert "rich" not in str(raised.value)
    with pytest.raises(ConfigError, match="start"):
        resolve(object())
