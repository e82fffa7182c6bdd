"""BM25 for the SQLite store's search without counting a phrase over the whole index on
each query.

FTS5's ``bm25()`` counts, for every phrase of a query, the passages holding it: a pass over
the phrase's whole entry in the index, whatever the query's ``LIMIT`` (20 ms for ``server``
and 80 ms for the phrase ``"2 2"`` at 2.8 million passages). ``RANK`` is the same formula
(FTS5's constants, column weights and passage lengths) run as an auxiliary function of a
connection of ``apsw`` (which registers them; ``sqlite3`` cannot), given each phrase's
document frequency. ``Frequencies`` finds those from a fixed sample of the index: a rare
word is counted exactly, a common one in ``WINDOWS`` windows of passage ids spread over
the store (about one per cent of a large one), which is as good for its idf (the ``log``
of a share) at a bounded cost; a phrase is counted up to a bound, past it as its rarest
word.
"""

from __future__ import annotations

import math

import apsw

from docbatch.store.query import Phrase

K1 = 1.2
B = 0.75
"""BM25's constants, FTS5's own."""
RANK = "docbatch_bm25"
"""``docbatch_bm25(passages_stem, <a weight per column>, <a frequency per phrase>)``: a
passage's BM25 score (higher is better), the columns weighted as by ``bm25()``."""
COLUMNS = 4
SAMPLED_IDS = 32_768
"""The passage ids a common word is counted over (a store of fewer is counted whole): at 2.8
million passages, 1.2 per cent, and 15 words from ``2`` to ``upgrading`` estimated within
25 per cent of their count, as well as from four times as many ids (``server``: 0.8 ms to
count in those, 33 ms in the whole store)."""
WINDOWS = 16
"""The windows of ids the sample is spread over (a store's passages are in the order of
their sources and documents: a word of one part of it is not missed)."""
EXACT_BELOW = 64
"""A word found fewer times than this in the sample is counted over the whole store
(cheap for a rare phrase, whose idf matters most)."""
_COUNT = "SELECT count(*) FROM passages_stem WHERE passages_stem MATCH ?"
_COUNT_BETWEEN = _COUNT + " AND rowid BETWEEN ? AND ?"
_ALL = (-(2**63), 2**63 - 1)
_ID_RANGE = "SELECT (SELECT min(id) FROM passages), (SELECT max(id) FROM passages)"
_COUNT_UP_TO = (
    "SELECT count(*) FROM (SELECT 1 FROM passages_stem WHERE passages_stem MATCH ? "
    "AND rowid BETWEEN ? AND ? LIMIT ?)"
)


def rank(api: apsw.FTS5ExtensionApi, *args: apsw.SQLiteValue) -> float:
    """``RANK`` of the passage at ``api``: ``args`` are ``COLUMNS`` weights, then each
    phrase's document frequency (a count or an estimate), in the order of the query's
    phrases. Written for speed (a call a passage, 3 µs for five phrases)."""
    state = api.aux_data
    if state is None:
        state = api.aux_data = _statement_state(api, args)
    base, per_token, idf, (w0, w1, w2, w3) = state
    norm = base + per_token * api.column_size(-1)
    locations = api.phrase_locations
    score = 0.0
    for phrase, phrase_idf in idf:
        title, heading_path, text, codes = locations(phrase)
        freq = w0 * len(title) + w1 * len(heading_path) + w2 * len(text) + w3 * len(codes)
        if freq:
            score += phrase_idf * freq * (K1 + 1.0) / (freq + norm)
    return score


def _statement_state(
    api: apsw.FTS5ExtensionApi, args: tuple[apsw.SQLiteValue, ...]
) -> tuple[float, float, list[tuple[int, float]], tuple[float, ...]]:
    """What ``rank`` computes once a statement: BM25's length terms, each phrase's idf (as
    FTS5's ``bm25()``: never below 1e-6), the weights."""
    values = [float(a) for a in args if isinstance(a, int | float)]
    if len(values) != len(args) or api.column_count != COLUMNS or len(args) != COLUMNS + api.phrase_count:
        raise ValueError(
            f"{RANK}(table, {COLUMNS} weights, a frequency for each of the {api.phrase_count} phrases) "
            f"was given {args!r} over {api.column_count} columns"
        )
    rows = api.row_count
    # an estimate may pass the passages there are (a word in nearly all of them)
    found = [min(max(f, 0.0), float(rows)) for f in values[COLUMNS:]]
    idf = [max(math.log((rows - f + 0.5) / (f + 0.5)), 1e-6) for f in found]
    average = api.column_total_size(-1) / rows if rows else 1.0
    return K1 * (1 - B), K1 * B / (average or 1.0), list(enumerate(idf)), tuple(values[:COLUMNS])


