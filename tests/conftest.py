"""Shared fixtures: a clean environment, a fresh sample tree, and no real sleeping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from docbatch import sample

REPO = Path(__file__).resolve().parents[1]
DEV_CORPUS = REPO.parent / "shared" / "corpora" / "dev"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No BATCH_* variable from the developer's shell, and a private working folder."""
    for name in list(os.environ):
        if name.startswith("BATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    """A fresh copy of the sample documentation tree."""
    return sample.write_sample_tree(tmp_path / "sample_docs")


@pytest.fixture
def no_sleep() -> list[float]:
    """A sleep function that records the delays instead of waiting: pass ``no_sleep.append``."""
    return []
