"""Every numeric setting, from Python and from its variable, against the values that
broke runs: not-a-number, infinities, negatives, huge numbers, text and booleans. Each is
refused with one message naming the setting, the value and what is allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docbatch import BatchConfig, ConfigError
from docbatch.config import _MAXIMA, _RULES, ENVIRONMENT_VARIABLES

BAD_VALUES = [float("nan"), float("inf"), float("-inf"), -1, 1e300, True, "7"]
BAD_TEXT = ["nan", "inf", "-inf", "-1", "1e400", "abc", "", "1.5.2"]


def _huge_is_allowed(field: str) -> bool:
    return _RULES[field][0] is int and field not in _MAXIMA


@pytest.mark.parametrize("field", sorted(_RULES))
@pytest.mark.parametrize("value", BAD_VALUES, ids=["nan", "inf", "-inf", "-1", "huge", "bool", "text"])
def test_every_field_refuses_every_bad_value(field: str, value: object) -> None:
    if value == 1e300 and _RULES[field][0] is int:
        value = 10**300  # a huge whole number for whole-number fields
        if _huge_is_allowed(field):
            assert getattr(BatchConfig(**{field: value}), field) == value  # type: ignore[arg-type]
            return
    with pytest.raises(ConfigError, match=rf"{field}=.* is not allowed: expected a (whole|finite)? ?number"):
        BatchConfig(**{field: value})  # type: ignore[arg-type]
    config = BatchConfig()
    with pytest.raises(ConfigError, match=field):
        setattr(config, field, value)


@pytest.mark.parametrize("variable", sorted(set(ENVIRONMENT_VARIABLES) - {"BATCH_MAX_FILE_SIZE"}))
@pytest.mark.parametrize("text", BAD_TEXT)
def test_every_variable_refuses_every_bad_text(variable: str, text: str) -> None:
    if text == "":
        assert BatchConfig.from_environment({variable: text}) == BatchConfig()  # empty is unset
        return
    with pytest.raises(ConfigError, match=rf"{variable}='{text}' is not allowed: expected"):
        BatchConfig.from_environment({variable: text})


@pytest.mark.parametrize("text", ["nan", "inf", "-1", "abc", "1e400", "0"])
def test_the_file_size_variable_refuses_bad_sizes(text: str) -> None:
    with pytest.raises(ConfigError, match=rf"BATCH_MAX_FILE_SIZE='{text}' is not allowed: expected a size"):
        BatchConfig.from_environment({"BATCH_MAX_FILE_SIZE": text})


@pytest.mark.parametrize("text", ["nan", "inf"])
def test_a_non_finite_timeout_stops_the_cli_with_one_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\ntext\n")
    proc = subprocess.run(
        [sys.executable, "-m", "docbatch", "ingest-docs-batch", "docs", "--db", "s.db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "BATCH_FILE_TIMEOUT_S": text},
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"docbatch: error: BATCH_FILE_TIMEOUT_S='{text}' is not allowed: expected a number from 0 to 604800"
    ]
    assert not (tmp_path / "s.db").exists()
