"""What a search shows and which passages it may return: the snippet markers, the columns
of a hit, and the filters (format, path, heading, modification and git dates, git author),
on every store."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from docbatch.errors import QueryError
from docbatch.frames import DOCUMENTS, PASSAGES, SEARCH_HITS, TOUCHED
from docbatch.store import DocumentStore

NO_TOUCH = pl.DataFrame(schema=TOUCHED)


def _write(store: DocumentStore) -> None:
    docs = pl.DataFrame(
        [
            {
                "doc_id": "guide/install.md",
                "title": "Install",
                "format": "markdown",
                "size": 10,
                "mtime_ns": 1_700_000_000 * 10**9,  # 2023-11-14
                "content_hash": "h1",
                "n_chars": 40,
                "n_passages": 1,
                "fingerprint": "fp",
                "git_commit": "abc123",
                "git_author": "Ada Lovelace",
                "git_date": "2024-03-01T12:00:00+00:00",
            },
            {
                "doc_id": "ref/widget.rst",
                "title": "Widget",
                "format": "rst",
                "size": 10,
                "mtime_ns": 1_600_000_000 * 10**9,  # 2020-09-13
                "content_hash": "h2",
                "n_chars": 40,
                "n_passages": 1,
                "fingerprint": "fp",
            },
        ],
        schema={**DOCUMENTS, "git_date": pl.Utf8()},
    ).with_columns(pl.col("git_date").str.to_datetime(time_unit="us", time_zone="UTC"))
    passages = pl.DataFrame(
        [
            (
                "guide/install.md",
                0,
                "i-0",
                "Install > Widget setup",
                0,
                40,
                "install the widget [now]",
                "",
                1,
                2,
            ),
            ("ref/widget.rst", 0, "w-0", "Reference", 0, 40, "the widget reference", "", 1, 3),
        ],
        schema=PASSAGES,
        orient="row",
    )
    store.write_slice("src", docs, passages, NO_TOUCH)


def test_snippets_mark_matches_with_guillemets_or_the_markers_asked_for(store: DocumentStore) -> None:
    _write(store)
    hits = store.search("widget").sort("doc_id")
    assert "«widget»" in hits["snippet"][0]
    marked = store.search("widget", markers=("<b>", "</b>"))
    assert all("<b>widget</b>" in s for s in marked["snippet"])
    with pytest.raises(QueryError, match="markers"):
        store.search("widget", markers=("", "x"))


def test_hits_carry_the_passage_text_and_the_document_format_and_git_commit(store: DocumentStore) -> None:
    _write(store)
    hits = store.search("widget").sort("doc_id")
    assert hits.schema == pl.Schema(SEARCH_HITS)
    assert hits.select("doc_id", "format", "text", "git_commit").rows() == [
        ("guide/install.md", "markdown", "install the widget [now]", "abc123"),
        ("ref/widget.rst", "rst", "the widget reference", None),
    ]
    assert hits["git_date"].to_list() == [datetime(2024, 3, 1, 12, tzinfo=UTC), None]
