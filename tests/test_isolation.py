"""A parser that hangs or kills its process costs one outcome row, never the run."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from docbatch import BatchConfig, BatchIngestService, IngestResult
from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import Parser
from docbatch.sample import write_sample_tree

MARKDOWN = get_parser("markdown")


def hangs_in_python(text: str) -> ParsedDocument:
    if "quokka" in text:
        time.sleep(60)
    return MARKDOWN(text)


def hangs_where_alarms_cannot_reach(text: str) -> ParsedDocument:
    if "quokka" in text:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # like a parser stuck in C
        time.sleep(60)
    return MARKDOWN(text)


def kills_its_process(text: str) -> ParsedDocument:
    if "quokka" in text:
        os.kill(os.getpid(), signal.SIGKILL)
    return MARKDOWN(text)


def _tree(tmp_path: Path, copies: int) -> Path:
    root = tmp_path / "docs"
    for i in range(copies):
        write_sample_tree(root / f"copy{i}")
    return root


def _run(
    tmp_path: Path, root: Path, parser: Parser, executor: str, **config: object
) -> tuple[BatchIngestService, IngestResult, float]:
    cfg = BatchConfig(chunk_processing_size=8, **config)  # type: ignore[arg-type]
    service = BatchIngestService(tmp_path / "s.db", config=cfg, ingest_service={"markdown": parser})
    started = time.monotonic()
    result = service.ingest_batch(root, "*.md", executor=executor, workers=2)
    return service, result, time.monotonic() - started


def test_a_hanging_parser_times_out_in_process(tmp_path: Path) -> None:
    root = _tree(tmp_path, 1)
    service, result, elapsed = _run(tmp_path, root, hangs_in_python, "serial", file_timeout_s=0.5)
    failed = result.outcomes.filter(status="failed", error_category="timeout")
    assert failed["doc_id"].to_list() == ["copy0/guides/troubleshooting.md"]
    assert failed["error_type"][0] == "FileTimeout" and failed["attempts"][0] == 1
    assert elapsed < 20
    good = result.outcomes.filter(status="succeeded").height
    assert good == result.total_files - result.skipped - 1 - 3  # skipped: the hidden folders


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["process", "serial", "auto"])
def test_a_worker_stuck_past_the_alarm_is_killed_and_replaced(tmp_path: Path, executor: str) -> None:
    # serial and auto (fewer files than a pool is for) parse in one supervised worker when a
    # limit is set: the driver could not interrupt a parser stuck in C code
    root = _tree(tmp_path, 3)
    service, result, elapsed = _run(
        tmp_path, root, hangs_where_alarms_cannot_reach, executor, file_timeout_s=1.0
    )
    failed = result.outcomes.filter(error_category="timeout")
    assert sorted(failed["doc_id"]) == [f"copy{i}/guides/troubleshooting.md" for i in range(3)]
    assert set(failed["error_type"]) == {"FileTimeout"}
    good = result.outcomes.filter(status="succeeded")
    assert good.height == result.total_files - result.skipped - 3 - 3 * 3  # hangs, broken, hidden
    assert service.backend.counts()["documents"] == good.height
    assert elapsed < 60


@pytest.mark.slow
def test_a_crashing_worker_costs_one_row(tmp_path: Path) -> None:
    root = _tree(tmp_path, 3)
    service, result, _ = _run(tmp_path, root, kills_its_process, "process")
    crashed = result.outcomes.filter(error_category="worker_crash")
    assert sorted(crashed["doc_id"]) == [f"copy{i}/guides/troubleshooting.md" for i in range(3)]
    assert set(crashed["error_type"]) == {"WorkerCrash"}
    good = result.outcomes.filter(status="succeeded")
    assert good.height == result.total_files - result.skipped - 3 - 3 * 3
    assert result.outcomes["doc_id"].is_unique().all()
    assert service.backend.counts()["documents"] == good.height


def records_its_pid(text: str) -> ParsedDocument:
    Path(os.environ["PID_DIR"], str(os.getpid())).touch()
    return MARKDOWN(text)


@pytest.mark.slow
def test_workers_are_recycled_after_worker_max_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path, 3)
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("PID_DIR", str(pids))
    _, result, _ = _run(tmp_path, root, records_its_pid, "process", worker_max_files=8)
    slices = result.timeline.height
    assert slices >= 5 and len(list(pids.iterdir())) >= slices  # a fresh worker for every slice
    assert result.outcomes.filter(status="succeeded").height == result.total_files - result.skipped - 9


def balloons(text: str) -> ParsedDocument:
    if "quokka" in text:
        hog = [bytearray(1024 * 1024) for _ in range(3000)]  # 3 GB, slowly enough to be seen
        time.sleep(60)
        del hog
    return MARKDOWN(text)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["process", "serial"])
def test_a_worker_that_blows_up_memory_is_killed(tmp_path: Path, executor: str) -> None:
    root = _tree(tmp_path, 2)
    service, result, elapsed = _run(tmp_path, root, balloons, executor, worker_memory_mb=600)
    blown = result.outcomes.filter(error_category="worker_memory")
    assert sorted(blown["doc_id"]) == [f"copy{i}/guides/troubleshooting.md" for i in range(2)]
    assert "over worker_memory_mb=600" in blown["error_message"][0]
    good = result.outcomes.filter(status="succeeded").height
    assert good == result.total_files - result.skipped - 2 - 2 * 3
    assert elapsed < 60


def test_heartbeats_name_the_current_file_whatever_its_name(tmp_path: Path) -> None:
    from docbatch.work.isolation import IDLE, Heartbeat, read_beats

    with Heartbeat(str(tmp_path)) as heartbeat:
        heartbeat.beat("a-rather-long/folder/name/first file.md")
        heartbeat.beat("line\nbreak.md")  # shorter than the record before: no leftovers read
        ((age, doc_id),) = read_beats(tmp_path).values()
        assert doc_id == "line\nbreak.md" and 0 <= age < 60
    ((pid, (age, doc_id)),) = read_beats(tmp_path).items()
    assert pid == os.getpid() and abs(age) <= 60 and doc_id == IDLE


def test_a_heartbeat_folder_that_is_gone_loses_the_beats_not_the_slice(tmp_path: Path) -> None:
    from docbatch.work.isolation import Heartbeat

    with Heartbeat(str(tmp_path / "gone")) as heartbeat:
        heartbeat.beat("a.md")
    assert not (tmp_path / "gone").exists()
