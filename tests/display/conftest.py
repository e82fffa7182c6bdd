"""Fixtures for the display tests: one real run of the sample tree, read by many tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from docbatch import BatchConfig, BatchIngestService, IngestResult, sample

ALL_FORMATS = "*.md,*.rst,*.html,*.txt"


def _ingest(root: Path, folder: Path, **settings: Any) -> IngestResult:  # BatchConfig's fields
    config = BatchConfig(max_file_size=sample.SAMPLE_MAX_FILE_SIZE, **settings)
    with BatchIngestService(folder / "docs.db", config=config) as service:
        return service.ingest_batch(root, ALL_FORMATS, progress=None)


@pytest.fixture
def ingest() -> Callable[..., IngestResult]:
    """``ingest(root, folder, **settings)``: a silent run into ``folder/docs.db``."""
    return _ingest


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> IngestResult:
    """A finished run of the sample tree in slices of 5, with its broken files failing."""
    folder = tmp_path_factory.mktemp("run")
    root = sample.write_sample_tree(folder / "sample_docs")
    return _ingest(root, folder, chunk_processing_size=5)


@pytest.fixture
def agg() -> Iterator[None]:
    """matplotlib on the Agg backend, with every figure closed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
