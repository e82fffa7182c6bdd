"""A search's cost is bounded however common its words: a stage matching more than
``BROAD`` passages ranks those whose title or headings hold its words, a long query keeps
its rarest words, and a prefix needs three characters (the SQLite store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docbatch import BatchIngestService, QueryError
from docbatch.store import sqlite_search
from docbatch.store.query import plan_search

if TYPE_CHECKING:
    from tests.conftest import MakeService


@pytest.fixture
def service(tmp_path: Path, make_service: MakeService) -> BatchIngestService:
    tree = tmp_path / "docs"
    tree.mkdir()
    body = "The gadget reads the file and the setting. " * 6
    for i in range(12):
        (tree / f"page{i:02d}.md").write_text(f"# Page {i}\n\n{body}\n\nSee page {i} for more.\n")
    (tree / "gadget.md").write_text(f"# Gadget guide\n\n{body}\n")
    (tree / "quokka.md").write_text("# Animals\n\nThe quokka lives on an island; quokkas eat leaves.\n")
    service = make_service()
    service.ingest_batch(tree, pattern="*.md", progress=None)
    return service


def test_a_stage_over_the_bound_ranks_the_passages_titled_with_its_words(
    service: BatchIngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    everywhere = service.search("gadget", limit=20)["doc_id"].to_list()
    assert len(everywhere) == 13
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    assert service.search("gadget", limit=20)["doc_id"].to_list() == ["gadget.md"]


def test_a_code_like_word_over_the_bound_ranks_the_passages_titled_with_it(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    body = "Call read_file to read the file; read_file returns its text. " * 4
    for i in range(12):
        (tree / f"page{i:02d}.md").write_text(f"# Page {i}\n\n{body}\n")
    (tree / "read_file.md").write_text(f"# read_file\n\n{body}\n")
    service = make_service()
    service.ingest_batch(tree, pattern="*.md", progress=None)
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    assert service.search("read_file", limit=3)["doc_id"].to_list() == ["read_file.md"]


def test_a_long_query_is_matched_on_its_rarest_words(
    service: BatchIngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    query = "the gadget reads the file setting page quokka more"
    hits = service.search(query)
    assert hits["doc_id"][0] == "quokka.md"


def test_a_prefix_hit_marks_the_word_it_completes(service: BatchIngestService) -> None:
    hits = service.search("quok*")
    assert hits["doc_id"].to_list() == ["quokka.md"]
    assert "«quokka»" in hits["snippet"][0] and "«quokkas»" in hits["snippet"][0]


@pytest.mark.parametrize("query", ["a*", "qu*", "gadget qu*"])
def test_a_prefix_shorter_than_three_characters_is_refused(service: BatchIngestService, query: str) -> None:
    with pytest.raises(QueryError, match="3 characters"):
        service.search(query)


def test_where_any_word_will_do_a_rare_word_is_not_lost_to_a_common_one(
    service: BatchIngestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    assert "quokka.md" in service.search("quokka gadget")["doc_id"].to_list()
    assert "quokka.md" in service.search("quokka OR gadget")["doc_id"].to_list()


def test_more_than_four_prefixes_are_refused(service: BatchIngestService) -> None:
    assert service.search("gadget* quok* pag* rea*")["doc_id"].to_list()
    with pytest.raises(QueryError, match="5 prefix searches"):
        service.search("gadget* quok* pag* rea* fil*")


@pytest.mark.parametrize(
    "query", ["gadget", "quok*", "read_file", '"the setting"', "gadget reads setting*", "x-forwarded-for"]
)
def test_a_hit_s_snippet_is_the_one_the_store_s_index_makes(
    tmp_path: Path, make_service: MakeService, query: str
) -> None:
    tree = tmp_path / "docs"
    tree.mkdir()
    body = "The gadget reads the file and the setting; read_file and X-Forwarded-For are set. " * 6
    for i in range(4):
        (tree / f"page{i}.md").write_text(f"# Page {i}\n\n{body}\n\nThe quokka and quokkas, settings.\n")
    service = make_service()
    service.ingest_batch(tree, pattern="*.md", progress=None)
    hits = service.search(query, limit=20)
    assert hits.height > 0
    con = sqlite3.connect(service.backend.location)
    plan = plan_search(query)
    words = sqlite_search._any_word(plan)
    for doc_id, passage_id, snippet in hits.select("doc_id", "passage_id", "snippet").iter_rows():
        (id_,) = con.execute(
            "SELECT id FROM passages WHERE doc_id = ? AND passage_id = ?", (doc_id, passage_id)
        ).fetchone()
        row = con.execute("SELECT title, heading_path, text FROM passages WHERE id = ?", (id_,)).fetchone()
        fields = {"title": row[0], "heading_path": row[1], "text": row[2]}
        expression = sqlite_search._completed(words, fields)
        (expected,) = con.execute(
            "SELECT snippet(passages_stem, 2, '«', '»', ' … ', 16) FROM passages_stem"
            " WHERE passages_stem MATCH ? AND rowid = ?",
            (expression, id_),
        ).fetchone()
        assert snippet == expected
    con.close()


def _source(tree: Path, name: str, files: int) -> Path:
    folder = tree / name
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"{name}{i:02d}.md").write_text(f"# Gadget {name} {i}\n\nThe gadget of {name}, part {i}.\n")
    return folder


def test_a_search_of_one_source_ranks_that_sources_passages_however_many_others_match_first(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources ingested one after another: the first ``BROAD`` passages of the index that
    hold ``gadget`` in their title are all the first source's, and a search of the second
    found none of its own."""
    service = make_service()
    service.ingest_batch(_source(tmp_path, "first", 12), pattern="*.md", progress=None)
    service.ingest_batch(_source(tmp_path, "second", 3), pattern="*.md", progress=None)
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    found = service.search("gadget", limit=10, source="second")["doc_id"].to_list()
    assert sorted(found) == ["second00.md", "second01.md", "second02.md"]
    assert service.search("gadget", limit=20, source="first")["doc_id"].str.starts_with("first").sum() == 5
    assert service.search("gadget", limit=10, source="none").is_empty()


