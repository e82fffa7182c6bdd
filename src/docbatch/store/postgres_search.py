"""The PostgreSQL store's full-text search (``PostgresStore.search``): words split as
SQLite splits them, the docbatch query language (``docbatch.store.query``) turned into a
``tsquery``, hits ranked by ``ts_rank_cd`` with ``ts_headline`` snippets."""

from __future__ import annotations

import re
from typing import Any

from psycopg import sql

from docbatch.errors import QueryError
from docbatch.store.query import to_fts5

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
_HEADLINE = 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=2, FragmentDelimiter=" … "'


def search_statement(query: str, *, limit: int, source: str | None) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement and parameters of a search for ``query`` (of ``source`` alone, if given):
    ``SEARCH_HITS`` rows, best first, with ``[ ]`` around the matches in the snippet.

    Raises:
        QueryError: the query is empty or malformed.
    """
    statement = sql.SQL(_SEARCH).format(
        tsquery=to_tsquery_sql(query),
        source_filter=sql.SQL("AND p.source = %(source)s" if source else ""),
    )
    return statement, {"headline": _HEADLINE, "limit": limit, "source": source}


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
