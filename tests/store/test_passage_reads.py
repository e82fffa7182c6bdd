"""Reading passages back out of every store: bounded batches joined with their document's
metadata, filters, lookups, and the passage ids removed since a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.store import DocumentStore
from docbatch.store.base import PassageReader
from docbatch.store.records import DOCUMENT_RECORD, PASSAGE_RECORDS, REMOVED_PASSAGES, PassageFilter

NO_TOUCH = pl.DataFrame(schema=TOUCHED)


def _docs(*doc_ids: str, fmt: str = "markdown") -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "doc_id": d,
                "title": f"Title {d}",
                "format": fmt,
                "size": 10,
                "mtime_ns": 7,
                "content_hash": f"hash-{d}",
                "n_chars": 5,
                "n_passages": 3,
                "fingerprint": "fp",
                "git_commit": "abc123",
                "git_author": "Ann",
                "git_date": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            }
            for d in doc_ids
        ],
        schema=DOCUMENTS,
    )


def _passages(doc_id: str, *texts: str, tag: str = "") -> pl.DataFrame:
    return pl.DataFrame(
        [
            (doc_id, i, f"{doc_id}#{tag}{i}", "Head > Sub", i * 10, i * 10 + 9, t, f"a{i}", i + 1, i + 2)
            for i, t in enumerate(texts)
        ],
        schema=PASSAGES,
        orient="row",
    )


def _write(store: DocumentStore, source: str, fmt: str, *doc_ids: str, tag: str = "") -> None:
    store.write_slice(
        source,
        _docs(*doc_ids, fmt=fmt),
        pl.concat([_passages(d, "one", "two", "three", tag=tag) for d in doc_ids]),
        NO_TOUCH,
    )


def _reader(store: DocumentStore) -> PassageReader:
    assert isinstance(store, PassageReader)
    return store


def test_batches_are_bounded_ordered_and_carry_the_document(store: DocumentStore) -> None:
    _write(store, "b", "markdown", "x.md", "guides/y.md")
    _write(store, "a", "rst", "z.rst")
    batches = list(_reader(store).passage_batches(batch_size=4))
    assert [b.height for b in batches] == [4, 4, 1]
    assert all(b.schema == pl.Schema(PASSAGE_RECORDS) for b in batches)
    rows = pl.concat(batches)
    keys = list(zip(rows["source"], rows["doc_id"], rows["seq"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == 9
    first = rows.row(0, named=True)
    assert first["source"] == "a" and first["doc_id"] == "z.rst" and first["format"] == "rst"
    assert first["title"] == "Title z.rst" and first["content_hash"] == "hash-z.rst"
    assert first["passage_id"] == "z.rst#0" and first["text"] == "one" and first["anchor"] == "a0"
    assert (first["line_start"], first["line_end"], first["start"], first["end"]) == (1, 2, 0, 9)
    assert first["git_commit"] == "abc123" and first["git_author"] == "Ann"
    assert first["git_date"] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first["mtime_ns"] == 7 and first["heading_path"] == "Head > Sub"
    assert abs(first["ingested_at"] - datetime.now(UTC)) < timedelta(minutes=5)


def test_filters_and_projection(store: DocumentStore) -> None:
    _write(store, "b", "markdown", "x.md", "guides/y.md", "guides/deep/w.md")
    _write(store, "a", "rst", "guides/z.rst")
    reader = _reader(store)

    def doc_ids(where: PassageFilter) -> set[str]:
        return set(
            pl.concat([pl.DataFrame(schema=PASSAGE_RECORDS), *reader.passage_batches(where)])["doc_id"]
        )

    assert doc_ids(PassageFilter(source="a")) == {"guides/z.rst"}
    assert doc_ids(PassageFilter(format="markdown")) == {"x.md", "guides/y.md", "guides/deep/w.md"}
    assert doc_ids(PassageFilter(path="guides/*.md")) == {"guides/y.md", "guides/deep/w.md"}
    assert doc_ids(PassageFilter(path="guides/?.*")) == {"guides/y.md", "guides/z.rst"}
    assert doc_ids(PassageFilter(path="[!g]*")) == {"x.md"}
    assert doc_ids(PassageFilter(path="x.md", source="a")) == set()
    assert doc_ids(PassageFilter(since=datetime.now(UTC) + timedelta(hours=1))) == set()
    assert len(doc_ids(PassageFilter(since=datetime.now(UTC) - timedelta(hours=1)))) == 4
    narrow = list(reader.passage_batches(columns=["text", "passage_id"], batch_size=5))
    assert [b.columns for b in narrow] == [["passage_id", "text"]] * 3
    assert sum(b.height for b in narrow) == 12
    with pytest.raises(ValueError, match="no passage column"):
        list(reader.passage_batches(columns=["nope"]))
    with pytest.raises(ValueError, match="batch_size"):
        list(reader.passage_batches(batch_size=0))


def test_an_empty_store_yields_no_batch(store: DocumentStore) -> None:
    assert list(_reader(store).passage_batches()) == []


def test_lookups(store: DocumentStore) -> None:
    _write(store, "b", "markdown", "x.md")
    _write(store, "a", "markdown", "x.md")
    reader = _reader(store)
    found = reader.passage("x.md#1")
    assert found is not None and found["source"] == "a" and found["text"] == "two"
    assert set(found) == set(PASSAGE_RECORDS)
    other = reader.passage("x.md#1", "b")
    assert other is not None and other["source"] == "b"
    assert reader.passage("nope") is None and reader.passage("x.md#1", "c") is None
    doc = reader.document("x.md")
    assert doc is not None and set(doc) == set(DOCUMENT_RECORD)
    assert doc["source"] == "a" and doc["n_passages"] == 3 and doc["fingerprint"] == "fp"
    assert doc["git_date"] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    b_doc = reader.document("x.md", source="b")
    assert b_doc is not None and b_doc["source"] == "b"
    assert reader.document("nope.md") is None


def test_removed_passages_are_recorded_and_forgotten_when_written_again(store: DocumentStore) -> None:
    reader = _reader(store)
    _write(store, "s", "markdown", "x.md", "y.md")
    _write(store, "t", "markdown", "x.md")
    assert reader.removed_passages().schema == pl.Schema(REMOVED_PASSAGES)
    assert reader.removed_passages().height == 0
    _write(store, "s", "markdown", "x.md", tag="v2")  # replaced: its three old ids are removed
    removed = reader.removed_passages()
    assert sorted(removed["passage_id"]) == ["x.md#0", "x.md#1", "x.md#2"]
    assert set(removed["source"]) == {"s"} and set(removed["doc_id"]) == {"x.md"}
    assert removed["removed_at"].is_not_null().all()
    store.delete_documents("s", ["y.md"])
    assert len(reader.removed_passages(source="s")) == 6
    assert reader.removed_passages(source="t").height == 0
    _write(store, "s", "markdown", "x.md")  # the old ids are back: no longer removed
    assert sorted(reader.removed_passages(source="s")["passage_id"]) == [
        "x.md#v20",
        "x.md#v21",
        "x.md#v22",
        "y.md#0",
        "y.md#1",
        "y.md#2",
    ]
    later = datetime.now(UTC) + timedelta(seconds=2)
    assert reader.removed_passages(since=later).height == 0
    _write(store, "s", "markdown", "x.md")  # the same passages again: nothing removed
    assert reader.removed_passages(source="s").height == 6


def test_removed_passages_follow_a_rename_and_a_drop(store: DocumentStore) -> None:
    reader = _reader(store)
    _write(store, "s", "markdown", "x.md", "y.md")
    store.delete_documents("s", ["y.md"])
    rename = getattr(store, "rename_source")  # noqa: B009
    rename("s", "r")
    assert set(reader.removed_passages()["source"]) == {"r"}
    getattr(store, "drop_source")("r")  # noqa: B009
    assert reader.removed_passages(source="r").height == 6


def test_a_second_resolution_since_counts_the_same_second(store: DocumentStore) -> None:
    before = datetime.now(UTC)
    time.sleep(0.01)
    _write(store, "s", "text", "x.txt")
    rows = pl.concat(list(_reader(store).passage_batches(PassageFilter(since=before))))
    assert rows.height == 3
