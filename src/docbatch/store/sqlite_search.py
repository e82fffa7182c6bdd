"""The SQLite store's full-text search (``SQLiteStore.search``): the staged plan of
``docbatch.store.query`` run over the two FTS5 indexes (Porter stems for matching and
BM25, exact words for a bonus), hits built with their snippet and document fields. It runs
on a connection of ``apsw`` (``docbatch.store.sqlite_ranking``: BM25 from document
frequencies found once a search, not counted by each statement)."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass

import apsw
import polars as pl

from docbatch.errors import QueryError
from docbatch.frames import SEARCH_HITS
from docbatch.store.query import (
    CANDIDATES,
    TITLE_BONUS,
    Phrase,
    SearchPlan,
    Term,
    check_limit,
    check_markers,
    items_fts5,
    phrases,
    plan_search,
    title_match,
)
from docbatch.store.records import parse_times
from docbatch.store.search_filters import SearchFilters
from docbatch.store.sqlite_ranking import RANK, Frequencies

WEIGHTS = (4.0, 4.0, 1.0, 4.0)
"""BM25 weights of the indexed columns: title, heading path, text, codes (chosen on the
judgment set of ``benchmarks.search``)."""
EXACT_BONUS = 0.5
"""The share a passage's score gains when its words match as written (not only their stems)."""
SHORT_CHARS = 400
SHORT_FLOOR = 0.5
"""A passage shorter than ``SHORT_CHARS`` characters of its document has its score scaled
down linearly to ``SHORT_FLOOR`` (no text): BM25 would otherwise prefer a heading alone or a template line."""

_DAMPING = 'min(1.0, {floor} + (1.0 - {floor}) * (p."end" - p.start) / {short}.0)'
_SCORE = """({rank} * {damping} * (1.0 + {exact} * (exact.id IS NOT NULL)))"""
_RANKED = """
WITH exact AS MATERIALIZED (
    SELECT rowid AS id FROM passages_fts WHERE passages_fts MATCH :match AND rowid BETWEEN :first AND :last
),
hit AS {materialized} (
    SELECT p.id, p.source, p.doc_id, {score} AS score, p.title
    FROM passages_stem CROSS JOIN passages AS p ON p.id = passages_stem.rowid
    {documents}LEFT JOIN exact ON exact.id = passages_stem.rowid
    WHERE passages_stem MATCH :match AND passages_stem.rowid BETWEEN :first AND :last {source_filter}{filters}
)
SELECT id, source, doc_id, score, title FROM {hits}
ORDER BY score DESC, id
LIMIT :limit
"""
_RANKED_FIRST = """
WITH hit AS MATERIALIZED (
    SELECT p.id, p.source, p.doc_id, {rank} * {damping} AS score, p.title
    FROM passages_stem CROSS JOIN passages AS p ON p.id = passages_stem.rowid
    {documents}WHERE passages_stem MATCH :match AND passages_stem.rowid BETWEEN :first AND :last
    {source_filter}{filters}
    LIMIT :broad
)
SELECT id, source, doc_id, score, title FROM {hits}
ORDER BY score DESC, id
LIMIT :limit
"""
"""A broad stage's ranking: its first ``BROAD`` matches that pass the filters (one pass over
the index that stops there), without the exact-word bonus (a second pass)."""
BROAD = 4_000
"""The most passages one stage of a search ranks (about 25 ms at 2.8 million passages:
finding them about 12, BM25 about 3 µs a passage), and a common word matches most passages
of a large store ("the": 90,000 of 100,000). A stage that matches more ranks the first
``BROAD`` it finds (``bounded``) that pass the filters: for all the words, of the passages
whose title or headings hold them; a stage of some of the words is passed over. No
accepted query costs more than a few such stages, but a filter few passages pass, over a
word most passages hold, is a pass over those (0.45 s for ``server`` in a path no document
has, at 2.8 million passages). On the judgment set of ``benchmarks.search`` over ten copies
of its corpus, 4,000 ranks as well as 10,000 (MRR@10 0.864 and 0.852, the copies of a
document counted once)."""
_HEADINGS = "{title heading_path codes}"
"""Where a broad all-words stage looks: the title and headings, and the codes (which hold a
code-like word's encoded form, never in the title or headings as such: ``read_file`` is
``read0ufile`` there and the phrase ``"read file"`` in its heading)."""
_DOCUMENTS_JOIN = "JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id\n    "
_BEST_IN_DOCUMENT = """(
    SELECT *, row_number() OVER (PARTITION BY source, doc_id ORDER BY score DESC, id) AS nth FROM hit
) WHERE nth = 1"""
_SHOWN = """
SELECT p.*, d.format, d.git_commit, d.git_date
FROM passages AS p LEFT JOIN documents AS d ON d.source = p.source AND d.doc_id = p.doc_id
WHERE p.id IN (SELECT value FROM json_each(?))
"""
"""The shown fields of the ranked passages (a JSON list of their ids): the ``SEARCH_HITS``
columns are taken from them by name, the snippet from ``_SNIPPETS``."""
_SNIPPETS = """CREATE VIRTUAL TABLE shown USING fts5(
    title, heading_path, text, codes, tokenize='porter unicode61 remove_diacritics 2'
)"""
"""The passages shown, indexed alone (as ``passages_stem``, in a database in memory, until
the thread's next search) while their snippets are made: FTS5 finds a passage of the
store's index by running the expression from the index's first row to it, which for a
phrase or a code-like word is a search of most of the index (10 ms a hit at 1,000,000
documents for ``X-Forwarded-For``); among the few passages of a search it costs nothing,
and a snippet depends on its passage alone."""
_SNIPPET = """SELECT snippet(shown, 2, :open, :close, ' … ', 16) FROM shown
WHERE shown MATCH :match AND rowid = :id"""


