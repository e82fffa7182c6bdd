"""State folders written by earlier versions: their outcome and timeline Parquet files name
the columns ``n_chunks``, ``slice`` and ``slice_files``; every reader takes them under the
names now (``n_passages``, ``commit``, ``commit_files``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from docbatch import BatchConfig, BatchIngestService
from docbatch.cli import main
from docbatch.display import load_run
from docbatch.frames import FORMER_NAMES, OUTCOMES, TIMELINE
from docbatch.sample import SAMPLE_MAX_FILE_SIZE
from docbatch.sample import SAMPLE_PATTERN as ALL


def _service(tmp_path: Path) -> BatchIngestService:
    config = BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE, chunk_processing_size=4)
    return BatchIngestService(tmp_path / "s.db", config=config)


def _write_former_names(state_dir: Path) -> int:
    """Rename the columns of every Parquet file under ``state_dir`` back to their former
    names; returns how many files had such a column."""
    renamed = 0
    for path in sorted(state_dir.rglob("*.parquet")):
        frame = pl.read_parquet(path)
        names = {new: old for new, old in FORMER_NAMES.items() if new in frame.columns}
        if names:
            frame.rename(names).write_parquet(path)
            renamed += 1
    return renamed


def test_a_run_resumes_and_loads_from_parts_with_the_former_column_names(
    tmp_path: Path, sample_tree: Path
) -> None:
    service = _service(tmp_path)
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=12, progress=None)
    assert first.pending and first.timeline["commit"].to_list() == list(range(first.timeline.height))
    state_dir = tmp_path / "s.state"
    parts = sorted((state_dir / "outcomes").glob("part-*.parquet"))
    assert parts and _write_former_names(state_dir) >= len(parts) + 2  # and outcomes, timeline
    assert {"n_chunks", "slice"} <= set(pl.read_parquet(parts[0]).columns)

    loaded = load_run(state_dir)
    assert loaded.outcomes.schema == pl.Schema(OUTCOMES) and loaded.timeline.schema == pl.Schema(TIMELINE)
    assert loaded.timeline.select("commit", "commit_files").equals(
        first.timeline.select("commit", "commit_files")
    )
    done = first.outcomes.filter(pl.col("n_passages").is_not_null()).select("doc_id", "n_passages", "commit")
    assert done.height and done.join(loaded.outcomes, on="doc_id", how="semi").equals(done)
    assert (
        loaded.outcomes.join(done, on="doc_id")
        .filter(
            (pl.col("n_passages") != pl.col("n_passages_right"))
            | (pl.col("commit") != pl.col("commit_right"))
        )
        .is_empty()
    )

    resumed = service.ingest_batch(sample_tree, pattern=ALL, progress=None)
    assert resumed.run_id == first.run_id and resumed.pending == 0
    carried = resumed.outcomes.join(done, on="doc_id")  # the first call's files, from the old parts
    assert carried.height == done.height
    assert carried["n_passages"].equals(carried["n_passages_right"], check_names=False)
    assert resumed.outcomes.filter(pl.col("status") == "succeeded")["n_passages"].null_count() == 0
    # the timeline holds the first call's commits, read from the old file, then this call's
    assert resumed.timeline.height > first.timeline.height
    assert resumed.timeline.head(first.timeline.height)["commit_files"].equals(first.timeline["commit_files"])
    assert resumed.timeline["commit"].null_count() == 0
    assert service.verify().height == 0

    out = tmp_path / "plots"
    assert main(["report", "--state-dir", str(state_dir), "--plots", str(out), "--db", "s.db"]) == 0
    assert (out / "overview.png").is_file()
