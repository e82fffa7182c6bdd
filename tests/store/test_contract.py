"""The store contract: the same tests for every backend (SQLite, PostgreSQL and the in-memory
store, whose simple search keeps the same query rules)."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService
from docbatch.errors import ConfigError, MassDeleteError, QueryError, StoreBusyError, StoreError
from docbatch.frames import DOCUMENTS, KNOWN_DOCUMENTS, PASSAGES, PROBLEMS, SEARCH_HITS, TOUCHED
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
from docbatch.store import DocumentStore
from docbatch.store.base import SOURCES, SourceRegistry

from .conftest import Backend

NO_TOUCH = pl.DataFrame(schema=TOUCHED)
DOC_DEFAULTS = {
    "format": "markdown",
    "size": 10,
    "mtime_ns": 1,
    "n_chars": 5,
    "n_passages": 1,
    "fingerprint": "fp",
}


def _docs(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {**DOC_DEFAULTS, "doc_id": doc_id, "title": title, "content_hash": digest}
            for doc_id, title, digest in rows
        ],
        schema=DOCUMENTS,
    )


def _passages(doc_id: str, *texts: str) -> pl.DataFrame:
    return pl.DataFrame(
        [(doc_id, i, f"{doc_id}-{i}", "Head", 0, len(t), t, "", None, None) for i, t in enumerate(texts)],
        schema=PASSAGES,
        orient="row",
    )


def test_store_satisfies_the_protocol(store: DocumentStore, backend: Backend) -> None:
    assert isinstance(store, DocumentStore)
    assert store.location == backend.location
    assert store.counts() == {"documents": 0, "passages": 0}
    assert store.known_documents("s").schema == pl.Schema(KNOWN_DOCUMENTS)
    assert store.passages("s", "nothing.md").schema == pl.Schema(PASSAGES)


def test_write_and_search(store: DocumentStore) -> None:
    store.write_slice(
        "src",
        _docs(("a.md", "Alpha", "h1"), ("b.md", "Beta", "h2")),
        pl.concat(
            [
                _passages("a.md", "install the widget", "configure things"),
                _passages("b.md", "widget removal guide"),
            ]
        ),
        NO_TOUCH,
    )
    hits = store.search("widget")
    assert hits.schema == pl.Schema(SEARCH_HITS)
    assert set(hits["doc_id"]) == {"a.md", "b.md"}
    assert hits["score"].is_sorted(descending=True)
    assert "«widget»" in hits.filter(pl.col("doc_id") == "a.md")["snippet"][0]
    assert store.search("install widget")["doc_id"].to_list() == ["a.md"]
    assert store.counts() == {"documents": 2, "passages": 3}


def test_search_finds_titles_and_headings_and_respects_the_limit(store: DocumentStore) -> None:
    docs = _docs(*((f"{i}.md", "Zebra handbook", f"h{i}") for i in range(5)))
    passages = pl.concat([_passages(f"{i}.md", f"text number {i}") for i in range(5)])
    store.write_slice("s", docs, passages.with_columns(heading_path=pl.lit("Setup > Ports")), NO_TOUCH)
    assert store.search("zebra").height == 5
    assert store.search("ports", limit=2).height == 2
    with pytest.raises(QueryError, match="limit"):
        store.search("zebra", limit=0)


def test_operators(store: DocumentStore) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h"), ("b.md", "B", "h"), ("c.md", "C", "h")),
        pl.concat(
            [
                _passages("a.md", "widget install"),
                _passages("b.md", "widget removal"),
                _passages("c.md", "gadget"),
            ]
        ),
        NO_TOUCH,
    )
    assert set(store.search("install OR gadget")["doc_id"]) == {"a.md", "c.md"}
    assert store.search("widget NOT removal")["doc_id"].to_list() == ["a.md"]
    assert store.search("widget AND removal")["doc_id"].to_list() == ["b.md"]


def test_rewriting_a_document_replaces_all_its_passages(store: DocumentStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h1")), _passages("a.md", "one", "two", "three"), NO_TOUCH)
    store.write_slice("s", _docs(("a.md", "A", "h2")), _passages("a.md", "uno"), NO_TOUCH)
    assert store.passages("s", "a.md")["text"].to_list() == ["uno"]
    assert store.search("three").height == 0
    assert store.known_documents("s")["content_hash"].to_list() == ["h2"]
    assert store.counts() == {"documents": 1, "passages": 1}


def test_sources_are_separate(store: DocumentStore) -> None:
    store.write_slice("one", _docs(("a.md", "A", "h")), _passages("a.md", "shared word"), NO_TOUCH)
    store.write_slice("two", _docs(("a.md", "A", "h")), _passages("a.md", "shared word"), NO_TOUCH)
    assert store.search("shared").height == 2
    assert store.search("shared", source="two")["source"].to_list() == ["two"]
    assert store.known_documents("one").height == 1
    store.write_slice("two", _docs(("a.md", "A", "h2")), _passages("a.md", "changed"), NO_TOUCH)
    assert store.passages("one", "a.md")["text"].to_list() == ["shared word"]


def test_touched_updates_size_and_mtime_only(store: DocumentStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "text"), NO_TOUCH)
    touched = pl.DataFrame({"doc_id": ["a.md"], "size": [10], "mtime_ns": [99]}, schema=TOUCHED)
    store.write_slice("s", _docs(), _passages("x"), touched)
    known = store.known_documents("s").row(0, named=True)
    assert (known["doc_id"], known["size"], known["mtime_ns"], known["content_hash"]) == ("a.md", 10, 99, "h")
    assert store.passages("s", "a.md")["text"].to_list() == ["text"]


def test_deleting_documents_removes_their_passages(store: DocumentStore) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h"), ("b.md", "B", "h")),
        pl.concat([_passages("a.md", "alpha one", "alpha two"), _passages("b.md", "beta")]),
        NO_TOUCH,
    )
    store.write_slice("t", _docs(("a.md", "A", "h")), _passages("a.md", "alpha elsewhere"), NO_TOUCH)
    assert store.delete_documents("s", ["a.md", "missing.md"]) == 1
    assert store.known_documents("s")["doc_id"].to_list() == ["b.md"]
    assert store.search("alpha")["source"].to_list() == ["t"]
    assert store.counts() == {"documents": 2, "passages": 2}
    assert store.delete_documents("s", []) == 0


def test_integrity_finds_and_repairs_orphaned_passages(store: DocumentStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "kept"), NO_TOUCH)
    store.write_slice("s", _docs(("b.md", "B", "h")), _passages("b.md", "one", "two"), NO_TOUCH)
    store.write_slice("s", _docs(), _passages("lost.md", "orphan one", "orphan two"), NO_TOUCH)
    problems = store.integrity("s")
    assert problems.schema == pl.Schema(PROBLEMS)
    assert sorted(problems.select("doc_id", "kind").rows()) == [
        ("b.md", "passage_count"),
        ("lost.md", "orphaned_passages"),
    ]
    assert store.integrity("other").height == 0
    store.repair_integrity("s")
    assert store.integrity("s")["kind"].to_list() == ["passage_count"]
    assert store.search("orphan").height == 0
    assert store.counts() == {"documents": 2, "passages": 3}


def test_a_failed_write_leaves_nothing_behind(store: DocumentStore) -> None:
    bad = _passages("a.md", "one").with_columns(seq=pl.lit(None, dtype=pl.Int32))
    with pytest.raises(StoreError):
        store.write_slice("s", _docs(("a.md", "A", "h")), bad, NO_TOUCH)
    assert store.counts() == {"documents": 0, "passages": 0}


def test_a_failed_write_keeps_the_previous_version(store: DocumentStore) -> None:
    store.write_slice("s", _docs(("a.md", "A", "h1")), _passages("a.md", "old text"), NO_TOUCH)
    bad = _passages("a.md", "new", "newer").with_columns(seq=pl.lit(0, dtype=pl.Int32))
    with pytest.raises(StoreError):
        store.write_slice("s", _docs(("a.md", "A", "h2"), ("b.md", "B", "h")), bad, NO_TOUCH)
    assert store.passages("s", "a.md")["text"].to_list() == ["old text"]
    assert store.known_documents("s")["content_hash"].to_list() == ["h1"]
    store.write_slice("s", _docs(("b.md", "B", "h")), _passages("b.md", "fine"), NO_TOUCH)
    assert store.counts() == {"documents": 2, "passages": 2}


def test_locked_store_is_a_transient_busy_error(backend: Backend) -> None:
    store = backend.open(busy_timeout_s=0.05)
    try:
        with backend.hold_write_lock():
            with pytest.raises(StoreBusyError, match="locked"):
                store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "x"), NO_TOUCH)
        store.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "x"), NO_TOUCH)
        assert store.counts()["documents"] == 1
    finally:
        store.close()


@pytest.mark.parametrize(
    "query", ["c++", "foo-bar", "what's new?", "path:docs", "NEAR(a b)", "it's*", "a\\b"]
)
def test_user_text_never_breaks_the_match_syntax(store: DocumentStore, query: str) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h")),
        _passages("a.md", "c++ and foo-bar: what's new? path:docs"),
        NO_TOUCH,
    )
    assert isinstance(store.search(query), pl.DataFrame)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced', "unbalanced double quote"),
        ("", "empty search query"),
        ("   ", "empty search query"),
        ("OR", "no words"),
        ("widget OR", "operator needs words"),
    ],
)
def test_malformed_queries_give_clear_errors(store: DocumentStore, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        store.search(query)


def test_phrase_and_prefix_search(store: DocumentStore) -> None:
    store.write_slice(
        "s",
        _docs(("a.md", "A", "h"), ("b.md", "B", "h")),
        pl.concat([_passages("a.md", "quick start guide"), _passages("b.md", "start quick")]),
        NO_TOUCH,
    )
    assert store.search('"quick start"')["doc_id"].to_list() == ["a.md"]
    assert set(store.search("gui*")["doc_id"]) == {"a.md"}


def test_readers_see_committed_slices_only(backend: Backend) -> None:
    writer = backend.open()
    writer.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "first"), NO_TOUCH)
    seen: list[int] = []

    def read() -> None:
        reader = backend.open()
        seen.append(reader.counts()["documents"])
        reader.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    writer.close()
    assert seen == [1]


def test_a_store_reopens_with_its_contents(backend: Backend) -> None:
    first = backend.open()
    first.write_slice("s", _docs(("a.md", "A", "h")), _passages("a.md", "kept"), NO_TOUCH)
    first.close()
    again = backend.open()
    assert again.passages("s", "a.md")["text"].to_list() == ["kept"]
    again.close()


def test_ingesting_the_sample_tree_twice(store: DocumentStore, sample_tree: Path, tmp_path: Path) -> None:
    config = BatchConfig(max_file_size=SAMPLE_MAX_FILE_SIZE, chunk_processing_size=7)
    with BatchIngestService(store, config=config, state_dir=tmp_path / "state") as service:
        first = service.ingest_batch(sample_tree, pattern=SAMPLE_PATTERN, executor="serial")
        counts = service.backend.counts()
        again = service.ingest_batch(sample_tree, pattern=SAMPLE_PATTERN, executor="serial")
        assert first.succeeded == counts["documents"] > 20
        assert (
            again.succeeded == 0 and again.skipped == first.succeeded + first.skipped
        )  # hidden: skipped twice
        assert service.backend.counts() == counts
        assert service.search("quokka")["doc_id"][0] == "guides/troubleshooting.md"


# sources: each source's root, listed, renamed and dropped --------------------------------------


def test_sources_are_listed_with_their_roots(store: DocumentStore) -> None:
    assert isinstance(store, SourceRegistry)
    assert store.sources().schema == pl.Schema(SOURCES) and store.sources().height == 0
    store.write_slice("b", _docs(("x.md", "X", "h")), _passages("x.md", "text"), NO_TOUCH)
    store.record_source("a", "/data/a")
    store.write_slice("a", _docs(("1.md", "1", "h"), ("2.md", "2", "h")), _passages("1.md", "one"), NO_TOUCH)
    listed = store.sources()
    assert listed.select("name", "root", "documents").rows() == [("a", "/data/a", 2), ("b", None, 1)]
    assert listed["last_ingest"].null_count() == 0  # b: when its newest document was written
    assert store.lookup_source("a") == (True, "/data/a")
    assert store.lookup_source("b") == (True, None)
    assert store.lookup_source("c") == (False, None)
    store.record_source("a")  # an ingest that keeps the root
    assert store.sources()["root"].to_list() == ["/data/a", None]
    store.record_source("a", "/data/moved")
    store.record_source("b", "/data/b")
    assert store.sources()["root"].to_list() == ["/data/moved", "/data/b"]


def test_renaming_a_source_moves_its_documents_passages_and_record(store: DocumentStore) -> None:
    assert isinstance(store, SourceRegistry)
    store.record_source("old", "/data/old")
    store.write_slice("old", _docs(("a.md", "Alpha", "h1")), _passages("a.md", "wombat one"), NO_TOUCH)
    store.write_slice("other", _docs(("b.md", "Beta", "h2")), _passages("b.md", "wombat too"), NO_TOUCH)
    assert store.rename_source("old", "new") == 1
    assert store.known_documents("old").height == 0
    assert store.known_documents("new")["doc_id"].to_list() == ["a.md"]
    assert store.passages("new", "a.md")["text"].to_list() == ["wombat one"]
    assert sorted(store.search("wombat").select("source", "doc_id").rows()) == [
        ("new", "a.md"),
        ("other", "b.md"),
    ]
    assert store.integrity("new").height == 0
    assert store.sources().select("name", "root").rows() == [("new", "/data/old"), ("other", None)]

    before = store.counts()
    with pytest.raises(ConfigError, match="a source 'other' exists already"):
        store.rename_source("new", "other")
    with pytest.raises(ConfigError, match="no source 'old'"):
        store.rename_source("old", "x")
    assert store.counts() == before and store.known_documents("new").height == 1
    # a rewrite after the rename replaces the document's passages, as for any document
    store.write_slice("new", _docs(("a.md", "Alpha", "h3")), _passages("a.md", "fresh"), NO_TOUCH)
    assert store.passages("new", "a.md")["text"].to_list() == ["fresh"]
    assert store.search("wombat")["doc_id"].to_list() == ["b.md"]


def test_dropping_a_source_removes_it_alone(store: DocumentStore) -> None:
    assert isinstance(store, SourceRegistry)
    store.record_source("gone", "/data/gone")
    store.write_slice(
        "gone", _docs(("a.md", "A", "h1"), ("b.md", "B", "h2")), _passages("a.md", "numbat"), NO_TOUCH
    )
    store.write_slice("kept", _docs(("a.md", "A", "h1")), _passages("a.md", "numbat"), NO_TOUCH)
    assert store.drop_source("gone") == 2
    assert store.sources()["name"].to_list() == ["kept"]
    assert store.counts() == {"documents": 1, "passages": 1}
    assert store.search("numbat").select("source", "doc_id").rows() == [("kept", "a.md")]
    assert store.integrity("kept").height == 0
    with pytest.raises(ConfigError, match="no source 'gone'"):
        store.drop_source("gone")


def test_a_repair_from_another_folder_and_a_renamed_root(store: DocumentStore, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for folder in (docs, tmp_path / "OTHER" / "docs"):
        folder.mkdir(parents=True)
        (folder / "one.md").write_text("# One\n\nplatypus\n", encoding="utf-8")
    for i in range(9):
        (docs / f"p{i}.md").write_text(f"# P{i}\n\nplatypus {i}\n", encoding="utf-8")
    with BatchIngestService(store, state_dir=tmp_path / "state") as service:
        service.ingest_batch(docs, pattern="*.md", executor="serial")
        assert service.sources().select("name", "root", "documents").rows() == [("docs", str(docs), 10)]
        before = store.counts()
        with pytest.raises(ConfigError, match="refusing to repair source 'docs'"):
            service.verify(tmp_path / "OTHER" / "docs", "*.md", repair=True)
        with pytest.raises(MassDeleteError, match="refusing to delete 9 of 10"):
            service.verify(tmp_path / "OTHER" / "docs", "*.md", repair=True, source="docs")
        assert store.counts() == before

        moved = docs.rename(tmp_path / "docs2")
        with pytest.raises(ConfigError, match="docbatch sources rename docs docs2"):
            service.ingest_batch(moved, pattern="*.md", executor="serial")
        assert store.counts() == before
        assert service.rename_source("docs", "docs2") == 10
        again = service.ingest_batch(moved, pattern="*.md", executor="serial")
        assert again.succeeded == 0 and store.counts() == before
        assert service.sources().select("name", "root").rows() == [("docs2", str(moved))]
        assert service.search("platypus", limit=50).height == 10
