"""A ``:ref:`` without a title to a section of another document of the source shows the
section's title in the stored passage, as in Sphinx, with both RST engines: the source's
label table is kept in the state folder across calls, and a title change in one document
reaches the passages of the documents that refer to it on the next call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch import BatchIngestService

if TYPE_CHECKING:
    from tests.conftest import MakeService

A = """\
Alpha
=====

.. _x-label:

{title}
---------------

The section about X.
"""
B = """\
Beta
====

For details see :ref:`x-label` and :ref:`nowhere-label`.
"""
C = """\
Gamma
=====

Nothing to resolve here.
"""


def _tree(root: Path) -> Path:
    root.mkdir()
    (root / "a.rst").write_text(A.format(title="Section X"))
    (root / "b.rst").write_text(B)
    (root / "c.rst").write_text(C)
    return root


def _retitle(root: Path, title: str) -> None:
    path = root / "a.rst"
    before = path.stat().st_mtime_ns
    path.write_text(A.format(title=title))
    os.utime(path, ns=(before + 10**9, before + 10**9))


def _text(service: BatchIngestService, doc_id: str) -> str:
    return "\n".join(service.backend.passages("docs", doc_id)["text"])


def _statuses(outcomes: pl.DataFrame) -> dict[str, str]:
    return dict(outcomes.select("doc_id", "status").iter_rows())


@pytest.fixture(params=["fast", "docutils"])
def service(request: pytest.FixtureRequest, make_service: MakeService) -> BatchIngestService:
    return make_service(rst_engine=request.param)


def test_a_ref_to_another_documents_section_shows_its_title(
    service: BatchIngestService, tmp_path: Path
) -> None:
    root = _tree(tmp_path / "docs")
    first = service.ingest_batch(root, source="docs", executor="serial")
    assert first.outcomes["status"].to_list() == ["succeeded"] * 3
    assert "For details see Section X and nowhere-label." in _text(service, "b.rst")
    hits = service.search("details Section", source="docs")
    assert hits["doc_id"].to_list() == ["b.rst"]
    assert any(service.state_dir.glob("labels/*.parquet"))

    _retitle(root, "Binary Targets")
    second = service.ingest_batch(root, source="docs", executor="serial")
    assert "For details see Binary Targets and nowhere-label." in _text(service, "b.rst")
    assert _statuses(second.outcomes) == {"a.rst": "succeeded", "b.rst": "skipped", "c.rst": "skipped"}

    third = service.ingest_batch(root, source="docs", executor="serial")  # nothing left to resolve
    assert set(third.outcomes["status"]) == {"skipped"}
    assert set(third.plan_counts) == {"unchanged"}


def test_a_title_change_reaches_referring_documents_in_a_later_call(
    service: BatchIngestService, tmp_path: Path
) -> None:
    """A call that does not look at the referring document (another pattern) cannot parse it
    again: the next call plans it out of date from the kept table."""
    root = _tree(tmp_path / "docs")
    service.ingest_batch(root, source="docs", executor="serial")
    _retitle(root, "Section Renamed")
    service.ingest_batch(root, source="docs", executor="serial", pattern="a.rst")
    plan = service.plan(root, source="docs")
    assert dict(plan.select("doc_id", "status").iter_rows())["b.rst"] == "changed"
    service.ingest_batch(root, source="docs", executor="serial")
    assert "For details see Section Renamed and nowhere-label." in _text(service, "b.rst")


def test_a_lost_label_table_is_built_again(service: BatchIngestService, tmp_path: Path) -> None:
    root = _tree(tmp_path / "docs")
    service.ingest_batch(root, source="docs", executor="serial")
    for table in service.state_dir.glob("labels/*.parquet"):
        table.unlink()
    _retitle(root, "Section Again")
    again = service.ingest_batch(root, source="docs", executor="serial")
    assert set(again.outcomes["status"]) == {"succeeded"}  # every document read for its labels
    assert "For details see Section Again and nowhere-label." in _text(service, "b.rst")


def test_a_call_stopped_before_resolving_leaves_the_referring_document_planned(
    service: BatchIngestService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents are parsed again at the end of the call: a call that dies before that
    leaves b.rst out of date in the store, and the next call parses it."""
    from docbatch.run import references

    root = _tree(tmp_path / "docs")
    service.ingest_batch(root, source="docs", executor="serial")
    _retitle(root, "Section Later")
    monkeypatch.setattr(references, "resolve_references", lambda run, ctx, output: output)
    service.ingest_batch(root, source="docs", executor="serial")
    assert "For details see Section X and" in _text(service, "b.rst")
    plan = dict(service.plan(root, source="docs").select("doc_id", "reason").iter_rows())
    assert "section title" in plan["b.rst"]
    monkeypatch.undo()
    again = service.ingest_batch(root, source="docs", executor="serial")
    assert _statuses(again.outcomes)["b.rst"] == "succeeded"
    assert "For details see Section Later and nowhere-label." in _text(service, "b.rst")


