"""Retry: the seed decorator, and transient failures retried over a slice's failed rows."""

from __future__ import annotations

import errno
from pathlib import Path

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService, IngestResult, retry
from docbatch.errors import StoreBusyError, is_transient
from docbatch.formats import ParsedDocument, get_parser
from docbatch.retry import RetryPolicy, backoff_delay
from docbatch.store import MemoryStore


def test_decorator_retries_listed_exceptions_with_exponential_backoff(
    no_sleep: list[float],
) -> None:
    seen: list[tuple[str, int]] = []
    calls = [0]

    @retry(
        max_attempts=4,
        backoff_factor=3.0,
        exceptions=(ConnectionError,),
        on_retry=lambda exc, attempt: seen.append((str(exc), attempt)),
        sleep=no_sleep.append,
    )
    def flaky() -> str:
        calls[0] += 1
        if calls[0] < 4:
            raise ConnectionError(f"down {calls[0]}")
        return "up"

    assert flaky() == "up"
    assert no_sleep == [1.0, 3.0, 9.0]
    assert seen == [("down 1", 1), ("down 2", 2), ("down 3", 3)]


def test_decorator_gives_up_and_reraises_the_last_error(no_sleep: list[float]) -> None:
    @retry(max_attempts=2, exceptions=(OSError,), sleep=no_sleep.append)
    def always() -> None:
        raise OSError("still broken")

    with pytest.raises(OSError, match="still broken"):
        always()
    assert no_sleep == [1.0]


def test_decorator_does_not_retry_other_exceptions(no_sleep: list[float]) -> None:
    calls = [0]

    @retry(max_attempts=5, exceptions=(OSError,), sleep=no_sleep.append)
    def wrong() -> None:
        calls[0] += 1
        raise KeyError("nope")

    with pytest.raises(KeyError):
        wrong()
    assert calls == [1] and no_sleep == []


def test_backoff_is_capped() -> None:
    assert backoff_delay(2.0, 30, max_delay_s=60.0) == 60.0


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (OSError(errno.EIO, "io"), True),
        (OSError(errno.EAGAIN, "again"), True),
        (OSError(errno.ETIMEDOUT, "t"), True),
        (TimeoutError(), True),
        (StoreBusyError("locked"), True),
        (OSError(errno.ENOENT, "gone"), False),
        (UnicodeDecodeError("utf-8", b"x", 0, 1, "bad"), False),
        (ValueError("parse"), False),
    ],
)
def test_transient_classification(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_policy_retries_only_transient_errors(no_sleep: list[float]) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_factor=2.0, sleep=no_sleep.append)
    calls = [0]

    def busy_twice() -> str:
        calls[0] += 1
        if calls[0] <= 2:
            raise StoreBusyError("locked")
        return "written"

    assert policy.call(busy_twice) == "written" and no_sleep == [1.0, 2.0]
    with pytest.raises(ValueError):
        policy.call(lambda: (_ for _ in ()).throw(ValueError("terminal")))
    assert no_sleep == [1.0, 2.0]


def test_policy_gives_up_after_max_attempts_and_reports_each_retry(no_sleep: list[float]) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_factor=2.0, sleep=no_sleep.append)
    calls: list[int] = []
    retries: list[tuple[str, int]] = []

    def always_busy() -> None:
        calls.append(1)
        raise StoreBusyError(f"locked {len(calls)}")

    with pytest.raises(StoreBusyError, match="locked 3"):
        policy.call(always_busy, on_retry=lambda exc, attempt: retries.append((str(exc), attempt)))
    assert len(calls) == 3
    assert retries == [("locked 1", 1), ("locked 2", 2)]
    assert no_sleep == [1.0, 2.0]


class FlakyParser:
    """Fails with EIO the first ``failures`` times it sees each document."""

    def __init__(self, failures: int, fmt: str = "markdown") -> None:
        self.failures = failures
        self.real = get_parser(fmt)
        self.seen: dict[str, int] = {}

    def __call__(self, text: str) -> ParsedDocument:
        key = text[:200]
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] <= self.failures:
            raise OSError(errno.EIO, "Input/output error")
        return self.real(text)


def _run(
    tmp_path: Path, sample_tree: Path, parser: FlakyParser, sleeps: list[float]
) -> tuple[BatchIngestService, IngestResult]:
    service = BatchIngestService(
        tmp_path / "s.db",
        ingest_service={"markdown": parser},
        config=BatchConfig(max_retry_attempts=3, retry_backoff_factor=2.0, progress_save_interval=100),
        sleep=sleeps.append,
    )
    return service, service.ingest_batch(sample_tree, pattern="guides/*.md,reference/*.md")


def test_transient_file_failures_are_retried_until_they_succeed(
    tmp_path: Path, sample_tree: Path, no_sleep: list[float]
) -> None:
    service, result = _run(tmp_path, sample_tree, FlakyParser(failures=2), no_sleep)
    assert result.failed == 0 and result.succeeded == result.total_files > 5
    assert (result.outcomes["attempts"] == 3).all()
    assert no_sleep == [1.0, 2.0]  # one backoff per retry round of the slice, not per file
    assert service.backend.counts()["documents"] == result.total_files


def test_persistent_transient_failures_become_exception_after_retries(
    tmp_path: Path, sample_tree: Path, no_sleep: list[float]
) -> None:
    service, result = _run(tmp_path, sample_tree, FlakyParser(failures=99), no_sleep)
    assert result.succeeded == 0 and result.failed == result.total_files
    assert set(result.outcomes["error_category"]) == {"exception_after_retries"}
    assert set(result.outcomes["error_type"]) == {"OSError"}
    assert (result.outcomes["attempts"] == 3).all()
    assert result.error_summary() == {"exception_after_retries": result.total_files}


def test_terminal_failures_are_not_retried(tmp_path: Path, sample_tree: Path, no_sleep: list[float]) -> None:
    service = BatchIngestService(tmp_path / "s.db", sleep=no_sleep.append)
    result = service.ingest_batch(sample_tree, pattern="broken/*.md")
    failed = result.outcomes.filter(status="failed")
    assert failed.height == 3 and (failed["error_category"] == "validation").all()
    assert no_sleep == []
    assert failed.filter(pl.col("attempts") > 1).height == 0


def test_busy_store_writes_are_retried(tmp_path: Path, sample_tree: Path, no_sleep: list[float]) -> None:
    store = MemoryStore(fail_writes={1: "transient", 2: "transient"})
    service = BatchIngestService(store, state_dir=tmp_path / "state", sleep=no_sleep.append)
    result = service.ingest_batch(sample_tree, pattern="guides/*.md")
    assert result.succeeded == result.total_files
    assert no_sleep[:2] == [1.0, 2.0]
    assert store.counts()["documents"] == result.total_files


def test_store_that_stays_busy_stops_the_run_with_the_checkpoint_intact(
    tmp_path: Path, sample_tree: Path, no_sleep: list[float]
) -> None:
    store = MemoryStore()
    store.fail_write(1, "transient", times=None)
    service = BatchIngestService(store, state_dir=tmp_path / "state", sleep=no_sleep.append)
    with pytest.raises(StoreBusyError):
        service.ingest_batch(sample_tree, pattern="guides/*.md")
    assert store.counts()["documents"] == 0
    store.clear_failures()
    result = service.ingest_batch(sample_tree, pattern="guides/*.md")
    assert result.succeeded == result.total_files
