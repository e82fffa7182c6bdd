"""The plain path never imports the notebook stack, and a missing extra says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("ipywidgets", "matplotlib", "IPython", "ipykernel")


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_import_and_cli_ingest_load_no_notebook_libraries(tmp_path: Path) -> None:
    out = run_python(
        f"""
        import sys
        import docbatch, docbatch.display, docbatch.display.progress
        from docbatch import cli, sample
        root = sample.write_sample_tree("docs")
        code = cli.main(["ingest-docs-batch", str(root), "--db", "docs.db", "--max-file-size", "200KB"])
        loaded = [name for name in {HEAVY!r} if name in sys.modules]
        print("exit", code, "loaded", loaded)
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "exit 0 loaded []"


def test_missing_ipywidgets_says_which_extra_to_install(tmp_path: Path) -> None:
    out = run_python(
        """
        import sys
        sys.modules["ipywidgets"] = None
        from docbatch.display import MissingExtraError
        from docbatch.display.progress import resolve
        from docbatch.display.widgets import Dashboard
        for attempt in (lambda: resolve("widget"), Dashboard):
            try:
                attempt()
            except ImportError as exc:
                print(type(exc).__name__, isinstance(exc, MissingExtraError), exc)
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("MissingExtraError True ")
        assert "pip install 'docbatch[notebook]'" in line and "ipywidgets" in line


def test_missing_matplotlib_says_which_extra_to_install(tmp_path: Path) -> None:
    out = run_python(
        """
        import sys
        sys.modules["matplotlib"] = None
        from docbatch import BatchIngestService, sample
        from docbatch.display import plots
        root = sample.write_sample_tree("docs")
        result = BatchIngestService("docs.db").ingest_batch(root)
        try:
            plots.throughput(result)
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtraError ")
    assert "matplotlib" in out.stdout and "pip install 'docbatch[notebook]'" in out.stdout
