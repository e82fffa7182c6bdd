from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
        "import sys, docbatch.worker; "
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
