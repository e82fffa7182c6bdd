"""Outcome rows: one constructor, and enum columns for status, error category and format."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

import docbatch
from docbatch import BatchIngestService, errors, load_run
from docbatch.formats import EXTENSIONS, ParsedDocument, supported_formats
from docbatch.frames import (
    ERROR_CATEGORIES,
    ERROR_CATEGORY,
    FORMAT,
    FORMATS,
    OUTCOME_STATUS,
    OUTCOME_STATUSES,
    OUTCOMES,
    conform,
)
from docbatch.sample import BAD_FILES
from docbatch.sample import SAMPLE_PATTERN as ALL
from docbatch.state.checkpoint import CheckpointWarning
from docbatch.work.outcomes import WORKER_OUTCOMES, failed_rows
from docbatch.work.worker import SliceResult

if TYPE_CHECKING:
    from tests.conftest import MakeService

SRC = Path(docbatch.__file__).parent
ENUMS = {"status": OUTCOME_STATUS, "error_category": ERROR_CATEGORY, "format": FORMAT}


def _to_text(path: Path) -> None:
    """Rewrite a Parquet file of outcome rows as the previous version wrote it: text columns."""
    frame = pl.read_parquet(path)
    frame.with_columns(pl.col(name).cast(pl.Utf8) for name in ENUMS).write_parquet(path)


# the values --------------------------------------------------------------------------------
def test_the_enum_columns_list_every_value_and_sort_as_text() -> None:
    for name, dtype in ENUMS.items():
        assert OUTCOMES[name] == dtype
        values = list(dtype.categories)
        assert values == sorted(values), name  # a sort by the column is the sort by its text
    assert list(OUTCOME_STATUSES) == ["deleted", "failed", "pending", "skipped", "succeeded"]
    assert FORMATS == supported_formats() and set(EXTENSIONS.values()) <= set(FORMATS)


def _subclasses(cls: type[errors.FileError]) -> list[type[errors.FileError]]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]


def test_every_error_category_in_the_code_is_listed() -> None:
    emitted = {cls.category for cls in _subclasses(errors.FileError) if cls.__module__.startswith("docbatch")}
    pattern = re.compile(
        r"""(?:category["']?\s*[:=]\s*|error_category=|culprits\[[^]]*\]\s*=\s*\(|why = \(\s*)"""
        r"""(?:pl\.lit\()?["']([a-z_]+)["']"""
    )
    typed = re.compile(r"""pl\.lit\(["']([a-z_]+)["'], dtype=ERROR_CATEGORY\)""")
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        emitted |= set(pattern.findall(text)) | set(typed.findall(text))
    # the ones the supervisor, the runner, the preparation and the checkpoint give
    assert {"timeout", "worker_crash", "worker_memory", "exception_after_retries"} <= emitted
    assert {"checkpoint", "pattern", "validation", "processing"} <= emitted
    assert emitted <= set(ERROR_CATEGORIES)


# misspelled values ---------------------------------------------------------------------------
def test_a_value_outside_the_enum_cannot_enter_an_outcome_frame() -> None:
    with pytest.raises(pl.exceptions.InvalidOperationError, match="faild"):
        conform(pl.DataFrame({"doc_id": ["a.md"], "status": ["faild"]}), OUTCOMES)
    with pytest.raises(pl.exceptions.InvalidOperationError, match="proccessing"):
        failed_rows(
            pl.DataFrame(
                {"doc_id": ["a.md"], "path": ["/a.md"], "format": ["markdown"], "size": [1], "mtime_ns": [1]}
            ),
            "proccessing",
            "X",
            "m",
        )
    with pytest.raises(pl.exceptions.InvalidOperationError, match="markdwn"):
        conform(pl.DataFrame({"doc_id": ["a.md"], "format": ["markdwn"]}), OUTCOMES)


def test_a_filter_on_a_misspelled_status_raises(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    result = make_service().ingest_batch(sample_tree, pattern=ALL)
    assert result.outcomes.filter(status="failed").height == len(BAD_FILES)
    for name, dtype in ENUMS.items():
        assert result.outcomes.schema[name] == dtype
    # with the enum itself as the literal's type, a misspelling raises
    with pytest.raises(pl.exceptions.InvalidOperationError, match="faild"):
        result.outcomes.filter(pl.col("status") == pl.lit("faild", dtype=OUTCOME_STATUS))
    with pytest.raises(pl.exceptions.InvalidOperationError, match="faild"):
        result.outcomes.filter(pl.col("status") >= "faild")


@pytest.mark.xfail(
    strict=True,
    raises=pytest.fail.Exception,
    reason="polars (1.44 and 2.1 at least) compares an enum column with a text outside its "
    "categories as 'not equal' instead of raising: filter(status='faild') is an empty frame",
)
def test_a_keyword_filter_on_a_misspelled_status_raises(tmp_path: Path) -> None:
    frame = pl.DataFrame({"status": ["failed"]}, schema={"status": OUTCOME_STATUS})
    with pytest.raises(pl.exceptions.InvalidOperationError):
        frame.filter(status="faild")


# one constructor ---------------------------------------------------------------------------
def test_an_empty_slice_result_has_the_worker_schemas() -> None:
    empty = SliceResult.empty()
    assert empty.outcomes.schema == pl.Schema(WORKER_OUTCOMES)
    assert all(frame.height == 0 for frame in empty.frames())
    assert SliceResult.concat([empty, empty]).outcomes.schema == pl.Schema(WORKER_OUTCOMES)


def test_failed_rows_take_one_value_or_one_per_file() -> None:
    files = pl.DataFrame(
        {
            "doc_id": ["a.md", "b.md"],
            "path": ["/r/a.md", "/r/b.md"],
            "format": ["markdown", None],
            "size": [1, 2],
            "mtime_ns": [3, 4],
            "status": ["new", "changed"],  # the plan's status is replaced
            "known_hash": [None, "h"],
        }
    )
    by_file = {"a.md": "timeout", "b.md": "worker_crash"}
    rows = failed_rows(files, pl.col("doc_id").replace_strict(by_file), "WorkerCrash", "died")
    assert rows.schema == pl.Schema(WORKER_OUTCOMES)
    assert rows.select(
        "doc_id", "format", "status", "error_category", "error_message", "attempts"
    ).rows() == [
        ("a.md", "markdown", "failed", "timeout", "died", 1),
        ("b.md", None, "failed", "worker_crash", "died", 1),
    ]
    assert not rows["retryable"].any() and rows["duration_s"].is_null().all()


def test_only_the_outcomes_module_builds_outcome_rows() -> None:
    """No other module makes a failed row by hand or a slice result from an empty slice."""
    for path in SRC.rglob("*.py"):
        if path.name in ("outcomes.py", "sample.py"):
            continue
        text = path.read_text()
        assert "process_slice(piece.clear()" not in text, path
        assert not re.search(r"""status["']?\s*[:=]\s*(?:pl\.lit\()?["']failed["']""", text), path


# parts and reports of the previous version -----------------------------------------------------
def test_a_run_whose_parts_hold_text_columns_is_resumed(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=4, progress_save_interval=4)
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=12)
    assert first.pending > 0
    parts = sorted((tmp_path / "s.state" / "outcomes").glob("part-*.parquet"))
    for part in parts:
        _to_text(part)
    assert pl.read_parquet(parts[0]).schema["status"] == pl.Utf8
    rest = make_service().ingest_batch(sample_tree, pattern=ALL)  # a new process, say
    assert rest.run_id == first.run_id and rest.pending == 0 and rest.checkpoint_problems == []
    assert rest.outcomes.schema == pl.Schema(OUTCOMES)
    assert set(rest.outcomes.filter(status="failed")["doc_id"]) == set(BAD_FILES)
    carried = rest.outcomes.filter(
        pl.col("doc_id").is_in(first.outcomes.filter(status="succeeded")["doc_id"])
    )
    assert carried["status"].to_list() == ["succeeded"] * carried.height  # not parsed again


def test_a_part_with_a_value_no_longer_known_is_moved_aside(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service(chunk_processing_size=4, progress_save_interval=4)
    first = service.ingest_batch(sample_tree, pattern=ALL, limit=8)
    part = sorted((tmp_path / "s.state" / "outcomes").glob("part-*.parquet"))[0]
    frame = pl.read_parquet(part).with_columns(pl.col(name).cast(pl.Utf8) for name in ENUMS)
    frame.with_columns(error_category=pl.lit("my_own_category")).write_parquet(part)
    with pytest.warns(CheckpointWarning, match=part.name):
        second = service.ingest_batch(sample_tree, pattern=ALL, limit=8)
    assert second.run_id == first.run_id and second.checkpoint_problems[0]["category"] == "checkpoint"


def test_reports_with_enum_or_text_columns_load_and_verify(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    service = make_service()
    result = service.ingest_batch(sample_tree, pattern=ALL)
    report = Path(result.reports["outcomes"])
    assert pl.read_parquet(report).schema["status"] == OUTCOME_STATUS  # written as the enum
    for written in ("enum", "text"):
        if written == "text":
            _to_text(report)
        run = load_run(tmp_path / "s.state")
        assert run.outcomes.schema == pl.Schema(OUTCOMES)
        assert run.failed == len(BAD_FILES) and run.error_summary() == {"validation": len(BAD_FILES)}
        assert service.verify().height == 0
        cli = subprocess.run(
            [sys.executable, "-m", "docbatch", "verify", "--db", str(tmp_path / "s.db")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 0, cli.stdout + cli.stderr


def test_the_performance_report_counts_files_without_a_format(
    tmp_path: Path, sample_tree: Path, make_service: MakeService
) -> None:
    (sample_tree / "notes.xyz").write_text("not a format docbatch knows\n")
    result = make_service().ingest_batch(sample_tree, pattern=ALL + ",*.xyz")
    per_format = json.loads(Path(result.reports["performance"]).read_text())["per_format"]
    assert per_format["unknown"]["failed"] == 1  # a null format is counted as "unknown"
    assert set(per_format) - {"unknown"} <= set(FORMATS)


class _OwnCategory(errors.FileError):
    category = "my_own_category"


def _parser_with_its_own_category(text: str) -> ParsedDocument:
    raise _OwnCategory("this parser refuses the file")


def test_a_parser_error_with_its_own_category_is_a_processing_failure(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\ntext\n")
    service = BatchIngestService(
        tmp_path / "s.db", ingest_service={"markdown": _parser_with_its_own_category}
    )
    result = service.ingest_batch(tmp_path / "docs", pattern="*.md", executor="serial")
    row = result.outcomes.row(0, named=True)
    assert (row["status"], row["error_category"], row["error_type"]) == (
        "failed",
        "processing",
        "_OwnCategory",
    )
    assert row["error_message"] == "this parser refuses the file"