def test_a_sources_passage_range_is_widened_by_each_write_and_made_for_an_older_store(
    tmp_path: Path, make_service: MakeService
) -> None:
    service = make_service()
    first = _source(tmp_path, "first", 3)
    service.ingest_batch(first, pattern="*.md", progress=None)
    service.ingest_batch(_source(tmp_path, "second", 3), pattern="*.md", progress=None)
    (first / "first01.md").write_text("# Gadget first 1\n\nChanged.\n")
    service.ingest_batch(first, pattern="*.md", progress=None)  # its passage gets a new id
    db = tmp_path / "s.db"
    service.close()
    con = sqlite3.connect(db)
    by_source = "SELECT source, min(id), max(id) FROM passages GROUP BY source ORDER BY 1"
    expected = con.execute(by_source).fetchall()
    ranges = con.execute("SELECT source, first, last FROM passage_ranges ORDER BY 1").fetchall()
    assert [r[0] for r in ranges] == [e[0] for e in expected]
    assert all(r[1] <= e[1] and r[2] >= e[2] for r, e in zip(ranges, expected, strict=True))
    con.execute("DELETE FROM passage_ranges")
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")  # a store made before them
    con.commit()
    con.close()
    reopened = make_service()
    assert reopened.search("gadget", limit=10, source="second").height == 3
    reopened.close()
    con = sqlite3.connect(db)
    assert con.execute("SELECT source, first, last FROM passage_ranges ORDER BY 1").fetchall() == expected
    con.close()


def test_a_renamed_source_is_searched_in_its_range_and_a_dropped_one_leaves_none(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service()
    service.ingest_batch(_source(tmp_path, "first", 12), pattern="*.md", progress=None)
    service.ingest_batch(_source(tmp_path, "second", 3), pattern="*.md", progress=None)
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    service.rename_source("second", "later")
    assert service.search("gadget", limit=10, source="later").height == 3
    service.drop_source("later")
    service.rename_source("first", "later")  # the dropped source's range is not kept for the name
    assert service.search("gadget", limit=20, source="later")["doc_id"].str.starts_with("first").sum() == 5
    con = sqlite3.connect(tmp_path / "s.db")
    assert [r[0] for r in con.execute("SELECT source FROM passage_ranges")] == ["later"]
    con.close()


def test_a_filter_applies_before_a_broad_stage_takes_its_first_passages(
    tmp_path: Path, make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common word with a filter few passages pass: the first ``BROAD`` passages titled
    with the word are all filtered out, and the filter's own passages were never ranked."""
    tree = _source(tmp_path, "docs", 12)
    (tree / "guide").mkdir()
    (tree / "guide" / "gadget.md").write_text("# Gadget guide\n\nHow the gadget works.\n")
    service = make_service()
    service.ingest_batch(tree, pattern="*.md", progress=None)
    monkeypatch.setattr(sqlite_search, "BROAD", 5)
    assert service.search("gadget", limit=10, path="guide/*")["doc_id"].to_list() == ["guide/gadget.md"]
    assert service.search("gadget", limit=10, heading="guide")["doc_id"].to_list() == ["guide/gadget.md"]
