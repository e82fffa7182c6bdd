"""The SQLite store ranks with BM25 from document frequencies found once a search
(``docbatch.store.sqlite_ranking``), not counted over the whole index by each statement as
FTS5's ``bm25()`` does: the same scores as ``bm25()`` given the same frequencies, a common
word estimated from a sample of the store, a rare one counted, and no statement of a search
counting a common word over the whole store."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import apsw
import polars as pl
import pytest

from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.store import SQLiteStore, sqlite_ranking
from docbatch.store.query import Phrase, phrases, plan_search
from docbatch.store.sqlite_ranking import RANK, Frequencies

MATCH = "passages_stem MATCH ?"
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()


def _passage(n: int) -> str:
    """Passage ``n``'s text: ``common`` in every third passage, ``rare`` in passages 7, 300
    and 590, ``http/2`` and the phrase ``quick fox`` in every fiftieth, code-like words in
    passages 10, 110, ... 510."""
    words = [WORDS[(n * 7 + k) % len(WORDS)] for k in range(12 + n % 9)]
    if n % 3 == 0:
        words.append("common")
    if n in (7, 300, 590):
        words.append("rare")
    if n % 50 == 0:
        words += ["http/2", "serves", "quick", "fox"]
    if n % 100 == 10:
        words += ["c++", "foo-bar", "x_y.z"]
    return " ".join(words)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """600 passages in 60 documents of ten."""
    store = SQLiteStore(tmp_path / "ranked.db")
    for first in range(0, 600, 200):  # three slices: the ids are not one commit's
        docs = range(first // 10, (first + 200) // 10)
        documents = pl.DataFrame(
            [
                {"doc_id": f"d{d:02d}", "title": f"Doc {d} {WORDS[d % 10]}", "format": "markdown"}
                | {"size": 1, "mtime_ns": 1, "content_hash": "h", "n_chars": 1, "n_passages": 10}
                | {"fingerprint": "f"}
                for d in docs
            ],
            schema=DOCUMENTS,
        )
        rows = [
            {"doc_id": f"d{d:02d}", "seq": s, "passage_id": f"d{d}-{s}", "heading_path": WORDS[s]}
            | {"start": 0, "end": 800, "text": _passage(d * 10 + s), "anchor": ""}
            for d in docs
            for s in range(10)
        ]
        store.write_slice("s", documents, pl.DataFrame(rows, schema=PASSAGES), pl.DataFrame(schema=TOUCHED))
    yield store
    store.close()


@pytest.fixture
def con(store: SQLiteStore) -> Iterator[apsw.Connection]:
    con = sqlite_ranking.connect(store.location, 5.0)
    yield con
    con.close()


def _count(con: apsw.Connection, expression: str) -> int:
    row = con.execute(
        "SELECT count(*) FROM passages_stem WHERE passages_stem MATCH ?", (expression,)
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("expression", "phrases_counted"),
    [
        ('"common"', ['"common"']),
        ('"common" AND "alpha"', ['"common"', '"alpha"']),
        ('"beta gamma"', ['"beta gamma"']),
        ('"quick fox" AND "common"', ['"quick fox"', '"common"']),
        ('"gamm"*', ['"gamm"*']),
        ('("http0s2" AND "http 2")', ['"http0s2"', '"http 2"']),
        ('"rare" OR "common" NOT "zeta"', ['"rare"', '"common"', '"zeta"']),
    ],
)
def test_rank_is_fts5s_bm25_given_the_same_frequencies(
    con: apsw.Connection, expression: str, phrases_counted: list[str]
) -> None:
    frequencies = ", ".join(str(_count(con, p)) for p in phrases_counted)
    weights = "4.0, 4.0, 1.0, 4.0"
    rows = con.execute(
        f"SELECT rowid, -bm25(passages_stem, {weights}), {RANK}(passages_stem, {weights}, {frequencies}) "
        "FROM passages_stem WHERE passages_stem MATCH ?",
        (expression,),
    ).fetchall()
    assert len(rows) >= 3
    for _, fts5, ours in rows:
        assert math.isclose(ours, fts5, rel_tol=1e-9, abs_tol=1e-12)  # type: ignore[arg-type]
    assert len({round(float(r[2]), 9) for r in rows}) > 1  # type: ignore[arg-type]  # ranks, not a constant


def test_an_estimate_past_the_passages_there_are_ranks_as_a_word_in_all_of_them(con: apsw.Connection) -> None:
    sql = (
        f"SELECT {RANK}(passages_stem, 4, 4, 1, 4, ?) FROM passages_stem WHERE {MATCH} ORDER BY rowid LIMIT 1"
    )
    scores = [con.execute(sql, (found, '"alpha"')).fetchall() for found in (600, 650, 1e9)]  # in all 600
    assert scores[0] == scores[1] == scores[2]
    assert 0 < float(scores[0][0][0]) < 1e-4  # type: ignore[arg-type]  # FTS5's least idf, 1e-6


def test_rank_refuses_a_frequency_short(con: apsw.Connection) -> None:
    with pytest.raises(ValueError, match=r"a frequency for each of the 2 phrases"):
        con.execute(
            f"SELECT {RANK}(passages_stem, 4, 4, 1, 4, 10) FROM passages_stem WHERE passages_stem MATCH ?",
            ('"common" AND "alpha"',),
        ).fetchall()


def test_the_phrases_of_a_plan_are_those_fts5_numbers(con: apsw.Connection) -> None:
    """``phrases`` (one frequency each) agrees with FTS5 over the kinds of terms: a search
    with one frequency too few or too many fails in ``rank``, which each query's passages
    are ranked by."""
    for query in ["http/2 common", "c++ beta*", '"beta gamma" OR rare', "common NOT rare", "foo-bar x_y.z"]:
        plan = plan_search(query)
        found = phrases(plan.strict)
        frequencies = ", ".join("1" for _ in found)
        sql = f"SELECT {RANK}(passages_stem, 4, 4, 1, 4, {frequencies}) FROM passages_stem WHERE {MATCH}"
        assert con.execute(sql, (plan.strict_fts5(),)).fetchall(), query  # ranked: rank was called


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """The statements (and their values) of the searches of the test, as they run."""
    statements: list[tuple[str, object]] = []
    connect = sqlite_ranking.connect

    def traced(path: str, timeout_s: float) -> apsw.Connection:
        con = connect(path, timeout_s)

        def trace(_cursor: apsw.Cursor, sql: str, bindings: object) -> bool:
            statements.append((sql, bindings))
            return True

        con.exec_trace = trace
        return con

    monkeypatch.setattr(sqlite_ranking, "connect", traced)
    return statements


def _sampling(sql: str) -> bool:
    """Whether ``sql`` counts in a window of the sample (a bounded count holds a LIMIT)."""
    return "BETWEEN" in sql and "LIMIT" not in sql


@pytest.fixture
def sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample of 64 ids in 4 windows (of a store of 600 passages)."""
    monkeypatch.setattr(sqlite_ranking, "SAMPLED_IDS", 64)
    monkeypatch.setattr(sqlite_ranking, "WINDOWS", 4)
    monkeypatch.setattr(sqlite_ranking, "EXACT_BELOW", 8)


