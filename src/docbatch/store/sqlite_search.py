"""The SQLite store's full-text search (``SQLiteStore.search``): the staged plan of
``docbatch.store.query`` run over the two FTS5 indexes (Porter stems for matching and
bm25, exact words for a bonus), hits built with their snippet and document fields."""

from __future__ import annotations

import sqlite3

import polars as pl

from docbatch.errors import QueryError
from docbatch.frames import SEARCH_HITS
from docbatch.store.query import (
    CANDIDATES,
    TITLE_BONUS,
    SearchPlan,
    check_limit,
    check_markers,
    items_fts5,
    plan_search,
    title_match,
)
from docbatch.store.records import parse_times
from docbatch.store.search_filters import SearchFilters

WEIGHTS = (4.0, 4.0, 1.0, 4.0)
"""bm25 weights of the indexed columns: title, heading path, text, codes (chosen on the
judgment set of ``benchmarks.search``)."""
EXACT_BONUS = 0.5
"""The share a passage's score gains when its words match as written (not only their stems)."""
SHORT_CHARS = 400
SHORT_FLOOR = 0.5
"""A passage shorter than ``SHORT_CHARS`` characters of its document has its score scaled
down linearly to ``SHORT_FLOOR`` (no text): bm25 would otherwise prefer a heading alone or a template line."""

_SCORE = """(-bm25(passages_stem, {w})
    * min(1.0, {floor} + (1.0 - {floor}) * (p."end" - p.start) / {short}.0)
    * (1.0 + {exact} * (exact.id IS NOT NULL)))"""
_RANKED = """
WITH exact AS MATERIALIZED (SELECT rowid AS id FROM passages_fts WHERE passages_fts MATCH :match),
hit AS {materialized} (
    SELECT p.id, p.source, p.doc_id, {score} AS score, p.title
    FROM passages_stem CROSS JOIN passages AS p ON p.id = passages_stem.rowid
    {documents}LEFT JOIN exact ON exact.id = passages_stem.rowid
    WHERE passages_stem MATCH :match {source_filter}{filters}
)
SELECT id, source, doc_id, score, title FROM {hits}
ORDER BY score DESC, id
LIMIT :limit
"""
_DOCUMENTS_JOIN = "JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id\n    "
_BEST_IN_DOCUMENT = """(
    SELECT *, row_number() OVER (PARTITION BY source, doc_id ORDER BY score DESC, id) AS nth FROM hit
) WHERE nth = 1"""
_SHOWN = """
SELECT snippet(passages_stem, 2, :open, :close, ' … ', 16) AS snippet, p.*,
       d.format, d.git_commit, d.git_date
FROM passages_stem JOIN passages AS p ON p.id = passages_stem.rowid
LEFT JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id
WHERE passages_stem MATCH :match AND passages_stem.rowid = :id
"""
"""The shown fields of one ranked passage (a snippet costs: only for the hits returned):
the ``SEARCH_HITS`` columns are taken from it by name."""


Ranked = tuple[str, int, str, str, float]
"""A ranked passage: the expression it matched, its id, source, document and score."""


def search(
    con: sqlite3.Connection,
    query: str,
    *,
    limit: int,
    source: str | None,
    group_by_document: bool,
    markers: tuple[str, str],
    where: SearchFilters,
) -> pl.DataFrame:
    """``SEARCH_HITS`` for ``query`` (see ``SQLiteStore.search``)."""
    limit = check_limit(limit)
    open_, close = check_markers(markers)
    plan = plan_search(query)
    try:
        strict = plan.strict_fts5()
        ranked = _ranked(con, plan, strict, limit, source, group_by_document, where)
        for stage, if_empty in plan.fallbacks:
            if len(ranked) >= limit or (if_empty and ranked):
                break
            seen = {row[2:4] if group_by_document else row[1] for row in ranked}
            expression = items_fts5(stage)
            for row in _ranked(con, plan, expression, limit + len(ranked), source, group_by_document, where):
                if len(ranked) < limit and (row[2:4] if group_by_document else row[1]) not in seen:
                    ranked.append(row)
        hits = []
        for expression, id_, _, _, score in ranked:
            cursor = con.execute(_SHOWN, {"match": expression, "id": id_, "open": open_, "close": close})
            shown = dict(zip((d[0] for d in cursor.description), cursor.fetchone(), strict=True))
            shown["score"] = score
            hits.append(tuple(shown.get(name) for name in SEARCH_HITS))
    except sqlite3.OperationalError as exc:
        raise QueryError(f"invalid search query {query!r}: {exc}") from None
    frame = pl.DataFrame(hits, schema={**SEARCH_HITS, "git_date": pl.Utf8()}, orient="row")
    return parse_times(frame, "git_date").cast(pl.Schema(SEARCH_HITS))


def _ranked(
    con: sqlite3.Connection,
    plan: SearchPlan,
    expression: str,
    limit: int,
    source: str | None,
    group_by_document: bool,
    where: SearchFilters,
) -> list[Ranked]:
    """The best passages matching ``expression``, their score raised by ``title_match``."""
    weights = ", ".join(map(str, WEIGHTS))
    score = _SCORE.format(w=weights, floor=SHORT_FLOOR, short=SHORT_CHARS, exact=EXACT_BONUS)
    conditions, filter_params = where.sql("sqlite")
    sql = _RANKED.format(
        score=score,
        hits=_BEST_IN_DOCUMENT if group_by_document else "hit",
        # kept apart from the window function, which cannot hold bm25()
        materialized="MATERIALIZED" if group_by_document else "",
        source_filter="AND p.source = :source" if source else "",
        documents=_DOCUMENTS_JOIN if where.on_documents else "",
        filters=conditions,
    )
    params = {"match": expression, "source": source, "limit": max(limit, CANDIDATES), **filter_params}
    found = con.execute(sql, params).fetchall()
    rows = [
        (expression, id_, hit_source, doc_id, score * (1.0 + TITLE_BONUS * title_match(plan, title)))
        for id_, hit_source, doc_id, score, title in found
    ]
    rows.sort(key=lambda row: -row[4])  # stable: equal scores keep the store's order
    return rows[:limit]
