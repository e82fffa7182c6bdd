"""The label table is saved at the end of each batch and of the run (and after so many
documents' label rows), not after each commit: its every save writes the whole table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from docbatch.state.labels import LabelTable

if TYPE_CHECKING:
    from tests.conftest import MakeService

DOC = """\
Page {n}
========

.. _label-{n}:

Section {n}
-----------

See :ref:`label-{other}`.
"""


def _tree(root: Path, files: int) -> Path:
    root.mkdir()
    for n in range(files):
        (root / f"p{n:02d}.rst").write_text(DOC.format(n=n, other=(n + 1) % files))
    return root


def _count_saves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    saved: list[int] = []
    real = LabelTable.save

    def save(self: LabelTable) -> None:
        saved.append(self.rows.height)
        real(self)

    monkeypatch.setattr(LabelTable, "save", save)
    return saved


@pytest.mark.parametrize(
    ("batch", "rows_per_save", "expected"), [(4, 1000, [4, 8, 10]), (0, 3, [3, 6, 9, 10])]
)
def test_the_label_table_is_saved_per_batch_and_per_so_many_rows(
    make_service: MakeService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
    rows_per_save: int,
    expected: list[int],
) -> None:
    from docbatch.run import runner

    monkeypatch.setattr(runner, "LABEL_ROWS_PER_SAVE", rows_per_save)
    saved = _count_saves(monkeypatch)
    root = _tree(tmp_path / "docs", 10)
    service = make_service(max_batch_size=batch, chunk_processing_size=1, progress_save_interval=1)
    result = service.ingest_batch(root, source="docs", executor="serial")
    assert result.succeeded == 10
    assert saved == expected  # one document a commit: per commit it would be 1, 2, ..., 10
    table = LabelTable.load(service.state_dir, "docs")
    assert sorted(table.rows["doc_id"]) == [f"p{n:02d}.rst" for n in range(10)]
    titles = table.titles()
    assert titles["label-3"] == "Section 3"
    text = "\n".join(service.backend.passages("docs", "p02.rst")["text"])
    assert "See Section 3." in text


def test_a_call_cut_by_its_limit_saves_the_labels_of_what_it_committed(
    make_service: MakeService, tmp_path: Path
) -> None:
    root = _tree(tmp_path / "docs", 6)
    service = make_service(chunk_processing_size=1, progress_save_interval=1)
    first = service.ingest_batch(root, source="docs", executor="serial", limit=4)
    assert first.pending == 2
    done = first.outcomes.filter(pl.col("status") == "succeeded")["doc_id"].sort()
    table = LabelTable.load(service.state_dir, "docs")
    assert table.rows["doc_id"].sort().to_list() == done.to_list()