Ranked = tuple[str, int, str, str, float]
"""A ranked passage: the expression it matched, its id, source, document and score."""


@dataclass(frozen=True)
class Stage:
    """One stage of a search as it is ranked: the passages matching ``expression``, or for a
    broad one, the first ``BROAD`` of those matching ``ranked`` (its words in the title or
    headings, for the all-words stage). ``phrases``: those of ``ranked``, in its order
    (``Term.phrases``)."""

    expression: str
    ranked: str
    phrases: tuple[Phrase, ...]
    broad: bool = False


MAX_COMMON_WORDS = 3
"""A query of more words keeps this many of those in more than ``BROAD`` passages, the
rarest: each such word costs a pass over most of the index in every stage, and adds
almost nothing to the ranking."""
MAX_MATCHED_WORDS = 8
"""A longer query (of words alone, or of alternatives alone) is matched and ranked on its
rarest words: a pasted paragraph finds the passages of its telling words."""


def without_common_words(frequencies: Frequencies, plan: SearchPlan) -> tuple[SearchPlan, set[Term]]:
    """``plan`` (of words alone or of alternatives alone) without its common words past
    ``MAX_COMMON_WORDS``, and of at most ``MAX_MATCHED_WORDS`` words, the rarest of those
    the store holds; where any one word will do, the common words are left out when others
    remain (they would match most passages and add nothing to the ranking). Also the
    common words kept."""
    terms = [t for t in plan.strict if isinstance(t, Term)]
    alternatives = all(item == "OR" for item in plan.strict[1::2]) and len(terms) * 2 - 1 == len(plan.strict)
    if len(terms) < 2 or (plan.strict != terms and not alternatives):
        return plan, set()
    candidates = list(dict.fromkeys([*terms, *plan.fallback]))
    counts = {t: frequencies.capped(t.counted_fts5()) for t in candidates}
    # the rarest words found first (a word found nowhere finds nothing); stable: equal
    # counts in the query's order
    rarest = sorted(candidates, key=lambda t: (counts[t] == 0, counts[t]))
    common = [t for t in rarest if counts[t] > BROAD]
    kept = [t for t in rarest if t not in common[MAX_COMMON_WORDS:]][:MAX_MATCHED_WORDS]
    strict = [t for t in terms if t in kept] or [min(terms, key=counts.__getitem__)]
    if alternatives:
        strict = [t for t in strict if t not in common] or strict
        return SearchPlan(_any(strict), []), set(common)
    fallback = [t for t in plan.fallback if t in kept]
    return SearchPlan(list[Term | str](strict), fallback), set(common)


def _any(terms: list[Term]) -> list[Term | str]:
    return [x for t in terms for x in ("OR", t)][1:]


