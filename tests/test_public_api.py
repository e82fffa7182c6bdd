from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import docbatch

SRC = Path(docbatch.__file__).parent

# lower layers never import higher ones (see DESIGN.md)
LAYERS = {
    "frames": 0, "errors": 0, "config": 0, "atomic": 0, "hashing": 0, "filekinds": 0,
    "decoding": 1, "inventory": 1, "formats": 1, "chunking": 1, "store": 1, "checkpoint": 1,
    "lock": 1, "retry": 1, "metrics": 1, "reports": 1, "sample": 1, "fingerprint": 1, "git": 1,
    "planning": 2, "worker": 2, "outcomes": 2, "result": 2, "progress": 2,
    "verify": 3, "runner": 3, "execution": 3, "preparation": 3, "closing": 3.5, "supervisor": 2.5,
    "isolation": 1, "spawning": 1, "folders": 1,
    "service": 4,
    "display": 5, "cli": 5,
    "__main__": 6, "__init__": 6,
}  # fmt: skip


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


def _module_layer(path: Path) -> tuple[str, int]:
    rel = path.relative_to(SRC).with_suffix("")
    top = rel.parts[0]
    return ".".join(rel.parts), LAYERS[top]


# the one upward import: progress="auto" picks the notebook dashboard, imported on demand
ALLOWED_LAZY = {
    ("progress", "docbatch.display.widgets"),
    ("result", "docbatch.display.summary"),
    ("result", "docbatch.display.plots"),
}


def test_imports_point_downward() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        name, layer = _module_layer(path)
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("docbatch."):
                target = node.module.split(".")[1]
                if LAYERS.get(target, 0) <= layer:
                    continue
                if id(node) not in top_level and (name, node.module) in ALLOWED_LAZY:
                    continue
                offenders.append(f"{name} imports {node.module}")
    assert offenders == []


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
