"""An HTML file nested thousands of elements deep is refused before the parser runs: the
parser's time grows with the square of the depth, inside C code no alarm reaches."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from docbatch import BatchIngestService
from docbatch.errors import ValidationError
from docbatch.formats.html import MAX_NESTING, check_nesting, parse


def _nested(depth: int, tag: str = "div") -> str:
    return f"<html><body>{f'<{tag} class=x>' * depth}deep{f'</{tag}>' * depth}</body></html>"


@pytest.mark.parametrize("tag", ["div", "span", "b", "section"])
def test_a_nesting_bomb_is_a_validation_error_in_well_under_a_second_per_mb(tag: str) -> None:
    html = _nested(100_000, tag)
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=f"HTML elements nest 100000 deep, over {MAX_NESTING}"):
        parse(html)
    assert time.perf_counter() - started < 2.0 * len(html) / 1e6 + 0.2


def test_closing_tags_first_do_not_hide_a_bomb() -> None:
    with pytest.raises(ValidationError, match="nest 5000 deep"):
        check_nesting("</div>" * 20_000 + "<div>" * 5000 + "x")


def test_pages_that_do_not_nest_deep_are_parsed_whatever_their_size() -> None:
    # many elements side by side, void elements and unclosed paragraphs and list items
    row = "<div><p>para <br> text <img src=a.png><li>item</div>\n"
    doc = parse("<html><body><h1>Big</h1>" + row * 20_000 + "</body></html>")
    assert doc.title == "Big" and doc.text.count("item") == 20_000
    doc = parse(_nested(MAX_NESTING))
    assert "deep" in doc.text


def test_a_run_with_a_nesting_bomb_goes_on_and_names_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bomb.html").write_text(_nested(200_000))
    (docs / "fine.html").write_text("<html><body><h1>Fine</h1><p>text</p></body></html>")
    started = time.perf_counter()
    result = BatchIngestService(tmp_path / "s.db").ingest_batch(docs, pattern="*.html", executor="serial")
    assert time.perf_counter() - started < 10
    rows = {r["doc_id"]: r for r in result.outcomes.iter_rows(named=True)}
    assert rows["fine.html"]["status"] == "succeeded"
    assert rows["bomb.html"]["status"] == "failed" and rows["bomb.html"]["error_category"] == "validation"
    assert "nest 200000 deep" in rows["bomb.html"]["error_message"]