def _without_common(items: list[Term | str], common: set[Term]) -> list[Term | str]:
    """An any-word stage without the ``common`` words, when others remain."""
    terms = [t for t in items if isinstance(t, Term)]
    if len(terms) * 2 - 1 != len(items) or any(t != "OR" for t in items[1::2]):
        return items
    return _any([t for t in terms if t not in common] or terms)


def bounded(frequencies: Frequencies, items: list[Term | str], *, narrow: bool = True) -> Stage | None:
    """The stage that ranks at most ``BROAD`` passages matching ``items``, those whose
    title or headings hold its words if ``narrow`` (a pass over the whole index, paid for
    the all-words stage only); None when no passage matches."""
    expression = items_fts5(items)
    matches = frequencies.capped(items_fts5(items, counted=True))
    if matches == 0:
        return None
    if matches <= BROAD:
        return Stage(expression, expression, tuple(phrases(items)))
    if not narrow:
        return Stage(expression, expression, tuple(phrases(items)), broad=True)
    return Stage(expression, f"{_HEADINGS} : ({expression})", tuple(phrases(items)), broad=True)


def search(
    con: apsw.Connection,
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
    try:
        ids = _passage_ids(con, source)
        frequencies = Frequencies(con, BROAD, ids)
        plan, common = without_common_words(frequencies, plan_search(query))
        stage = bounded(frequencies, plan.strict)
        ranked = []
        if stage is not None:
            ranked = _ranked(con, plan, stage, frequencies, ids, limit, source, group_by_document, where)
        for items, if_empty in plan.fallbacks:
            if len(ranked) >= limit or (if_empty and ranked):
                break
            seen = {row[2:4] if group_by_document else row[1] for row in ranked}
            stage = bounded(frequencies, _without_common(items, common) if if_empty else items, narrow=False)
            if stage is None or (stage.broad and not if_empty):
                continue  # a stage of some of the words that most passages hold: weak, go on
            stage_limit = limit + len(ranked)
            for row in _ranked(
                con, plan, stage, frequencies, ids, stage_limit, source, group_by_document, where
            ):
                if len(ranked) < limit and (row[2:4] if group_by_document else row[1]) not in seen:
                    ranked.append(row)
        hits = []
        words = _any_word(plan)
        shown = _shown(con, [row[1] for row in ranked])
        alone = _indexed_alone(shown)
        for expression, id_, _, _, score in ranked:
            fields = shown.get(id_, {})
            if fields:
                snippet = _snippet(alone, _completed(words, fields), id_, open_, close)
                if snippet is None:  # the passage holds none of the words alone
                    snippet = _snippet(alone, expression, id_, open_, close)
                fields["snippet"] = snippet
            fields["score"] = score
            hits.append(tuple(fields.get(name) for name in SEARCH_HITS))
    except apsw.SQLError as exc:
        raise QueryError(f"invalid search query {query!r}: {exc}") from None
    frame = pl.DataFrame(hits, schema={**SEARCH_HITS, "git_date": pl.Utf8()}, orient="row")
    return parse_times(frame, "git_date").cast(pl.Schema(SEARCH_HITS))


def _ranked(
    con: apsw.Connection,
    plan: SearchPlan,
    stage: Stage,
    frequencies: Frequencies,
    ids: tuple[int, int] | None,
    limit: int,
    source: str | None,
    group_by_document: bool,
    where: SearchFilters,
) -> list[Ranked]:
    """The best passages of ``stage``, their score raised by ``title_match``."""
    # the frequencies are values, not text: the statement is the same for every query of its shape
    found_in = {f"found{n}": frequencies.of(phrase) for n, phrase in enumerate(stage.phrases)}
    rank = f"{RANK}(passages_stem, {', '.join(map(str, WEIGHTS))}, {', '.join(':' + k for k in found_in)})"
    damping = _DAMPING.format(floor=SHORT_FLOOR, short=SHORT_CHARS)
    conditions, filter_params = where.sql("sqlite")
    sql = (_RANKED_FIRST if stage.broad else _RANKED).format(
        rank=rank,
        damping=damping,
        score=_SCORE.format(rank=rank, damping=damping, exact=EXACT_BONUS),
        hits=_BEST_IN_DOCUMENT if group_by_document else "hit",
        # kept apart from the window function, which cannot hold an auxiliary function
        materialized="MATERIALIZED" if group_by_document else "",
        source_filter="AND p.source = :source" if source else "",
        documents=_DOCUMENTS_JOIN if where.on_documents else "",
        filters=conditions,
    )
    params = {
        **found_in,
        "match": stage.ranked,
        "broad": BROAD,
        "first": ids[0] if ids else -(2**63),
        "last": ids[1] if ids else 2**63 - 1,
        "source": source,
        "limit": max(limit, CANDIDATES),
        **filter_params,
    }
    found: list[tuple[int, str, str, float, str | None]] = con.execute(sql, params).fetchall()  # type: ignore[assignment]
    rows = [
        (stage.expression, id_, hit_source, doc_id, score * (1.0 + TITLE_BONUS * title_match(plan, title)))
        for id_, hit_source, doc_id, score, title in found
    ]
    rows.sort(key=lambda row: -row[4])  # stable: equal scores keep the store's order
    return rows[:limit]


def _passage_ids(con: apsw.Connection, source: str | None) -> tuple[int, int] | None:
    """The range of ``source``'s passage ids (``sqlite_schema.record_passage_range``): a
    search of one source looks there alone. None for a search of every source; an empty
    range for a source without passages."""
    if source is None:
        return None
    row = con.execute("SELECT first, last FROM passage_ranges WHERE source = ?", (source,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, -1)


def _any_word(plan: SearchPlan) -> str:
    """What a hit's snippet marks: any word of ``plan`` (one lookup a word for one passage,
    where the stage's expression of groups of words costs milliseconds)."""
    terms = [t for t in [*plan.strict, *plan.fallback] if isinstance(t, Term)]
    return " OR ".join(dict.fromkeys(t.fts5() for t in terms))


def _shown(con: apsw.Connection, ids: list[int]) -> dict[int, dict[str, object]]:
    """The shown fields of the passages ``ids`` still in the store, by id."""
    cursor = con.execute(_SHOWN, (json.dumps(ids),))
    try:
        names = [d[0] for d in cursor.get_description()]
    except apsw.ExecutionCompleteError:  # none of them (any more)
        return {}
    rows = [dict(zip(names, row, strict=True)) for row in cursor]
    return {int(row["id"]): row for row in rows}


_ALONE = threading.local()


def _indexed_alone(shown: dict[int, dict[str, object]]) -> sqlite3.Connection:
    """The database in memory (one a thread, kept) holding ``shown`` alone in the full-text
    index ``_SNIPPETS``."""
    alone: sqlite3.Connection | None = getattr(_ALONE, "con", None)
    if alone is None:
        alone = sqlite3.connect(":memory:", isolation_level=None)
        alone.execute(_SNIPPETS)
        _ALONE.con = alone
    alone.execute("BEGIN")
    try:
        alone.execute("DELETE FROM shown")
        alone.executemany(
            "INSERT INTO shown(rowid, title, heading_path, text, codes) VALUES (?, ?, ?, ?, ?)",
            [(id_, f["title"], f["heading_path"], f["text"], f["codes"]) for id_, f in shown.items()],
        )
    finally:
        alone.execute("COMMIT")
    return alone


def _snippet(con: sqlite3.Connection, expression: str, id_: int, open_: str, close: str) -> str | None:
    row = con.execute(_SNIPPET, {"match": expression, "id": id_, "open": open_, "close": close}).fetchone()
    return None if row is None else str(row[0])


_PREFIX = re.compile(r'"((?:[^"]|"")+)"\*')
_WORD = re.compile(r"\w+")
MAX_COMPLETIONS = 16


def _completed(expression: str, passage: dict[str, object]) -> str:
    """``expression`` with each one-word prefix (``"conf"*``) written as the words of
    ``passage`` that complete it, for its snippet: FTS5 reads every completion of a prefix
    from the whole index for each statement (12 ms for ``the*`` in 100,000 passages)."""
    if "*" not in expression:
        return expression
    text = f"{passage['title'] or ''} {passage['heading_path'] or ''} {passage['text']}"
    words = sorted(set(_WORD.findall(text.casefold())))

    def complete(match: re.Match[str]) -> str:
        prefix = match.group(1).replace('""', '"').casefold()
        found = [w for w in words if w.startswith(prefix)][:MAX_COMPLETIONS] if " " not in prefix else []
        return "(" + " OR ".join(f'"{w}"' for w in found) + ")" if found else match.group(0)

    return _PREFIX.sub(complete, expression)