@pytest.mark.usefixtures("sampled")
def test_a_common_word_is_estimated_from_the_sample_and_a_rare_one_counted(con: apsw.Connection) -> None:
    frequencies = Frequencies(con, cap=20)
    common = frequencies.of(Phrase(("common",)))
    assert _count(con, '"common"') == 200
    assert 0.75 * 200 <= common <= 1.25 * 200
    assert common != 200  # estimated, not counted
    assert frequencies.of(Phrase(("rare",))) == 3.0
    assert frequencies.of(Phrase(("absent",))) == 0.0


@pytest.mark.usefixtures("sampled")
def test_a_prefix_is_counted_up_to_the_cap_and_else_counts_as_its_bare_word(con: apsw.Connection) -> None:
    """A prefix is never sampled: each statement over it reads every word it stands for."""
    statements: list[str] = []

    def trace(_cursor: apsw.Cursor, sql: str, bindings: object) -> bool:
        statements.append(f"{sql} {bindings}")
        return True

    con.exec_trace = trace
    frequencies = Frequencies(con, cap=20)
    assert frequencies.of(Phrase(("ra",), prefix=True)) == 3.0  # rare
    common = frequencies.of(Phrase(("gamma",), prefix=True))
    assert common == frequencies.of(Phrase(("gamma",)))
    assert 0.75 * _count(con, '"gamma"') <= common <= 1.25 * _count(con, '"gamma"')
    assert not [s for s in statements if _sampling(s) and '"*' in s]


