"""Imports point one way: a module never imports one of a higher layer (see DESIGN.md).

Every import form is read: ``import docbatch.x``, ``from docbatch.x import y``,
``from docbatch import x`` (a submodule, or a name the package exports: the module that
defines it), relative imports, and imports inside functions (allowed upward only where
``ALLOWED_LAZY`` says why).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import docbatch

SRC = Path(docbatch.__file__).parent

LAYERS = {
    "frames": 0, "errors": 0, "config": 0, "metrics": 0, "sample": 0,
    "retry": 1, "formats": 1, "store": 1,
    "work": 2,
    "plan": 3,
    "state": 4,
    "result": 5, "run": 5, "export": 5,
    "display": 6,
    "service": 7,
    "cli": 8, "integrations": 8,
    "__main__": 9, "__init__": 9,
}  # fmt: skip
"""The layer of each top-level module or package of docbatch."""

ALLOWED_LAZY = {
    # a result renders itself in a notebook and draws its plots, imported on demand
    ("result", "docbatch.display.summary"),
    ("result", "docbatch.display.plots"),
}
"""Upward imports inside a function, each for a reason."""

# names the package defines itself (no import behind them)
PACKAGE_CONSTANTS = {"__version__"}


def _layer_of(module: str) -> float:
    """The layer of ``docbatch.x...`` (an unknown top-level name is an error, not layer 0)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top not in LAYERS:
        raise KeyError(f"{module}: no layer for {top!r}; add it to LAYERS")
    return LAYERS[top]


def _targets(node: ast.AST, package: str) -> list[str]:
    """The docbatch modules an import statement loads (names exported by the package count
    as the module that defines them)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "docbatch"]
    if not isinstance(node, ast.ImportFrom):
        return []
    module = node.module or ""
    if node.level:  # relative: resolve against this module's package
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join([*base, module] if module else base)
    if module != "docbatch":
        return [module] if module.split(".")[0] == "docbatch" else []
    targets = []
    for alias in node.names:
        if (SRC / alias.name).is_dir() or (SRC / f"{alias.name}.py").is_file():
            targets.append(f"docbatch.{alias.name}")
        elif alias.name not in PACKAGE_CONSTANTS:
            value = getattr(docbatch, alias.name)
            targets.append(getattr(value, "__module__", None) or type(value).__module__)
    return targets


def upward_imports(name: str, source: str) -> list[str]:
    """The imports of module ``docbatch.<name>`` (its ``source``) that point upward."""
    layer = _layer_of(f"docbatch.{name}")
    package = f"docbatch.{name}" if name.endswith("__init__") else f"docbatch.{name}".rsplit(".", 1)[0]
    tree = ast.parse(source)
    top_level = {id(node) for node in tree.body}
    offenders = []
    for node in ast.walk(tree):
        for target in _targets(node, package):
            if _layer_of(target) <= layer:
                continue
            if id(node) not in top_level and (name.split(".")[0], target) in ALLOWED_LAZY:
                continue
            offenders.append(f"docbatch.{name} imports {target}")
    return offenders


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(SRC).with_suffix("").parts), p) for p in sorted(SRC.rglob("*.py"))]


def test_imports_point_downward() -> None:
    offenders = [o for name, path in _modules() for o in upward_imports(name, path.read_text())]
    assert offenders == []


@pytest.mark.parametrize(
    "line",
    [
        "from docbatch import cli",
        "import docbatch.service",
        "from docbatch.run.runner import Runner",
        "from docbatch import BatchIngestService",
        "from . import cli",
        "def later():\n    from docbatch.display import widgets",
    ],
)
def test_an_upward_import_in_a_low_module_is_caught(line: str) -> None:
    source = (SRC / "frames.py").read_text() + "\n" + line + "\n"
    assert upward_imports("frames", source) != []


def test_every_module_has_a_layer() -> None:
    for name, _ in _modules():
        _layer_of(f"docbatch.{name}")