def connect(path: str, timeout_s: float) -> apsw.Connection:
    """A read-only connection to the store at ``path`` with ``RANK`` registered."""
    con = apsw.Connection(path, flags=apsw.SQLITE_OPEN_READONLY)
    con.set_busy_timeout(int(timeout_s * 1000))
    con.register_fts5_function(RANK, rank)
    return con


class Frequencies:
    """How many passages of a store hold an expression, a phrase or a word, for one search
    (each found once): the bounded counts that plan the search's stages (``capped``, among
    the passage ids ``ids`` when given) and the document frequencies that rank them (``of``,
    over the whole store)."""

    def __init__(self, con: apsw.Connection, cap: int, ids: tuple[int, int] | None = None) -> None:
        self._con = con
        self._cap = cap
        self._ids = ids or _ALL
        self._capped: dict[tuple[str, tuple[int, int]], int] = {}
        self._words: dict[str, float] = {}
        self._windows: list[tuple[int, int]] | None = None
        self._scale = 1.0

    def capped(self, expression: str, ids: tuple[int, int] | None = None) -> int:
        """The passages matching ``expression`` among the search's ids (or ``ids``),
        counted up to ``cap`` + 1 (a pass that stops there)."""
        key = (expression, ids or self._ids)
        found = self._capped.get(key)
        if found is None:
            found = self._capped[key] = self._count(_COUNT_UP_TO, expression, *key[1], self._cap + 1)
        return found

    def of(self, phrase: Phrase) -> float:
        """The document frequency of ``phrase``: a word's counted or estimated (``_of_word``),
        a phrase's counted when ``cap`` or fewer passages hold it, else as its rarest word's.
        FTS5 seeks a word's passages in a range of ids, but runs a phrase on past the range
        to its next match (13 ms for a window where ``"2 2"`` is in no heading): a phrase
        is not sampled."""
        words = phrase.words_fts5()
        if len(words) == 1:
            return self._of_word(words[0])
        found = self.capped(phrase.fts5(), _ALL)
        return float(found) if found <= self._cap else max(float(found), min(map(self._of_word, words)))

    def _of_word(self, word: str) -> float:
        found = self._words.get(word)
        if found is None:
            found = self._words[word] = self._of_prefix(word) if word.endswith("*") else self._estimate(word)
        return found

    def _of_prefix(self, prefix: str) -> float:
        """A prefix's frequency: counted up to ``cap``, past that as its bare word's. A
        statement over a prefix reads every word it stands for from the whole index (350 ms
        for ``the*`` at 2.8 million passages), so a window of the sample costs as much as
        the whole."""
        found = self.capped(prefix, _ALL)
        return float(found) if found <= self._cap else max(float(found), self._of_word(prefix[:-1]))

    def _estimate(self, word: str) -> float:
        windows = self._sample()
        if windows:
            in_sample = sum(self._count(_COUNT_BETWEEN, word, lo, hi) for lo, hi in windows)
            if in_sample >= EXACT_BELOW:
                return in_sample * self._scale
        return float(self._count(_COUNT, word))

    def _count(self, sql: str, *params: str | int) -> int:
        row = self._con.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def _sample(self) -> list[tuple[int, int]]:
        """The windows of ids sampled (none when the store is small enough to count whole)."""
        if self._windows is None:
            # two subqueries: SQLite reads min() or max() alone off the index, both at once by a scan
            row = self._con.execute(_ID_RANGE).fetchone()
            low, high = (int(v) if v is not None else 0 for v in row) if row else (0, 0)
            span = high - low + 1
            if span <= SAMPLED_IDS:
                self._windows = []
            else:
                width = SAMPLED_IDS // WINDOWS
                step = (span - width) / (WINDOWS - 1)
                starts = [low + round(k * step) for k in range(WINDOWS)]
                self._windows = [(start, start + width - 1) for start in starts]
                self._scale = span / (WINDOWS * width)
        return self._windows
