"""A source's site template through real ingests: found before the pages are parsed, kept
in the state folder, named in the HTML fingerprint."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.formats.test_templates import page

from docbatch import BatchConfig, BatchIngestService


def _site(root: Path, pages: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(pages):
        (root / f"p{i:02d}.html").write_text(page(i, chapter=f"Chapter {i // 3}. Part {i // 3}"))
    return root


def _texts(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [row[0] for row in con.execute("SELECT text FROM passages")]


def _ingest(tmp_path: Path, **settings: object) -> tuple[int, int]:
    service = BatchIngestService(tmp_path / "docs.db", config=BatchConfig(**settings))  # type: ignore[arg-type]
    result = service.ingest_batch(tmp_path / "site", pattern="*.html", executor="serial")
    return result.succeeded, result.skipped


def test_template_text_stays_out_of_the_passages_and_a_rerun_parses_nothing(tmp_path: Path) -> None:
    _site(tmp_path / "site", 12)
    assert _ingest(tmp_path) == (12, 0)
    texts = _texts(tmp_path / "docs.db")
    assert len(texts) == 12 and all(t.startswith("3.") for t in texts)
    assert not any(word in t for t in texts for word in ("Prev", "Copyright", "Chapter"))
    assert list((tmp_path / "docs.state" / "templates").glob("*.json"))
    assert _ingest(tmp_path) == (0, 12)


def test_a_new_page_is_cleaned_with_the_template_and_the_others_stay(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 12)
    _ingest(tmp_path)
    (site / "p12.html").write_text(page(12, chapter="Chapter 4. Part 4"))
    assert _ingest(tmp_path) == (1, 12)
    new = [t for t in _texts(tmp_path / "docs.db") if t.startswith("3.12.")]
    assert len(new) == 1 and "Copyright" not in new[0] and "Prev" not in new[0]


def test_changed_selectors_reparse_the_source(tmp_path: Path) -> None:
    _site(tmp_path / "site", 8)
    _ingest(tmp_path)
    assert _ingest(tmp_path, html_drop_selectors=("div.sect1 p + p",)) == (8, 0)
    assert not any("Details of step" in t for t in _texts(tmp_path / "docs.db"))


def test_a_site_of_one_page_keeps_everything(tmp_path: Path) -> None:
    _site(tmp_path / "site", 1)
    assert _ingest(tmp_path) == (1, 0)
    (text,) = _texts(tmp_path / "docs.db")
    assert "Copyright" in text and "Prev" in text


def test_the_command_line_takes_selectors_and_names_a_bad_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    _site(tmp_path / "site", 2)
    cli = [
        sys.executable,
        "-m",
        "docbatch",
        "ingest-docs-batch",
        "site",
        "--pattern",
        "*.html",
        "--db",
        "d.db",
    ]
    good = subprocess.run(
        [*cli, "--html-content-selector", "div.sect1", "--html-drop-selector", "p + p"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    texts = _texts(tmp_path / "d.db")
    assert len(texts) == 2 and all("Details" not in t and "Prev" not in t for t in texts)
    bad = subprocess.run([*cli, "--html-drop-selector", "div["], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "html_drop_selectors" in bad.stderr and "Traceback" not in bad.stderr


def test_plan_agrees_with_the_ingest_on_a_templated_site(tmp_path: Path) -> None:
    _site(tmp_path / "site", 12)
    _ingest(tmp_path)
    service = BatchIngestService(tmp_path / "docs.db")
    plan = service.plan(tmp_path / "site", pattern="*.html")
    assert plan["status"].to_list() == ["unchanged"] * 12
