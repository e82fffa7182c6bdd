"""Any query costs a bounded time: too many terms, too long a text or too many hits are
refused with one clear line, and repeated terms are searched once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from docbatch import BatchIngestService, QueryError
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
from docbatch.store.query import (
    MAX_DISTINCT_TERMS,
    MAX_DROPPED_WORDS,
    MAX_HITS,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    plan_search,
    to_fts5,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> BatchIngestService:
    from docbatch import BatchConfig, sample

    tmp = tmp_path_factory.mktemp("query")
    tree = sample.write_sample_tree(tmp / "docs")
    service = BatchIngestService(tmp / "s.db", config=BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE))
    service.ingest_batch(tree, pattern=SAMPLE_PATTERN)
    return service


@pytest.mark.parametrize(
    "query",
    [
        " ".join(f"word{i}" for i in range(MAX_DISTINCT_TERMS + 1)),
        " OR ".join(f"word{i}" for i in range(MAX_DISTINCT_TERMS + 1)),
        " ".join(f"w{i % 10} OR v{i % 10}" for i in range(MAX_TERMS)),
        "x" * (MAX_QUERY_CHARS + 1),
    ],
    ids=["and", "or", "operators", "characters"],
)
def test_a_query_past_the_bounds_is_refused_with_a_clear_error(
    service: BatchIngestService, query: str
) -> None:
    with pytest.raises(QueryError, match="search query too long: .*at most"):
        service.search(query)


def test_repeated_terms_are_searched_once(service: BatchIngestService) -> None:
    assert to_fts5(" ".join(["cache"] * 300)) == '"cache"'
    assert to_fts5(" OR ".join(["cache", "quokka"] * 100)) == '"cache" OR "quokka"'
    assert to_fts5("a b OR a") == '"a" "b" OR "a"'  # mixed operators: left as written
    once = service.search("quokka")
    assert service.search(" OR ".join(["quokka"] * 150)).equals(once)
    assert service.search(" ".join(["quokka"] * 150)).equals(once)


@pytest.mark.parametrize("limit", [0, MAX_HITS + 1, 10**20, True])
def test_a_hit_limit_out_of_range_is_refused(service: BatchIngestService, limit: int) -> None:
    with pytest.raises(
        QueryError, match=f"limit=.* is not allowed: expected a whole number from 1 to {MAX_HITS}"
    ):
        service.search("quokka", limit=limit)


def test_a_huge_limit_on_the_command_line_is_one_line_and_exit_2(service: BatchIngestService) -> None:
    db = Path(service.backend.location)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "docbatch",
            "search",
            "quokka",
            "--db",
            str(db),
            "--limit",
            "99999999999999999999",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert f"from 1 to {MAX_HITS}" in proc.stderr


def test_a_long_query_within_the_bounds_answers(service: BatchIngestService) -> None:
    """A pasted sentence of 40 words is a query like any other: its fallback stages leave out
    one or two words, not every combination of them (2^40 stages of billions of groups)."""
    words = "the quokka lives on an island and eats leaves grass and roots at night".split()
    query = " ".join(words + [f"filler{i}" for i in range(40 - len(words))])
    db = Path(service.backend.location)
    proc = subprocess.run(
        [sys.executable, "-m", "docbatch", "search", query, "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "quokka" in proc.stdout


def test_the_fallback_stages_leave_out_at_most_two_words() -> None:
    plan = plan_search(" ".join(f"word{i}" for i in range(8)))
    combined = [stage for stage, if_empty in plan.fallbacks if not if_empty]
    assert len(combined) == MAX_DROPPED_WORDS
    assert plan.fallbacks[-1] == ([x for t in plan.strict for x in ("OR", t)][1:], True)