@pytest.mark.usefixtures("sampled")
def test_a_phrase_is_counted_up_to_the_cap_and_else_counts_as_its_rarest_word(con: apsw.Connection) -> None:
    rare_phrase = Phrase(("quick", "fox"))  # in the 12 passages of http/2
    assert _count(con, rare_phrase.fts5()) == 12
    assert Frequencies(con, cap=20).of(rare_phrase) == _count(con, rare_phrase.fts5())
    common_phrase = Phrase(("alpha", "beta"))
    assert _count(con, common_phrase.fts5()) > 20
    found = Frequencies(con, cap=20).of(common_phrase)
    rarest = min(Frequencies(con, cap=20).of(Phrase((w,))) for w in common_phrase.words)
    assert found == max(21.0, rarest)


def test_a_small_store_is_counted_whole(con: apsw.Connection) -> None:
    assert Frequencies(con, cap=20).of(Phrase(("common",))) == 200.0


@pytest.mark.usefixtures("sampled")
def test_no_statement_of_a_search_counts_a_common_word_over_the_whole_store(
    store: SQLiteStore, statements: list[tuple[str, object]]
) -> None:
    hits = store.search("common alpha", limit=5)
    assert len(hits) == 5
    assert not any(re.search(r"\bbm25\(", sql) for sql, _ in statements)
    whole = [b for sql, b in statements if sql.strip().endswith("MATCH ?") and "count(*)" in sql]
    between = [b for sql, b in statements if _sampling(sql)]
    assert between  # the common words were sampled
    assert all(b not in [('"common"',), ('"alpha"',)] for b in whole)


def test_a_search_sees_what_was_written_after_its_connection_opened(store: SQLiteStore) -> None:
    assert store.search("rare", limit=10).height == 3
    documents = pl.DataFrame(
        [
            {"doc_id": "new", "title": "New", "format": "markdown", "size": 1, "mtime_ns": 1}
            | {"content_hash": "h", "n_chars": 1, "n_passages": 1, "fingerprint": "f"}
        ],
        schema=DOCUMENTS,
    )
    passages = pl.DataFrame(
        [
            {"doc_id": "new", "seq": 0, "passage_id": "n0", "heading_path": "x", "start": 0, "end": 9}
            | {"text": "a rare find", "anchor": ""}
        ],
        schema=PASSAGES,
    )
    store.write_slice("s", documents, passages, pl.DataFrame(schema=TOUCHED))
    assert store.search("rare", limit=10).height == 4


def test_a_code_like_word_is_counted_by_its_code_alone(
    store: SQLiteStore, statements: list[tuple[str, object]]
) -> None:
    """Its plain words (a phrase, costly to find) stand wherever it does; they are ranked,
    not counted."""
    assert store.search("http/2 serves", limit=20).height == 12
    counts = [str(b) for sql, b in statements if "count(*)" in sql]
    assert any('"http0s2"' in b for b in counts)
    assert not any('"http 2"' in b for b in counts)
    ranked = [str(b) for sql, b in statements if RANK in sql]
    assert ranked and all('"http 2"' in b for b in ranked)
