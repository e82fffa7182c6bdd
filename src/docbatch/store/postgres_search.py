"""The PostgreSQL store's full-text search (``PostgresStore.search``): words split as
SQLite splits them, the docbatch query language (``docbatch.store.query``) turned into a
``tsquery``, hits ranked by ``ts_rank_cd`` with ``ts_headline`` snippets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Unpack

import psycopg
from psycopg import sql

from docbatch.errors import QueryError
from docbatch.frames import SEARCH_HITS
from docbatch.store.query import (
    CANDIDATES,
    MARKERS,
    TITLE_BONUS,
    SearchPlan,
    Term,
    check_limit,
    check_markers,
    plan_search,
    title_match,
    to_fts5,
)
from docbatch.store.search_filters import SearchFilterArgs, SearchFilters

WORD_SEPARATORS = "./@:"
"""Split words here before indexing, as SQLite's tokenizer does: PostgreSQL's parser would
keep ``httpd.conf``, ``user@host`` or ``/usr/bin`` as one token, so ``httpd`` would not
find ``httpd.conf``."""
_SPLIT = str.maketrans(WORD_SEPARATORS, " " * len(WORD_SEPARATORS))
_FTS5_TOKEN = re.compile(r'"((?:[^"]|"")*)"(\*?)|(AND|OR|NOT)')
_SEARCH = """
WITH q AS (SELECT {tsquery} AS query)
SELECT hit.source, hit.doc_id, hit.title, hit.heading_path,
       ts_headline('simple', hit.text, q.query, %(headline)s) AS snippet, hit.score,
       hit.passage_id, hit.anchor, hit.line_start, hit.line_end
FROM (
    SELECT p.source, p.doc_id, p.seq, p.title, p.heading_path, p.text,
           p.passage_id, p.anchor, p.line_start, p.line_end,
           ts_rank_cd(p.tsv, q.query)::float8 AS score
    FROM passages AS p, q
    WHERE p.tsv @@ q.query {source_filter}
    ORDER BY score DESC, p.source, p.doc_id, p.seq
    LIMIT %(limit)s
) AS hit, q
ORDER BY hit.score DESC, hit.source, hit.doc_id, hit.seq
"""
_HEADLINE = 'StartSel="{}", StopSel="{}", MaxWords=16, MinWords=6, MaxFragments=2, FragmentDelimiter=" … "'


def headline_options(markers: tuple[str, str] = MARKERS) -> str:
    """The ``ts_headline`` options: ``markers`` around the matches (``check_markers`` keeps
    double quotes out of them)."""
    return _HEADLINE.format(*markers)


def search_statement(query: str, *, limit: int, source: str | None) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement and parameters of a search for ``query`` (of ``source`` alone, if given):
    ``SEARCH_HITS`` rows, best first, with ``MARKERS`` around the matches in the snippet.

    Raises:
        QueryError: the query is empty or malformed.
    """
    statement = sql.SQL(_SEARCH).format(
        tsquery=to_tsquery_sql(query),
        source_filter=sql.SQL("AND p.source = %(source)s" if source else ""),
    )
    return statement, {"headline": headline_options(), "limit": limit, "source": source}


def to_tsquery_sql(query: str) -> sql.Composable:
    """A SQL ``tsquery`` expression for a docbatch query (same language as ``to_fts5``).

    Raises:
        QueryError: the query is empty or malformed.
    """
    groups: list[list[sql.Composable]] = [[]]
    negate = False
    for match in _FTS5_TOKEN.finditer(to_fts5(query)):
        text, star, operator = match.groups()
        if operator is not None:
            if negate or (operator == "OR" and not groups[-1]):
                raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
            negate = operator == "NOT"
            if operator == "OR":
                groups.append([])
            continue
        term = _term(text.replace('""', '"'), prefix=bool(star))
        groups[-1].append(sql.SQL("!!") + term if negate else term)
        negate = False
    if not all(groups):
        raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
    ors = [sql.SQL("(") + sql.SQL(" && ").join(group) + sql.SQL(")") for group in groups]
    return sql.SQL(" || ").join(ors)


def _term(text: str, *, prefix: bool) -> sql.Composable:
    text = text.translate(_SPLIT)
    if prefix:
        escaped = text.replace("\\", "\\\\").replace("'", "''")
        return sql.SQL("to_tsquery('simple', {})").format(sql.Literal(f"'{escaped}':*"))
    phrase = '"' + text.replace('"', " ") + '"'
    return sql.SQL("websearch_to_tsquery('simple', {})").format(sql.Literal(phrase))


