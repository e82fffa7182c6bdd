"""A user's own script gets the process pool, however it is run.

Each test runs a real interpreter on a tree large enough for the pool (``auto`` takes it
from 200 files): a script without ``if __name__ == "__main__":``, the same script on
stdin and with ``python -c``, and a Jupyter kernel. Worker processes must never run the
script; when workers cannot start at all the run either parses in the driver (``auto``)
or stops with one clear error that a later run resumes from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

FILES = 240
SCRIPT = """\
import json, logging
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
from docbatch import BatchIngestService
result = BatchIngestService("docs.db").ingest_batch("corpus", pattern="*.md")
print("RESULT " + json.dumps({"succeeded": result.succeeded, "failed": result.failed,
                              "errors": result.error_summary()}))
"""
POOL_USED = "worker processes"
MULTI_CPU = (os.cpu_count() or 1) > 1


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for i in range(FILES):
        folder = root / f"part{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page{i}.md").write_text(f"# Page {i}\n\nText about widget number {i}.\n")
    return root


def _run(
    args: list[str], cwd: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def _result(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result line; stderr:\n{proc.stderr[-3000:]}"
    return dict(json.loads(lines[-1].removeprefix("RESULT ")))


def _check_clean_run(proc: subprocess.CompletedProcess[str], runs_of_script: int = 1) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _result(proc) == {"succeeded": FILES, "failed": 0, "errors": {}}
    assert "Traceback" not in proc.stderr
    # the script ran once: in the driver, never again in a worker
    assert proc.stdout.count("RESULT ") == runs_of_script
    if MULTI_CPU:
        assert POOL_USED in proc.stderr


@pytest.mark.slow
def test_a_script_without_a_main_guard_gets_the_pool(corpus: Path) -> None:
    script = corpus.parent / "ingest_docs.py"
    script.write_text(SCRIPT)
    _check_clean_run(_run([str(script)], corpus.parent))


@pytest.mark.slow
def test_a_script_on_stdin_gets_the_pool(corpus: Path) -> None:
    _check_clean_run(_run(["-"], corpus.parent, stdin=SCRIPT))


@pytest.mark.slow
def test_python_dash_c_gets_the_pool(corpus: Path) -> None:
    _check_clean_run(_run(["-c", SCRIPT], corpus.parent))


@pytest.mark.slow
def test_a_parser_defined_in_the_script_is_run_in_the_driver_with_one_warning(corpus: Path) -> None:
    script = SCRIPT.replace(
        'BatchIngestService("docs.db")',
        'BatchIngestService("docs.db", ingest_service={"markdown": shout})',
    ).replace(
        "from docbatch import BatchIngestService",
        "from docbatch import BatchIngestService\n"
        "from docbatch.formats.markdown import parse as parse_markdown\n"
        "def shout(text):\n"
        "    return parse_markdown(text.upper())\n",
    )
    proc = _run(["-"], corpus.parent, stdin=script)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _result(proc) == {"succeeded": FILES, "failed": 0, "errors": {}}
    assert proc.stderr.count("defined in __main__") == 1
    assert "parsing 240 files in this process" in proc.stderr


@pytest.mark.slow
def test_an_application_embedding_python_gets_the_pool(corpus: Path) -> None:
    # in an application that embeds Python, sys.executable is the application itself
    embedded = "import sys\nsys.executable = '/usr/bin/env'\n" + SCRIPT
    proc = _run(["-"], corpus.parent, stdin=embedded)
    _check_clean_run(proc)
    assert "/usr/bin/env is not a Python interpreter; worker processes run" in proc.stderr


@pytest.mark.slow
def test_a_parser_defined_in_the_script_stays_in_the_driver_when_a_time_limit_is_set(corpus: Path) -> None:
    # a limit moves parsing into a supervised worker, which cannot import the script's parser
    script = (
        SCRIPT.replace(
            'BatchIngestService("docs.db")',
            'BatchIngestService("docs.db", config=BatchConfig(file_timeout_s=30), '
            'ingest_service={"markdown": shout})',
        )
        .replace(
            "from docbatch import BatchIngestService",
            "from docbatch import BatchConfig, BatchIngestService\n"
            "from docbatch.formats.markdown import parse as parse_markdown\n"
            "def shout(text):\n"
            "    return parse_markdown(text.upper())\n",
        )
        .replace('pattern="*.md")', 'pattern="part0/*.md")')
    )
    proc = _run(["-"], corpus.parent, stdin=script)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _result(proc) == {"succeeded": FILES // 4, "failed": 0, "errors": {}}
    assert "in this process" in proc.stderr and "Traceback" not in proc.stderr


def _workers_die_at_start(tmp_path: Path) -> str:
    """A ``sitecustomize`` that makes every worker process exit as it starts (as a broken
    environment would), leaving the driver alone."""
    site = tmp_path / "broken_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, sys\nif '--multiprocessing-fork' in sys.argv:\n    os._exit(7)\n"
    )
    return str(site)


def test_a_pool_whose_workers_die_while_it_starts_is_reported_not_raised(tmp_path: Path) -> None:
    # the workers die while the pool is still starting the rest: making the pool must not
    # raise (the pool is broken before it is returned), and the check names the cause
    probe = (
        "from docbatch.run.execution import process_pool\n"
        "from docbatch.run.spawning import start_problem\n"
        "for _ in range(3):\n"
        "    print('PROBLEM', start_problem(process_pool(12)))\n"
    )
    proc = _run(["-c", probe], tmp_path, PYTHONPATH=_workers_die_at_start(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    problems = [line for line in proc.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3
    assert all("exit as soon as they start (exit status 7)" in line for line in problems)
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_workers_that_cannot_start_make_auto_parse_in_the_driver(corpus: Path, tmp_path: Path) -> None:
    if not MULTI_CPU:
        pytest.skip("auto uses no pool on one CPU")
    proc = _run(["-"], corpus.parent, stdin=SCRIPT, PYTHONPATH=_workers_die_at_start(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _result(proc) == {"succeeded": FILES, "failed": 0, "errors": {}}
    warnings = [line for line in proc.stderr.splitlines() if "cannot start" in line]
    assert len(warnings) == 1 and "in this process" in warnings[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_workers_that_cannot_start_stop_a_process_run_with_one_error_and_it_resumes(
    corpus: Path, tmp_path: Path
) -> None:
    cli = ["-m", "docbatch", "ingest-docs-batch", "corpus", "--pattern", "*.md", "--db", "docs.db"]
    broken = _run([*cli, "--executor", "process"], corpus.parent, PYTHONPATH=_workers_die_at_start(tmp_path))
    assert broken.returncode == 3, broken.stderr[-3000:]
    errors = [line for line in broken.stderr.splitlines() if line.startswith("docbatch: error:")]
    assert len(errors) == 1 and "worker processes cannot start" in errors[0]
    assert "Traceback" not in broken.stderr
    # no file was blamed for it
    ledger = corpus.parent / "docs.state"
    parts = list((ledger / "outcomes").glob("*.parquet")) if (ledger / "outcomes").exists() else []
    rows = (
        pl.concat([pl.read_parquet(p) for p in parts]) if parts else pl.DataFrame(schema={"status": pl.Utf8})
    )
    assert (rows["status"] == "failed").sum() == 0

    fixed = _run([*cli, "--executor", "process", "--json"], corpus.parent)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    summary = json.loads(fixed.stdout)
    assert (summary["succeeded"], summary["failed"], summary["pending"]) == (FILES, 0, 0)


@pytest.mark.slow
def test_a_jupyter_kernel_gets_the_pool(corpus: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(SCRIPT.replace('format="%(levelname)s %(message)s"', "force=True"))
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(corpus.parent)}}
    )
    client.execute()
    outputs = notebook.cells[0].outputs
    text = "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
    result_lines = [line for line in text.splitlines() if line.startswith("RESULT ")]
    assert len(result_lines) == 1, text[-3000:]
    assert json.loads(result_lines[0].removeprefix("RESULT ")) == {
        "succeeded": FILES,
        "failed": 0,
        "errors": {},
    }
    if MULTI_CPU:
        assert POOL_USED in text