LATER = """\
Zeta
====

.. index:: single: later

.. _later-label:
.. _later-alias:

A Section *Later*
-----------------

Defined in a document parsed after the one referring to it.
"""


def _counting_parsers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the documents the workers parse (in this process), one per parse."""
    from docbatch.formats import get_parser as real

    parsed: list[str] = []

    def counting(fmt: str, **options: Any) -> Any:
        parser = real(fmt, **options)

        def parse(text: str, **kwargs: Any) -> Any:
            doc = parser(text, **kwargs)
            parsed.append(doc.title or "")
            return doc

        return parse

    monkeypatch.setattr("docbatch.work.worker.get_parser", counting)
    return parsed


def test_a_first_ingest_parses_each_document_once(
    service: BatchIngestService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The labels of the files a call parses are found before parsing them: a document
    referring to a section of a document parsed after it (name order, another slice) shows
    the section's title without being parsed again at the end of the call."""
    root = _tree(tmp_path / "docs")
    (root / "b.rst").write_text(B + "\nAlso :ref:`later-label` and :ref:`later-alias`.\n")
    (root / "z.rst").write_text(LATER)
    parsed = _counting_parsers(monkeypatch)
    service.config.chunk_processing_size = 2  # z.rst in another slice than b.rst
    first = service.ingest_batch(root, source="docs", executor="serial")
    assert set(first.outcomes["status"]) == {"succeeded"}
    assert sorted(parsed) == ["Alpha", "Beta", "Gamma", "Zeta"]
    text = _text(service, "b.rst")
    assert "For details see Section X and nowhere-label." in text
    assert "Also A Section Later and A Section Later." in text
    again = service.ingest_batch(root, source="docs", executor="serial")
    assert set(again.outcomes["status"]) == {"skipped"} and len(parsed) == 4


def test_labels_the_scan_misses_are_resolved_at_the_end_of_the_call(
    service: BatchIngestService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan before parsing only saves work: what it does not find, the documents' own
    parse finds, and the documents referring to it are parsed again at the end of the call."""
    from docbatch.work import label_scan

    monkeypatch.setattr(label_scan, "scan_labels", lambda text: {})
    parsed = _counting_parsers(monkeypatch)
    root = _tree(tmp_path / "docs")
    service.ingest_batch(root, source="docs", executor="serial")
    assert "For details see Section X and nowhere-label." in _text(service, "b.rst")
    assert sorted(parsed) == ["Alpha", "Beta", "Beta", "Gamma"]


def test_a_label_a_call_removes_is_gone_from_the_scan_of_that_call(
    service: BatchIngestService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document of the call that no longer defines a label it defined before loses it
    before parsing: a document of the same call referring to it is parsed once, with the
    label unresolved (not with its old title, to be parsed again at the end)."""
    root = _tree(tmp_path / "docs")
    service.ingest_batch(root, source="docs", executor="serial")
    assert "For details see Section X and nowhere-label." in _text(service, "b.rst")
    parsed = _counting_parsers(monkeypatch)
    for name, text in (("a.rst", "Alpha\n=====\n\nNo label any more.\n"), ("b.rst", B + "\nMore.\n")):
        path = root / name
        before = path.stat().st_mtime_ns
        path.write_text(text)
        os.utime(path, ns=(before + 10**9, before + 10**9))
    again = service.ingest_batch(root, source="docs", executor="serial")
    assert _statuses(again.outcomes) == {"a.rst": "succeeded", "b.rst": "succeeded", "c.rst": "skipped"}
    assert "For details see x-label and nowhere-label." in _text(service, "b.rst")
    assert sorted(parsed) == ["Alpha", "Beta"]
