from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import docbatch

SRC = Path(docbatch.__file__).parent


def test_all_is_sorted_and_complete() -> None:
    assert docbatch.__all__ == sorted(docbatch.__all__)
    for name in docbatch.__all__:
        assert hasattr(docbatch, name), name
    public = {
        n
        for n, v in vars(docbatch).items()
        if not n.startswith("_") and not isinstance(v, type(sys)) and n != "annotations"
    }
    assert public <= set(docbatch.__all__)


def test_seed_names_are_importable() -> None:
    from docbatch import BatchConfig, BatchIngestService, BatchProgress, config, retry  # noqa: F401
    from docbatch.config import BatchConfig as ConfigFromModule
    from docbatch.metrics import BatchProgress as ProgressFromModule
    from docbatch.retry import retry as retry_from_module  # noqa: F401
    from docbatch.service import BatchIngestService as ServiceFromModule

    assert ConfigFromModule is BatchConfig and ProgressFromModule is BatchProgress
    assert ServiceFromModule is BatchIngestService
    assert callable(BatchIngestService.get_processing_metrics)


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "docbatch", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "search" in out.stdout


def test_a_worker_imports_the_parsers_but_not_the_service_store_or_display() -> None:
    code = (
        "import sys, docbatch.work.worker; "
        "print(sorted(m for m in sys.modules if m.startswith('docbatch.') and "
        "m.split('.')[1] in ('service', 'store', 'display', 'runner', 'cli')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_version_is_the_installed_distributions() -> None:
    from importlib import metadata

    assert docbatch.__version__ == metadata.version("docbatch")  # fingerprints record it


def _is_exception_class(name: str) -> bool:
    import builtins

    from docbatch import errors

    found = getattr(builtins, name, None) or getattr(errors, name, None)
    return isinstance(found, type) and issubclass(found, BaseException)


# a signal inside the worker's read, caught there and never raised out of a slice
INTERNAL_EXCEPTIONS: set[str] = set()


def test_every_exception_class_is_defined_in_errors() -> None:
    elsewhere = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                if any(_is_exception_class(base) for base in bases):
                    elsewhere.append(f"{path.relative_to(SRC)}: {node.name}")
    assert set(elsewhere) <= INTERNAL_EXCEPTIONS


def test_moved_exceptions_keep_their_old_import_paths() -> None:
    from docbatch import errors
    from docbatch.plan.git import GitError
    from docbatch.result import IngestFailures
    from docbatch.state.checkpoint import CheckpointWarning

    assert (CheckpointWarning, GitError, IngestFailures) == (
        errors.CheckpointWarning,
        errors.GitError,
        errors.IngestFailures,
    )
    assert docbatch.IngestFailures is IngestFailures
    assert issubclass(GitError, errors.RunError) and issubclass(CheckpointWarning, UserWarning)


def test_failed_files_raise_a_docbatch_error(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Good\n\nwords\n")
    (docs / "empty.md").write_text("")
    with docbatch.BatchIngestService(tmp_path / "s.db") as service:
        result = service.ingest_batch(docs)
    assert result.failed == 1
    with pytest.raises(docbatch.DocbatchError, match="1 files failed: empty.md") as info:
        result.raise_on_failures()
    assert type(info.value) is docbatch.IngestFailures


@pytest.mark.parametrize(
    ("fmt", "engine", "message"),
    [("pdf", "fast", "supported formats are html, markdown, rst, text"), ("rst", "sphinx", "fast, docutils")],
)
def test_get_parser_raises_a_config_error_that_is_still_a_value_error(
    fmt: str, engine: str, message: str
) -> None:
    from docbatch.errors import ConfigError, FormatError
    from docbatch.formats import get_parser

    with pytest.raises(FormatError, match=message) as info:
        get_parser(fmt, rst_engine=engine)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
