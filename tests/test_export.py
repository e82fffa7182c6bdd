"""Getting passages out: ``service.passages()`` as a LazyFrame read in bounded batches, the
lookups, and ``docbatch export`` (Parquet or JSON lines, a versioned schema, ``--since``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch.cli import main
from docbatch.errors import ConfigError
from docbatch.export import EXPORT_SCHEMA, EXPORT_SCHEMA_VERSION
from docbatch.sample import SAMPLE_PATTERN
from docbatch.store import SQLiteStore
from docbatch.store.records import DEFAULT_BATCH_SIZE, PASSAGE_RECORDS, REMOVED_PASSAGES, PassageFilter

if TYPE_CHECKING:
    from .conftest import MakeService


class Spy(SQLiteStore):
    """A SQLite store that records every batch it reads out."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: list[dict[str, Any]] = []

    def passage_batches(
        self,
        where: PassageFilter | None = None,
        *,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[pl.DataFrame]:
        read: dict[str, Any] = {"columns": columns, "batch_size": batch_size, "rows": []}
        self.reads.append(read)
        for batch in super().passage_batches(where, columns=columns, batch_size=batch_size):
            read["rows"].append(batch.height)
            yield batch


@pytest.fixture
def spy(tmp_path: Path, sample_tree: Path, make_service: MakeService) -> Spy:
    store = Spy(tmp_path / "s.db")
    with make_service(store=store) as service:
        assert service.ingest_batch(sample_tree, pattern=SAMPLE_PATTERN).succeeded > 20
    return Spy(tmp_path / "s.db")


def test_passages_is_a_lazy_frame_read_in_bounded_batches(spy: Spy, make_service: MakeService) -> None:
    service = make_service(store=spy)
    total = spy.counts()["passages"]
    frame = service.passages(batch_size=25)
    assert isinstance(frame, pl.LazyFrame) and spy.reads == []  # nothing read yet
    assert frame.collect_schema() == pl.Schema(PASSAGE_RECORDS)
    everything = frame.collect()
    assert everything.height == total and max(spy.reads[-1]["rows"]) <= 25
    keys = everything.select("source", "doc_id", "seq").rows()
    assert keys == sorted(keys)

    rst = frame.filter(pl.col("format") == "rst").select("doc_id", "text").collect()
    assert rst.height == everything.filter(pl.col("format") == "rst").height > 0
    assert sorted(spy.reads[-1]["columns"]) == ["doc_id", "format", "text"]  # only what the query uses

    spy.reads.clear()
    assert frame.head(3).collect().height == 3
    assert sum(spy.reads[-1]["rows"]) <= 25  # stopped after the first batch

    guides = service.passages(path="guides/*", format="markdown").collect()
    assert guides.height > 0 and all(d.startswith("guides/") for d in guides["doc_id"])
    assert set(guides["format"]) == {"markdown"}
    assert service.passages(source="nothing").collect().height == 0


def test_passages_sink_to_parquet(spy: Spy, make_service: MakeService, tmp_path: Path) -> None:
    service = make_service(store=spy)
    out = tmp_path / "out.parquet"
    service.passages(batch_size=40).filter(pl.col("text").str.len_chars() > 0).sink_parquet(out)
    written = pl.read_parquet(out)
    assert written.height == spy.counts()["passages"]
    assert max(spy.reads[-1]["rows"]) <= 40


def test_lookups(spy: Spy, make_service: MakeService) -> None:
    service = make_service(store=spy)
    row = service.passages().head(1).collect().row(0, named=True)
    found = service.passage(row["passage_id"])
    assert found == row
    document = service.document(row["doc_id"])
    assert document is not None and document["doc_id"] == row["doc_id"]
    assert document["content_hash"] == row["content_hash"] and document["n_passages"] >= 1
    assert service.passage("nope") is None and service.document("nope.md") is None


def test_a_store_that_cannot_read_out_is_named(tmp_path: Path, make_service: MakeService) -> None:
    class Plain:
        def __init__(self, inner: SQLiteStore) -> None:
            self.inner, self.location = inner, inner.location

        def __getattr__(self, name: str) -> Any:
            if name in ("passage_batches", "passage", "document", "removed_passages"):
                raise AttributeError(name)
            return getattr(self.inner, name)

    service = make_service(store=Plain(SQLiteStore(tmp_path / "p.db")))
    with pytest.raises(ConfigError, match="cannot read its passages out"):
        service.passages()


def _ingest(root: Path, db: Path) -> str:
    assert main(["ingest-docs-batch", str(root), "--db", str(db), "--pattern", "*.md", "--quiet"]) in (0, 1)
    runs = json.loads(_stdout(["runs", "--db", str(db), "--json"]))
    return str(runs[0]["run_id"])


def _stdout(argv: list[str]) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv) == 0
    return buffer.getvalue()


