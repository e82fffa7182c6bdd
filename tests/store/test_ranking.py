"""Search ranking and matching rules: stems with the exact word first, code-like tokens
(``c++``, ``foo-bar``), mnemonic brackets, questions, the fallback to some of the words,
one passage per document, and the SQLite upgrade that builds the new indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.store import DocumentStore, SQLiteStore, open_store
from docbatch.store.query import plan_search
from docbatch.store.sqlite_schema import SCHEMA_VERSION
from docbatch.store.tokens import codes, token_code

NO_TOUCH = pl.DataFrame(schema=TOUCHED)
FILLER = (
    "Each setting is read when the service starts, and a change takes effect at the next start. "
    "The values shown here are the defaults that a fresh installation uses on every platform. "
)


def _write(store: DocumentStore, *docs: tuple[str, str, list[tuple[str, str]]]) -> None:
    """Documents ``(doc_id, title, [(heading_path, text), ...])`` in one slice."""
    documents = pl.DataFrame(
        [
            {
                "doc_id": doc_id,
                "title": title,
                "format": "markdown",
                "size": 10,
                "mtime_ns": 1,
                "content_hash": "h",
                "n_chars": 5,
                "n_passages": len(passages),
                "fingerprint": "fp",
            }
            for doc_id, title, passages in docs
        ],
        schema=DOCUMENTS,
    )
    rows = [
        {"doc_id": doc_id, "seq": i, "passage_id": f"{doc_id}-{i}", "heading_path": heading}
        | {"start": i * 1000, "end": i * 1000 + len(text), "text": text, "anchor": ""}
        for doc_id, _, passages in docs
        for i, (heading, text) in enumerate(passages)
    ]
    store.write_slice("s", documents, pl.DataFrame(rows, schema=PASSAGES), NO_TOUCH)


def _docs(store: DocumentStore, query: str, **options: object) -> list[str]:
    return store.search(query, **options)["doc_id"].to_list()  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
def ranked_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    """The stores that stem and rank (the in-memory store matches words as written)."""
    if request.param == "sqlite":
        store: DocumentStore = SQLiteStore(tmp_path / "ranked.db")
    else:
        store = open_store(request.getfixturevalue("postgres_schema_url"))
    yield store
    store.close()


# matching rules: every store -------------------------------------------------------------


def test_code_like_tokens_match_as_written(store: DocumentStore) -> None:
    _write(
        store,
        ("plus.md", "P", [("Head", "Compile c++ code here")]),
        ("sharp.md", "S", [("Head", "Compile c# code here")]),
        ("plain.md", "C", [("Head", "Compile c code here")]),
        ("dash.md", "D", [("Head", "call foo-bar now")]),
        ("dot.md", "O", [("Head", "call foo.bar now")]),
    )
    assert _docs(store, "c++") == ["plus.md"]
    assert _docs(store, "c#") == ["sharp.md"]
    assert "plain.md" in _docs(store, "c")
    assert _docs(store, "foo-bar") == ["dash.md"]
    assert _docs(store, "foo.bar") == ["dot.md"]
    assert _docs(store, "foo-b*") == ["dash.md"]


def test_mnemonic_brackets_are_joined(store: DocumentStore) -> None:
    _write(store, ("tar.md", "Tar", [("Keys", "E[x]tract the files of an archive")]))
    assert _docs(store, "extract") == ["tar.md"]
    assert _docs(store, "E[x]tract") == ["tar.md"]


def test_a_question_needs_only_its_meaningful_words(store: DocumentStore) -> None:
    _write(
        store,
        ("link.md", "Linking", [("Head", "Link a library into an executable with one command.")]),
        ("other.md", "Other", [("Head", "Nothing about it.")]),
    )
    assert _docs(store, "How do I link a library to my executable?") == ["link.md"]


def test_when_not_every_word_matches_the_best_partial_matches_follow(store: DocumentStore) -> None:
    _write(
        store,
        ("all.md", "A", [("Head", "rotate the server logs daily")]),
        ("two.md", "T", [("Head", "rotate the logs weekly")]),
        ("one.md", "O", [("Head", "rotate images by ninety degrees")]),
        ("none.md", "N", [("Head", "nothing to see")]),
    )
    assert _docs(store, "rotate server logs") == ["all.md", "two.md"]
    assert set(_docs(store, "rotate logs")) == {"all.md", "two.md"}
    assert set(_docs(store, "rotate zebras")) == {"all.md", "two.md", "one.md"}
    assert _docs(store, "zebras quaggas") == []


def test_one_passage_per_document_when_grouped(store: DocumentStore) -> None:
    _write(
        store,
        ("a.md", "A", [("One", "wombat burrow"), ("Two", "wombat food"), ("Three", "wombat sleep")]),
        ("b.md", "B", [("One", "wombat")]),
    )
    assert len(_docs(store, "wombat")) == 4
    grouped = store.search("wombat", group_by_document=True)
    assert sorted(grouped["doc_id"].to_list()) == ["a.md", "b.md"]


# ranking: the stores that stem ------------------------------------------------------------


def test_stemming_finds_other_forms_of_a_word(ranked_store: DocumentStore) -> None:
    _write(ranked_store, ("fn.md", "Commands", [("Head", "How to define a function for later use.")]))
    assert _docs(ranked_store, "defining functions") == ["fn.md"]
    assert _docs(ranked_store, "compressed") == []
    _write(ranked_store, ("gz.md", "Deflate", [("Head", "Compress responses before sending them.")]))
    assert _docs(ranked_store, "compressing response") == ["gz.md"]


def test_the_exact_word_ranks_above_another_form(ranked_store: DocumentStore) -> None:
    _write(
        ranked_store,
        ("stemmed.md", "S", [("Head", "configure the function lists " + FILLER)]),
        ("exact.md", "E", [("Head", "configure the functions list " + FILLER)]),
        *((f"other{i}.md", "O", [("Head", FILLER)]) for i in range(3)),
    )
    assert _docs(ranked_store, "functions") == ["exact.md", "stemmed.md"]


def test_a_short_passage_holding_the_title_does_not_outrank_the_real_one(ranked_store: DocumentStore) -> None:
    real = (
        "Widget configuration lives in one file. " + FILLER + "Every widget reads its configuration "
        "when it starts; " + FILLER
    )
    _write(
        ranked_store,
        (
            "widget.md",
            "Widget configuration",
            [("Widget configuration", "Widget configuration"), ("Setup", real)],
        ),
        ("other.md", "Other page", [("Other", "gadget " + FILLER)]),
    )
    hits = ranked_store.search("widget configuration")
    assert hits["passage_id"][0] == "widget.md-1"


# the index terms ---------------------------------------------------------------------------


def test_codes_keep_punctuation_apart() -> None:
    assert len({token_code("c++"), token_code("c#"), token_code("c")}) == 3
    assert token_code("foo-bar") != token_code("foo.bar")
    assert token_code("foo::bar") != token_code("foo:bar")
    assert token_code(".net") != token_code("net")
    assert token_code("archive.tar.gz,") == token_code("archive.tar.gz")
    assert codes("see E[x]tract and foo_bar.").split() == [token_code("foo_bar"), "extract"]
    assert plan_search("what is the answer").strict_fts5() == '"answer"'


# upgrade -----------------------------------------------------------------------------------


def test_a_version_3_sqlite_store_is_upgraded_and_searchable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '3');
        CREATE TABLE documents (source TEXT NOT NULL, doc_id TEXT NOT NULL, title TEXT,
            format TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL, n_chars INTEGER NOT NULL, n_passages INTEGER NOT NULL,
            fingerprint TEXT NOT NULL, git_commit TEXT, git_author TEXT, git_date TEXT,
            ingested_at TEXT NOT NULL, PRIMARY KEY (source, doc_id)) WITHOUT ROWID;
        CREATE TABLE passages (id INTEGER PRIMARY KEY, source TEXT NOT NULL, doc_id TEXT NOT NULL,
            seq INTEGER NOT NULL, passage_id TEXT NOT NULL, title TEXT, heading_path TEXT NOT NULL,
            start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
            UNIQUE (source, doc_id, seq));
        CREATE VIRTUAL TABLE passages_fts USING fts5(title, heading_path, text,
            content='passages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
        CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, title, heading_path, text)
            VALUES ('delete', old.id, old.title, old.heading_path, old.text);
        END;
        INSERT INTO documents VALUES ('s', 'a.md', 'A', 'markdown', 1, 1, 'h', 1, 1, 'fp',
            NULL, NULL, NULL, '2024-01-01T00:00:00+00:00');
        INSERT INTO passages VALUES (1, 's', 'a.md', 0, 'a-0', 'A', 'Head', 0, 30,
            'Build with c++ and define functions');
        INSERT INTO passages_fts(passages_fts) VALUES ('rebuild');
        """
    )
    con.commit()
    con.close()
    with SQLiteStore(path) as store:
        assert _docs(store, "c++") == ["a.md"]
        assert _docs(store, "function") == ["a.md"]
        assert store.integrity("s").height == 0
        store.delete_documents("s", ["a.md"])
        assert store.integrity("s").height == 0
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    con.close()
