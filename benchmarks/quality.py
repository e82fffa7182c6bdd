"""The RST quality gate (fast reader vs docutils), taken from ``benchmarks.rst_quality``.

That module is optional here: when it cannot be imported the gate is reported as not
available. Its entry point is found by name and called with the corpus path; whatever
it returns is kept, and the heading agreement and token F1 are picked out of it.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENTRY_POINTS = ("quality_gate", "run_gate", "gate", "evaluate", "measure", "run", "compare")
HEADINGS_TARGET = 0.97
F1_TARGET = 0.95


def available() -> bool:
    """Whether ``benchmarks.rst_quality`` can be found."""
    try:
        return importlib.util.find_spec("benchmarks.rst_quality") is not None
    except (ImportError, ValueError):
        return False


def gate(corpus: str, pattern: str) -> dict[str, Any]:
    """Run the gate on the corpus (in a measured child) and summarise it."""
    try:
        module = importlib.import_module("benchmarks.rst_quality")
    except ImportError as exc:
        return {"available": False, "error": f"not available: {exc}"}
    func = next((getattr(module, n) for n in ENTRY_POINTS if callable(getattr(module, n, None))), None)
    if func is None:
        return {"available": False, "error": f"no entry point among {', '.join(ENTRY_POINTS)}"}
    root = Path(corpus)
    target = root / "rst" if (root / "rst").is_dir() else root
    try:
        params = inspect.signature(func).parameters
        kwargs = {"pattern": pattern} if "pattern" in params else {}
        raw = func(str(target), **kwargs) if params else func()
    except Exception as exc:
        return {"available": False, "error": f"{func.__name__} failed: {type(exc).__name__}: {exc}"}
    raw_dict = raw if isinstance(raw, Mapping) else getattr(raw, "__dict__", {"value": str(raw)})
    speed = {
        "fast_files_per_s": (raw_dict.get("fast") or {}).get("files_per_s"),
        "docutils_files_per_s": (raw_dict.get("docutils") or {}).get("files_per_s"),
        "speed_ratio": raw_dict.get("speed_ratio"),
    }
    return {
        "available": True,
        "entry_point": func.__name__,
        **{k: v for k, v in speed.items() if v is not None},
        "target": str(target),
        **summarise(raw_dict),
        "raw": _jsonable(raw_dict),
    }


def summarise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Heading agreement and mean token F1 from a result whose key names vary."""
    flat = _flat(raw)
    headings = _pick(
        flat, ("heading",), ("rate", "share", "agree", "same", "equal", "fraction", "pct", "match", "")
    )
    f1 = _pick(flat, ("f1",), ("mean", "avg", "average", ""))
    files = _pick(flat, ("files", "count"), ("n_files", "files", ""), share=False)
    out: dict[str, Any] = {"headings_same": headings, "token_f1": f1, "files": files}
    if headings is not None and headings > 1.0:
        out["headings_same"] = headings / 100
    if f1 is not None and f1 > 1.0:
        out["token_f1"] = f1 / 100
    out["passes"] = (
        out["headings_same"] is not None
        and out["token_f1"] is not None
        and out["headings_same"] >= HEADINGS_TARGET
        and out["token_f1"] >= F1_TARGET
    )
    return out


def _flat(raw: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}".lower()
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            flat[name] = float(value)
        elif isinstance(value, Mapping):
            flat.update(_flat(value, name + "."))
    return flat


def _pick(
    flat: Mapping[str, float], must: tuple[str, ...], prefer: tuple[str, ...], *, share: bool = True
) -> float | None:
    """The first value whose key holds one of ``must``, trying the ``prefer`` words in order;
    the catch-all ``""`` only takes a share (0..1) when ``share`` is set."""
    keys = [k for k in flat if any(m in k for m in must)]
    for word in prefer:
        for key in keys:
            if word in key and (word or not share or 0.0 <= flat[key] <= 1.0):
                return flat[key]
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value[:50]]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