def test_export_parquet_has_a_versioned_schema(sample_tree: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    _ingest(sample_tree, db)
    out = tmp_path / "export" / "passages.parquet"
    summary = json.loads(_stdout(["export", str(out), "--db", str(db), "--json"]))
    frame = pl.read_parquet(out)
    assert frame.schema == pl.Schema(PASSAGE_RECORDS)
    assert frame.height == summary["passages"] == SQLiteStore(db).counts()["passages"]
    metadata = pl.read_parquet_metadata(out)
    assert metadata["docbatch.schema"] == EXPORT_SCHEMA
    assert metadata["docbatch.schema_version"] == str(EXPORT_SCHEMA_VERSION)
    schema = json.loads((tmp_path / "export" / "passages.schema.json").read_text())
    assert schema["schema"] == EXPORT_SCHEMA and schema["schema_version"] == EXPORT_SCHEMA_VERSION
    assert list(schema["columns"]) == list(PASSAGE_RECORDS) and schema["passages"] == frame.height
    assert schema["since_run"] is None and schema["removed_path"] is None
    assert not (tmp_path / "export" / "passages.removed.parquet").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["passages.parquet", "passages.schema.json"]


def test_export_jsonl_of_one_source(sample_tree: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    _ingest(sample_tree, db)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("# X\n\nthe other tree\n")
    _ingest(other, db)
    out = tmp_path / "passages.jsonl"
    assert main(["export", str(out), "--db", str(db), "--format", "jsonl", "--source", "other"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["source"], r["doc_id"]) for r in lines] == [("other", "x.md")]
    assert lines[0]["text"].endswith("the other tree")
    assert list(lines[0]) == list(PASSAGE_RECORDS)
    read_back = pl.read_ndjson(out, schema=PASSAGE_RECORDS)
    assert read_back["ingested_at"][0] is not None
    assert json.loads((tmp_path / "passages.schema.json").read_text())["format"] == "jsonl"


def test_export_since_a_run_has_what_changed_and_what_was_removed(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "keep.md").write_text("# Keep\n\nkept as it is\n")
    (root / "change.md").write_text("# Change\n\nthe first text\n")
    (root / "gone.md").write_text("# Gone\n\ndeleted later\n")
    db = tmp_path / "s.db"
    _ingest(root, db)
    before = {r["doc_id"]: r["passage_id"] for r in pl.read_parquet(_export(db, tmp_path / "all")).to_dicts()}
    time.sleep(1.1)  # the stores keep times to the second
    (root / "change.md").write_text("# Change\n\nthe second text\n")
    (root / "gone.md").unlink()
    argv = ["ingest-docs-batch", str(root), "--db", str(db), "--pattern", "*.md", "--delete-missing"]
    assert main([*argv, "--allow-mass-delete", "--quiet"]) == 0
    run = json.loads(_stdout(["runs", "--db", str(db), "--json"]))[0]["run_id"]
    out = tmp_path / "since" / "passages.parquet"
    assert main(["export", str(out), "--db", str(db), "--since", run]) == 0
    changed = pl.read_parquet(out)
    assert changed["doc_id"].to_list() == ["change.md"] and changed["text"][0].endswith("the second text")
    removed = pl.read_parquet(tmp_path / "since" / "passages.removed.parquet")
    assert removed.schema == pl.Schema(REMOVED_PASSAGES)
    assert sorted(removed["passage_id"]) == sorted([before["change.md"], before["gone.md"]])
    schema = json.loads((tmp_path / "since" / "passages.schema.json").read_text())
    assert schema["since_run"] == run and schema["removed"] == 2 and schema["passages"] == 1
    assert schema["removed_path"] == "passages.removed.parquet"


def _export(db: Path, folder: Path) -> Path:
    out = folder / "passages.parquet"
    assert main(["export", str(out), "--db", str(db)]) == 0
    return out


def test_export_names_an_unknown_run(
    sample_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    _ingest(sample_tree, db)
    assert (
        main(["export", str(tmp_path / "x.parquet"), "--db", str(db), "--since", "20200101T000000-abcdef"])
        == 2
    )
    assert "no run 20200101T000000-abcdef" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()
    assert main(["export", str(tmp_path / "x.parquet"), "--db", str(tmp_path / "missing.db")]) == 2
