"""Queries a search engine meets that cost the most: common words alone and together,
long pasted queries, phrases of common words, prefixes, lists of alternatives. Each must
answer in a bounded time however large the store; ``python -m benchmarks.search`` times
them next to the judged queries (p50, p95 and the slowest)."""

from __future__ import annotations

import random
import time
from typing import Any

from docbatch import BatchIngestService, QueryError

STOPWORDS = (
    "a an the of to for in on at by with from into onto about as and or is are was were be been being "
    "do does did how what why when where which who this that these those there here have has had so "
    "some any"
).split()
COMMON = (
    "file set use command target build project variable value option default property list name path "
    "directory module function library source version test install string support"
).split()


def costly_queries(seed: int = 1) -> list[str]:
    """The costly queries (accepted ones: each within the query limits)."""
    mixed = random.Random(seed).sample(STOPWORDS + COMMON, 30)
    return [
        *("the", "a", "to", "in the", "the of and", "the file", "how do i use the", '"the"', '"of the"'),
        *("to be or not to be", "the " * 10, "c++ the", "cmake", "a OR the", "NOT_REAL the"),
        *("the*", "file*", "set*", " ".join(w + "*" for w in COMMON[:4])),
        " ".join(STOPWORDS[:20]),
        " ".join(STOPWORDS[:64]),
        " OR ".join(STOPWORDS[:40]),
        " ".join(COMMON),
        " ".join(COMMON[:8]),
        " OR ".join(COMMON),
        " ".join(mixed),
        "x" * 1900,
    ]


def time_costly(service: BatchIngestService, repeats: int) -> dict[str, Any]:
    """Latency in ms of each costly query (the best of ``repeats`` runs, after a warm-up):
    p50, p95, the slowest, and the queries refused (which must be none)."""
    best: dict[str, float] = {}
    refused: list[str] = []
    for query in costly_queries():
        try:
            service.search(query, limit=10)
        except QueryError as exc:
            refused.append(f"{query[:40]}: {exc}")
            continue
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            service.search(query, limit=10)
            times.append((time.perf_counter() - started) * 1000)
        best[query] = min(times)
    ordered = sorted(best.values())
    slowest = sorted(best.items(), key=lambda item: -item[1])[:3]
    return {
        "queries": len(best),
        "p50_ms": round(ordered[len(ordered) // 2], 2) if ordered else None,
        "p95_ms": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 2) if ordered else None,
        "max_ms": round(ordered[-1], 2) if ordered else None,
        "slowest": [{"query": q[:60], "ms": round(ms, 2)} for q, ms in slowest],
        "refused": refused,
    }


def costly_lines(costly: dict[str, dict[str, Any]], documents: dict[str, int]) -> list[str]:
    """The Markdown table of ``time_costly`` results per corpus scale."""
    lines = [
        "### costly queries (common words, long queries, prefixes; best of the repeats)",
        "",
        "| corpus | documents | queries | p50 ms | p95 ms | max ms | slowest |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, c in costly.items():
        slowest = "; ".join(f"`{s['query'][:30]}` {s['ms']:.0f}" for s in c["slowest"])
        lines.append(
            f"| {name} | {documents.get(name, 0)} | {c['queries']} | {c['p50_ms']} | {c['p95_ms']} "
            f"| {c['max_ms']} | {slowest} |"
        )
    refused = [r for c in costly.values() for r in c["refused"]]
    if refused:
        lines += ["", "refused: " + "; ".join(refused)]
    return lines
