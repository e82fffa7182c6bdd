"""The label rows of a run are added to the label table at the end of each batch and of the
run (and after so many documents' rows), not after each commit, and each time as a part
holding only those rows: writing the whole table each time made a run's work grow with
the square of its files."""

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


def _count_adds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    added: list[int] = []
    real = LabelTable.add

    def add(self: LabelTable, rows: pl.DataFrame) -> None:
        added.append(rows.height)
        real(self, rows)

    monkeypatch.setattr(LabelTable, "add", add)
    return added


@pytest.mark.parametrize(("batch", "rows_per_save", "expected"), [(4, 1000, [4, 4, 2]), (0, 3, [3, 3, 3, 1])])
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
    added = _count_adds(monkeypatch)
    root = _tree(tmp_path / "docs", 10)
    service = make_service(max_batch_size=batch, chunk_processing_size=1, progress_save_interval=1)
    result = service.ingest_batch(root, source="docs", executor="serial")
    assert result.succeeded == 10
    assert added == expected  # one document a commit: per commit it would be ten parts of 1
    assert list((service.state_dir / "labels" / "docs.parquet.parts").iterdir()) == []  # merged at the end
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


def test_parts_a_stopped_call_left_are_read_and_merged_into_the_file_once_they_are_many(
    make_service: MakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbatch.state import labels

    monkeypatch.setattr(labels, "COMPACT_AFTER_PARTS", 3)
    root = _tree(tmp_path / "docs", 6)
    service = make_service(max_batch_size=1, chunk_processing_size=1, progress_save_interval=1)
    with monkeypatch.context() as killed:  # as if stopped before its end, where they are merged
        killed.setattr(labels.LabelTable, "compact", lambda self: None)
        assert service.ingest_batch(root, source="docs", executor="serial").succeeded == 6
    parts = service.state_dir / "labels" / "docs.parquet.parts"
    assert len(list(parts.iterdir())) == 6  # one a batch
    table = LabelTable.load(service.state_dir, "docs")  # more than 3: merged
    assert list(parts.iterdir()) == [] and (service.state_dir / "labels" / "docs.parquet").is_file()
    assert sorted(table.rows["doc_id"]) == [f"p{n:02d}.rst" for n in range(6)]
    (root / "p03.rst").write_text(DOC.format(n=3, other=4).replace("Section 3", "Part three"))
    assert service.ingest_batch(root, source="docs", executor="serial").succeeded >= 1
    again = LabelTable.load(service.state_dir, "docs")
    assert again.titles()["label-3"] == "Part three" and again.rows.height == 6
    text = "\n".join(service.backend.passages("docs", "p02.rst")["text"])
    assert "See Part three." in text
