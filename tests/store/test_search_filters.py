"""What a search shows and which passages it may return: the snippet markers, the columns
of a hit, and the filters (format, path, heading, modification and git dates, git author),
on every store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from docbatch import BatchIngestService
from docbatch.errors import QueryError
from docbatch.frames import DOCUMENTS, PASSAGES, SEARCH_HITS, TOUCHED
from docbatch.store import DocumentStore
from docbatch.store.search_filters import glob_regex

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


def _found(store: DocumentStore, **filters: Any) -> list[str]:
    return sorted(store.search("widget", **filters)["doc_id"])


BOTH = ["guide/install.md", "ref/widget.rst"]
INSTALL = ["guide/install.md"]
WIDGET = ["ref/widget.rst"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, BOTH),
        ({"format": "rst"}, WIDGET),
        ({"format": ["rst", "markdown"]}, BOTH),
        ({"format": "markdown,html"}, INSTALL),
        ({"path": "guide/*"}, INSTALL),
        ({"path": "*.rst"}, WIDGET),
        ({"path": "[!g]*"}, WIDGET),
        ({"path": "Guide/*"}, []),
        ({"heading": "widget SETUP"}, INSTALL),
        ({"modified_since": "2023-01-01"}, INSTALL),
        ({"modified_since": datetime(2020, 1, 1, tzinfo=UTC)}, BOTH),
        ({"modified_since": date(2024, 1, 1)}, []),
        ({"git_since": "2024-03-01"}, INSTALL),
        ({"git_until": "2024-03-01"}, INSTALL),
        ({"git_until": "2024-02-29"}, []),
        ({"git_until": "2024-03-01T11:59:59+00:00"}, []),
        ({"git_since": "2024-03-02"}, []),
        ({"git_author": "lovelace"}, INSTALL),
        ({"git_author": "babbage"}, []),
        ({"format": "markdown", "heading": "reference"}, []),
    ],
)
def test_filters_leave_out_passages_while_ranking(
    store: DocumentStore, filters: dict[str, Any], expected: list[str]
) -> None:
    _write(store)
    assert _found(store, **filters) == expected
    first = store.search("widget", limit=1, **filters)["doc_id"].to_list()  # filtered before the limit
    assert len(first) == min(1, len(expected)) and set(first) <= set(expected)


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"format": "pdf"}, "format="),
        ({"modified_since": "last tuesday"}, "modified_since="),
        ({"git_since": "2024-13-01"}, "git_since="),
        ({"git_until": 3}, "git_until="),
        ({"path": ""}, "path="),
        ({"colour": "red"}, "colour="),
    ],
)
def test_a_bad_filter_is_a_query_error_naming_it(
    store: DocumentStore, filters: dict[str, Any], named: str
) -> None:
    with pytest.raises(QueryError, match=named):
        store.search("widget", **filters)


def test_the_path_glob_reads_as_fnmatch_in_postgresql_too() -> None:
    assert re.fullmatch(glob_regex("guide/*.md"), "guide/a/b.md")
    assert not re.fullmatch(glob_regex("guide/*.md"), "guide/a.mdx")
    assert re.fullmatch(glob_regex("[!x]?.txt"), "ab.txt") and not re.fullmatch(
        glob_regex("[!x]?.txt"), "xb.txt"
    )


def test_the_service_passes_filters_to_its_store(tmp_path: Path) -> None:
    service = BatchIngestService(tmp_path / "docs.db")
    _write(service.backend)
    assert sorted(service.search("widget", format="rst", markers=("<", ">"))["snippet"]) == [
        "the <widget> reference"
    ]
