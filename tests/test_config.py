from __future__ import annotations

import dataclasses

import pytest

from docbatch import BatchConfig, ConfigError, config
from docbatch.config import ENVIRONMENT_VARIABLES


def test_defaults_match_the_seed() -> None:
    c = BatchConfig()
    assert c.max_file_size == 50 * 1024 * 1024
    assert c.max_batch_size == 1000
    assert c.progress_save_interval == 10
    assert c.memory_threshold_mb == 1024
    assert c.max_retry_attempts == 3
    assert c.retry_backoff_factor == 2.0
    assert c.chunk_processing_size == 100
    assert isinstance(config, BatchConfig)


def test_from_environment_reads_every_variable() -> None:
    env = {name: str(i + 7) for i, name in enumerate(ENVIRONMENT_VARIABLES)}
    c = BatchConfig.from_environment(env)
    for i, (variable, field) in enumerate(ENVIRONMENT_VARIABLES.items()):
        assert getattr(c, field) == i + 7, variable
    assert set(ENVIRONMENT_VARIABLES) == {
        "BATCH_MAX_FILE_SIZE",
        "BATCH_MAX_BATCH_SIZE",
        "BATCH_PROGRESS_INTERVAL",
        "BATCH_MEMORY_THRESHOLD_MB",
        "BATCH_MAX_RETRIES",
        "BATCH_CHUNK_SIZE",
        "BATCH_FILE_TIMEOUT_S",
    }


def test_from_environment_uses_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_CHUNK_SIZE", "25")
    assert BatchConfig.from_environment().chunk_processing_size == 25


@pytest.mark.parametrize("value", ["abc", "-5", "0", "1.5", "10x"])
def test_bad_variable_names_variable_value_and_allowed(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        BatchConfig.from_environment({"BATCH_CHUNK_SIZE": value})
    message = str(info.value)
    assert "BATCH_CHUNK_SIZE" in message
    assert repr(value) in message
    assert "whole number >= 1" in message


def test_empty_variable_means_default() -> None:
    assert BatchConfig.from_environment({"BATCH_CHUNK_SIZE": " "}).chunk_processing_size == 100


def test_assignment_is_validated() -> None:
    c = BatchConfig()
    c.chunk_processing_size = 50
    assert c.chunk_processing_size == 50
    with pytest.raises(ConfigError, match="chunk_processing_size=0"):
        c.chunk_processing_size = 0
    with pytest.raises(ConfigError):
        BatchConfig(max_retry_attempts=True)  # a bool is not a count


def test_a_batch_size_of_zero_means_no_limit() -> None:
    assert BatchConfig.from_environment({"BATCH_MAX_BATCH_SIZE": "0"}).max_batch_size == 0
    with pytest.raises(ConfigError, match="max_batch_size=-1"):
        BatchConfig(max_batch_size=-1)


def test_replace_makes_a_validated_variant() -> None:
    c = dataclasses.replace(BatchConfig(), max_file_size=10)
    assert c.max_file_size == 10
    with pytest.raises(ConfigError):
        dataclasses.replace(c, retry_backoff_factor=-1.0)