STEMMED = "english"
"""The text search configuration of the matching ``tsv`` (Porter stems, English stopwords);
``tsv_exact`` holds the words as written (``simple``) and ranks an exact match higher."""
WEIGHTS = "{0.25, 1.0, 1.0, 1.0}"
"""``ts_rank`` weights of the ``tsv`` labels D, C, B, A: text, codes, heading path, title."""
EXACT_BONUS = 0.5
NORMALIZATION = 0
"""``ts_rank`` normalization: none (the short-passage damping stands in; dividing by the
length, or its logarithm, ranked worse on the judgment set)."""
SHORT_CHARS = 400
SHORT_FLOOR = 0.5
"""As in the SQLite store: a passage shorter than ``SHORT_CHARS`` has its score scaled down
linearly to ``SHORT_FLOOR``."""
_RANKED = """
WITH q AS (SELECT {stemmed} AS query, {exact} AS exact)
SELECT id, source, doc_id, score, title FROM (
    SELECT {distinct} p.id, p.source, p.doc_id, p.title,
           (ts_rank(%(weights)s, p.tsv, q.query, {norm})
               * least(1.0, {floor} + (1.0 - {floor}) * (p."end" - p.start) / {short}.0)
            + {bonus} * ts_rank(%(weights)s, p.tsv_exact, q.exact, {norm}))::float8 AS score
    FROM passages AS p {documents}, q
    WHERE p.tsv @@ q.query {source_filter}{filters}
    ORDER BY {order} score DESC, p.id
) AS hit
ORDER BY score DESC, id
LIMIT %(limit)s
"""
_SHOWN = """
SELECT ts_headline(%(config)s, p.text, {stemmed}, %(headline)s) AS snippet, p.*,
       d.format, d.git_commit, d.git_date
FROM passages AS p LEFT JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id
WHERE p.id = %(id)s
"""


