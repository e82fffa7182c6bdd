"""The README's Python example runs as written, on the sample its first command writes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## From Python\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert code is not None
    written = subprocess.run(  # as the README's first command does
        [sys.executable, "-m", "docbatch", "sample", "data/sample_docs"], cwd=tmp_path, timeout=120
    )
    assert written.returncode == 0
    run = subprocess.run(
        [sys.executable, "-c", code.group(1)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "succeeded 34, failed 4" in run.stdout
    assert "api/cache.rst" in run.stdout  # the search printed its hits


def test_readme_commands_are_the_ci_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    assert "docbatch sample data/sample_docs --overwrite && " in commands[0]
    assert "docbatch ingest-docs-batch data/sample_docs" in commands[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci
