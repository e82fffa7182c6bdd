"""What a reader sees: the quickstart rendered to HTML and opened in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_notebooks"


@pytest.mark.slow
def test_quickstart_renders_with_the_dashboard_and_a_plot(tmp_path: Path) -> None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "01_quickstart.png").stat().st_size > 20_000
    dom = (tmp_path / "01_quickstart.dom.html").read_text(encoding="utf-8")
    assert "progress-bar-success" in dom and "files/s" in dom