def ranked_statement(
    terms: list[Term | str],
    *,
    limit: int,
    source: str | None,
    group_by_document: bool,
    where: SearchFilters | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """The best passages matching ``terms`` (id, source, document, score, title) that pass
    ``where``, each document once with ``group_by_document``."""
    conditions, filter_params = (where or SearchFilters()).sql("postgres")
    statement = sql.SQL(_RANKED).format(
        stemmed=plan_tsquery(terms, STEMMED),
        exact=plan_tsquery(terms, "simple"),
        distinct=sql.SQL("DISTINCT ON (p.source, p.doc_id)" if group_by_document else ""),
        order=sql.SQL("p.source, p.doc_id," if group_by_document else ""),
        floor=sql.Literal(SHORT_FLOOR),
        short=sql.Literal(SHORT_CHARS),
        bonus=sql.Literal(EXACT_BONUS),
        norm=sql.Literal(NORMALIZATION),
        source_filter=sql.SQL("AND p.source = %(source)s" if source else ""),
        documents=sql.SQL(
            "JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id"
            if where is not None and where.on_documents
            else ""
        ),
        filters=sql.SQL(conditions),  # fixed text and placeholders only
    )
    return statement, {"weights": WEIGHTS, "limit": limit, "source": source, **filter_params}


def shown_statement(
    terms: list[Term | str], id_: int, markers: tuple[str, str] = MARKERS
) -> tuple[sql.Composed, dict[str, Any]]:
    """The stored fields of one ranked passage and its snippet, ``markers`` around the matches."""
    statement = sql.SQL(_SHOWN).format(stemmed=plan_tsquery(terms, STEMMED))
    return statement, {"config": STEMMED, "headline": headline_options(markers), "id": id_}


def plan_tsquery(terms: list[Term | str], config: str) -> sql.Composable:
    """A ``tsquery`` of ``terms`` (a ``SearchPlan``'s, operators as in ``to_fts5``): words
    and phrases in ``config``, code-like words by their code (``simple``) and their words.

    Raises:
        QueryError: an operator lacks words on a side.
    """
    groups: list[list[sql.Composable]] = [[]]
    negate = False
    for item in terms:
        if isinstance(item, str):
            if negate or (item == "OR" and not groups[-1]):
                raise QueryError("invalid search query: an operator needs words on both sides")
            negate = item == "NOT"
            if item == "OR":
                groups.append([])
            continue
        term = _plan_term(item, config)
        groups[-1].append(sql.SQL("!!") + term if negate else term)
        negate = False
    if not all(groups):
        raise QueryError("invalid search query: an operator needs words on both sides")
    ors = [sql.SQL("(") + sql.SQL(" && ").join(group) + sql.SQL(")") for group in groups]
    return sql.SQL("(") + sql.SQL(" || ").join(ors) + sql.SQL(")")


def _plan_term(term: Term, config: str) -> sql.Composable:
    words = _words_tsquery(" ".join(term.words), config, prefix=term.prefix)
    if term.code is None:
        return words
    code = _words_tsquery(term.code, "simple", prefix=term.prefix)
    if not term.parts:
        return code
    return sql.SQL("({} && {})").format(
        code, _words_tsquery(" ".join(term.parts), config, prefix=term.prefix)
    )


def _words_tsquery(text: str, config: str, *, prefix: bool) -> sql.Composable:
    text = text.translate(_SPLIT)
    if prefix:
        words = [w.replace("\\", "\\\\").replace("'", "''") for w in text.split()]
        if words:
            expression = " <-> ".join(f"'{w}'" for w in words[:-1]) + " <-> " * (len(words) > 1)
            expression += f"'{words[-1]}':*"
            return sql.SQL("to_tsquery({}, {})").format(sql.Literal(config), sql.Literal(expression))
    phrase = '"' + text.replace('"', " ") + '"'
    return sql.SQL("websearch_to_tsquery({}, {})").format(sql.Literal(config), sql.Literal(phrase))


def search(
    connect: Callable[[], psycopg.Connection[Any]],
    query: str,
    *,
    limit: int,
    source: str | None,
    group_by_document: bool,
    markers: tuple[str, str],
    **filters: Unpack[SearchFilterArgs],
) -> list[tuple[Any, ...]]:
    """The ``SEARCH_HITS`` rows of ``PostgresStore.search``, best first: the plan's strict
    stage, then its fallbacks while fewer than ``limit`` are found; each hit's fields and
    snippet read by ``shown_statement``. The arguments are checked before ``connect()``.

    Raises:
        QueryError: the query, the limit, the markers or a filter is not valid.
        psycopg.Error: the server failed, or refused the query.
    """
    limit = check_limit(limit)
    markers = check_markers(markers)
    where = SearchFilters.of(**filters)
    plan = plan_search(query)
    conn = connect()
    ranked = _ranked(conn, plan, plan.strict, limit, source, group_by_document, where)
    for stage, if_empty in plan.fallbacks:
        if len(ranked) >= limit or (if_empty and ranked):
            break
        seen = {row[2:4] if group_by_document else row[1] for row in ranked}
        more = _ranked(conn, plan, stage, limit + len(ranked), source, group_by_document, where)
        for row in more:
            if len(ranked) < limit and (row[2:4] if group_by_document else row[1]) not in seen:
                ranked.append(row)
    hits = []
    for terms, id_, _, _, score in ranked:
        statement, params = shown_statement(terms, id_, markers)
        cursor = conn.execute(statement, params)
        shown = dict(zip((d.name for d in cursor.description or ()), cursor.fetchone() or (), strict=True))
        shown["score"] = score
        hits.append(tuple(shown.get(name) for name in SEARCH_HITS))
    return hits


def _ranked(
    conn: psycopg.Connection[Any],
    plan: SearchPlan,
    terms: list[Term | str],
    limit: int,
    source: str | None,
    group_by_document: bool,
    where: SearchFilters,
) -> list[tuple[list[Term | str], int, str, str, float]]:
    """The best passages matching ``terms``: the terms, id, source, document and score
    (raised by ``title_match``)."""
    statement, params = ranked_statement(
        terms,
        limit=max(limit, CANDIDATES),
        source=source,
        group_by_document=group_by_document,
        where=where,
    )
    rows = [
        (terms, id_, hit_source, doc_id, score * (1.0 + TITLE_BONUS * title_match(plan, title)))
        for id_, hit_source, doc_id, score, title in conn.execute(statement, params).fetchall()
    ]
    rows.sort(key=lambda row: -row[4])  # stable: equal scores keep the store's order
    return rows[:limit]
