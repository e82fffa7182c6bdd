"""The labels of a call's files are found before they are parsed on the executor that parses
them (a task a slice of files), not in the driver: with a pool of processes, with a
caller's threads, and, when a task fails there, in the driver after all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch.work import label_scan
from docbatch.work.worker import ParseOptions

if TYPE_CHECKING:
    from tests.conftest import MakeService

REFERRING = """\
Page {n}
========

See :ref:`later-label`.
"""
LATER = """\
Zeta
====

.. _later-label:

A Later Section
---------------

Text.
"""


def _tree(root: Path, files: int = 6) -> Path:
    root.mkdir()
    for n in range(files):
        (root / f"p{n}.rst").write_text(REFERRING.format(n=n))
    (root / "z.rst").write_text(LATER)
    return root


class Recording(ThreadPoolExecutor):
    """A caller's threads, recording the functions submitted; ``fail_scans``: each scan task
    fails."""

    def __init__(self, fail_scans: bool = False) -> None:
        super().__init__(2)
        self.fail_scans = fail_scans
        self.submitted: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted.append(fn.__name__)
        if self.fail_scans and fn is label_scan.scan_slice:
            failed: Future[Any] = Future()
            failed.set_exception(RuntimeError("the worker died"))
            return failed
        return super().submit(fn, *args, **kwargs)


def _parsed_again(caplog: pytest.LogCaptureFixture) -> bool:
    return any("parsing" in r.getMessage() and "again" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("fail_scans", [False, True])
def test_the_scan_runs_on_a_callers_executor_before_any_slice_is_parsed(
    make_service: MakeService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fail_scans: bool,
) -> None:
    monkeypatch.setattr(label_scan, "SCAN_SLICE_FILES", 2)
    in_driver: list[int] = []
    real = label_scan.scan_slice

    def scan_slice(files: pl.DataFrame, options: ParseOptions) -> pl.DataFrame:
        if threading.current_thread() is threading.main_thread():
            in_driver.append(files.height)
        return real(files, options)

    monkeypatch.setattr(label_scan, "scan_slice", scan_slice)
    service = make_service()
    service.config.chunk_processing_size = 2
    root = _tree(tmp_path / "docs")
    with Recording(fail_scans) as pool, caplog.at_level(logging.INFO, logger="docbatch"):
        result = service.ingest_batch(root, source="docs", executor=pool)
    assert set(result.outcomes["status"]) == {"succeeded"}
    scans = [name for name in pool.submitted if name == "scan_slice"]
    assert len(scans) == 4 and pool.submitted[:4] == scans  # every scan before any slice
    assert sum(in_driver) == (7 if fail_scans else 0)
    assert not _parsed_again(caplog)
    text = "\n".join(service.backend.passages("docs", "p0.rst")["text"])
    assert "See A Later Section." in text


def test_a_pool_of_processes_finds_the_labels(
    make_service: MakeService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service()
    service.config.chunk_processing_size = 2
    root = _tree(tmp_path / "docs")
    with caplog.at_level(logging.INFO, logger="docbatch"):
        result = service.ingest_batch(root, source="docs", executor="process", workers=2)
    assert set(result.outcomes["status"]) == {"succeeded"}
    assert not _parsed_again(caplog)
    assert "See A Later Section." in "\n".join(service.backend.passages("docs", "p5.rst")["text"])


def test_the_scan_reads_the_plan_a_few_rows_at_a_time_and_misses_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files to scan are read from the plan a bounded number of rows at a time, and
    handed out a task's worth at a time: whatever those sizes, every file that defines or
    names a label has its row, in the plan's order, and no task holds more files."""
    root = _tree(tmp_path / "docs", files=7)
    (root / "x.md").write_text("# not rst\n")
    names = sorted(p.name for p in root.iterdir())
    plan = pl.DataFrame(
        {
            "doc_id": names,
            "path": [str(root / n) for n in names],
            "format": ["markdown" if n.endswith(".md") else "rst" for n in names],
        }
    )
    whole = label_scan.scan_files(plan, ParseOptions())
    assert whole["doc_id"].to_list() == [n for n in names if n.endswith(".rst")]
    tasks: list[int] = []
    real = label_scan.scan_slice

    def counted(files: pl.DataFrame, options: ParseOptions) -> pl.DataFrame:
        tasks.append(files.height)
        return real(files, options)

    monkeypatch.setattr(label_scan, "scan_slice", counted)
    monkeypatch.setattr(label_scan, "PLAN_ROWS_READ", 3)
    monkeypatch.setattr(label_scan, "SCAN_SLICE_FILES", 2)
    assert label_scan.scan_files(plan, ParseOptions()).equals(whole)
    assert sum(tasks) == 8 and max(tasks) <= 2


def test_ctrl_c_during_the_scan_stops_it_and_the_next_call_scans_and_parses_all(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan of a large tree takes a while before the first slice is parsed: Ctrl-C
    there stops the call at the scan's next slice, not once every file was scanned."""
    import os
    import signal

    root = _tree(tmp_path / "docs", files=20)
    monkeypatch.setattr(label_scan, "SCAN_SLICE_FILES", 1)
    real = label_scan.scan_slice
    scanned: list[int] = []

    def scan_then_press_ctrl_c(files: pl.DataFrame, options: ParseOptions) -> pl.DataFrame:
        scanned.append(files.height)
        if len(scanned) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return real(files, options)

    monkeypatch.setattr(label_scan, "scan_slice", scan_then_press_ctrl_c)
    service = make_service()
    first = service.ingest_batch(root, source="docs", executor="serial")
    assert first.interrupted and first.succeeded == 0 and first.pending == 21
    assert len(scanned) <= 3  # not the 21 files
    monkeypatch.setattr(label_scan, "scan_slice", real)
    second = service.ingest_batch(root, source="docs", executor="serial")
    assert second.complete and second.succeeded == 21 and second.run_id == first.run_id
    page = service.search("A Later Section", limit=1, source="docs")
    assert page.height == 1
