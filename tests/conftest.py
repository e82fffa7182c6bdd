"""Shared fixtures: a clean environment, a fresh sample tree, no real sleeping, and services."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest

from docbatch import BatchConfig, BatchIngestService, sample
from docbatch.formats.base import Parser
from docbatch.store import DocumentStore

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


class MakeService(Protocol):
    """The ``make_service`` fixture's type; a test imports it under ``TYPE_CHECKING``."""

    def __call__(
        self,
        db: str | Path = ...,
        *,
        store: DocumentStore | None = ...,
        parsers: Mapping[str, Parser] | None = ...,
        state_dir: Path | None = ...,
        sleep: Callable[[float], None] | None = ...,
        **settings: Any,
    ) -> BatchIngestService: ...


def _do_not_sleep(seconds: float) -> None:
    """The services' default sleep here: retries back off without waiting."""


@pytest.fixture
def make_service(tmp_path: Path) -> MakeService:
    """Builds a ``BatchIngestService`` on a SQLite file in the test's folder.

    ``make_service(db="s.db", *, store=None, parsers=None, state_dir=None, sleep=None,
    **settings)``: ``db`` is relative to ``tmp_path`` (or absolute);
    ``store`` (an open store) replaces it; ``settings`` are ``BatchConfig`` fields, over
    ``max_file_size=SAMPLE_MAX_FILE_SIZE``, the limit at which the sample tree's oversized
    file fails (pass ``max_file_size=BatchConfig.max_file_size`` for the default);
    ``sleep=None`` backs off without waiting (pass ``no_sleep.append`` to record delays).
    """

    def make(
        db: str | Path = "s.db",
        *,
        store: DocumentStore | None = None,
        parsers: Mapping[str, Parser] | None = None,
        state_dir: Path | None = None,
        sleep: Callable[[float], None] | None = None,
        **settings: Any,  # BatchConfig's fields, each with its own type
    ) -> BatchIngestService:
        config = BatchConfig(**{"max_file_size": sample.SAMPLE_MAX_FILE_SIZE, **settings})
        return BatchIngestService(
            store if store is not None else tmp_path / db,
            ingest_service=parsers,
            config=config,
            state_dir=state_dir,
            sleep=sleep if sleep is not None else _do_not_sleep,
        )

    return make
