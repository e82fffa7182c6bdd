"""The label table's answers come from its file and its parts, streamed: the latest row of a
document wins, a label two documents define shows the first document's title (by doc_id),
and only the titles of the labels asked for are held."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from docbatch.state.labels import UNKNOWN, LabelTable
from docbatch.work.labels import LABELS, TitleIndex, refs_fingerprint

BASE = "fp"


def _row(doc_id: str, labels: dict[str, str], refs: list[str], fingerprint: str = BASE) -> dict[str, object]:
    return {
        "doc_id": doc_id,
        "content_hash": "h",
        "fingerprint": fingerprint,
        "labels": list(labels),
        "titles": list(labels.values()),
        "refs": refs,
        "includes": [],
        "included": "",
    }


def _rows(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=LABELS)


def _refs(index: TitleIndex) -> pl.DataFrame:
    """The index's references, in memory."""
    return index.refs if isinstance(index.refs, pl.DataFrame) else index.refs.collect()


def _never(table: LabelTable) -> pl.DataFrame:
    raise AssertionError("the whole table was read")


def _table(tmp_path: Path) -> LabelTable:
    """b.rst refers to x, whose title changed in a part after b.rst was stored; d.rst refers
    to y, which c.rst and e.rst define (bb.rst did, in a row a later one replaced)."""
    table = LabelTable(tmp_path / "labels" / "docs.parquet")
    titles_then = {"x": "Old X"}
    table.add(
        _rows(
            _row("a.rst", titles_then, []),
            _row("b.rst", {}, ["x"], refs_fingerprint(BASE, ["x"], titles_then)),
            _row("c.rst", {"y": "Y of c"}, []),
        )
    )
    table.save()
    table.add(_rows(_row("a.rst", {"x": "New X"}, []), _row("bb.rst", {"y": "Y of bb"}, [])))
    table.add(_rows(_row("bb.rst", {}, [])))  # bb.rst no longer defines y
    table.add(
        _rows(
            _row("d.rst", {}, ["y"], refs_fingerprint(BASE, ["y"], {"y": "Y of c"})),
            _row("e.rst", {"y": "Y of e"}, ["nowhere"], refs_fingerprint(BASE, ["nowhere"], {})),
        )
    )
    return table


def test_the_latest_row_of_a_document_and_the_first_definition_of_a_label_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(tmp_path)
    monkeypatch.setattr(LabelTable, "_read", _never)  # streamed, file by file
    assert table.title_pairs().rows() == [("x", "New X"), ("y", "Y of c")]
    assert table.title_pairs(pl.Series(["y", "z"])).rows() == [("y", "Y of c")]
    assert sorted(table.named()) == ["nowhere", "x", "y"]
    assert table.titles() == {"x": "New X", "y": "Y of c"}


def test_stale_finds_the_documents_whose_titles_changed_among_those_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _table(tmp_path)
    monkeypatch.setattr(LabelTable, "_read", _never)
    every = pl.Series(["a.rst", "b.rst", "c.rst", "d.rst", "e.rst"])
    assert table.stale(every, BASE).to_list() == ["b.rst"]
    assert table.stale(pl.Series(["c.rst", "d.rst"]), BASE).to_list() == []
    assert table.stale(every, "other").sort().to_list() == every.to_list()
    # the ids asked for as a query (streamed from the plan's files), in their order
    streamed = pl.DataFrame({"doc_id": every.reverse(), "n": range(5)}).lazy()
    assert table.stale(streamed, "other").to_list() == every.reverse().to_list()
    assert table.stale(streamed.filter(pl.col("doc_id") != "b.rst"), BASE).to_list() == []


def test_the_index_of_some_documents_holds_their_references_and_titles_only(tmp_path: Path) -> None:
    table = _table(tmp_path)
    index = table.index(pl.Series(["b.rst"]), table.title_pairs(table.named()))
    assert _refs(index).rows() == [("b.rst", ["x"])]
    assert index.titles.rows() == [("x", "New X")]
    assert index.titles_for(pl.Series(["b.rst"])) == {"x": "New X"}


def test_save_and_drop_write_the_latest_rows_and_remove_the_parts(tmp_path: Path) -> None:
    table = _table(tmp_path)
    table.drop(pl.Series(["c.rst"]))
    assert not list(table.parts_dir.glob("*.parquet"))
    again = LabelTable(table.path)
    assert sorted(again.rows["doc_id"]) == ["a.rst", "b.rst", "bb.rst", "d.rst", "e.rst"]
    assert again.titles() == {"x": "New X", "y": "Y of e"}
    assert pl.read_parquet(table.path).height == 5


def test_parts_that_supersede_nothing_are_saved_by_one_scan_of_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run's parts (one row a document, in none of the others) are merged by one
    scan of every file; parts where a later row replaces an earlier one, by a scan of each
    that leaves the superseded rows out."""
    table = LabelTable(tmp_path / "labels" / "docs.parquet")
    for i in range(0, 9, 3):
        table.add(_rows(*(_row(f"d{j}.rst", {f"l{j}": f"T{j}"}, []) for j in range(i, i + 3))))
    pieces: list[object] = []

    def per_file(*args: object, **kwargs: object) -> Iterator[pl.LazyFrame]:
        pieces.append(args)
        return iter([])

    monkeypatch.setattr(LabelTable, "_pieces", per_file)
    monkeypatch.setattr(LabelTable, "_read", _never)
    table.save()
    assert not pieces and not list(table.parts_dir.glob("*.parquet"))
    assert pl.read_parquet(table.path)["doc_id"].to_list() == [f"d{j}.rst" for j in range(9)]
    monkeypatch.undo()
    replaced = _table(tmp_path / "replaced")
    replaced.save()
    assert LabelTable(replaced.path).titles() == {"x": "New X", "y": "Y of c"}


def test_a_damaged_part_is_left_out_with_a_warning(tmp_path: Path, caplog: object) -> None:
    table = _table(tmp_path)
    (table.parts_dir / "part-000009.parquet").write_bytes(b"not parquet")
    assert table.title_pairs().rows() == [("x", "New X"), ("y", "Y of c")]
    assert "cannot be read" in caplog.text  # type: ignore[attr-defined]


def _stored(*doc_ids: str, content_hash: str = "h") -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": list(doc_ids), "content_hash": [content_hash] * len(doc_ids)},
        schema={"doc_id": pl.Utf8, "content_hash": pl.Utf8},
    )


@pytest.mark.parametrize("in_order", [False, True], ids=["rows in parts", "rows sorted"])
def test_expected_reads_the_rows_of_the_range_asked_for_with_the_titles_of_the_whole_table(
    tmp_path: Path, in_order: bool
) -> None:
    table = _table(tmp_path)
    if in_order:  # a table written in one go, in doc_id order
        rows = table.rows.sort("doc_id")
        table = LabelTable(tmp_path / "sorted" / "docs.parquet")
        table.add(rows)
        table.save()
    assert table.rows["doc_id"].flags["SORTED_ASC"] is in_order
    wanted = {
        "b.rst": refs_fingerprint(BASE, ["x"], {"x": "New X"}),
        "d.rst": refs_fingerprint(BASE, ["y"], {"y": "Y of c"}),
        "e.rst": refs_fingerprint(BASE, ["nowhere"], {}),
        "f.rst": BASE + UNKNOWN,  # no row
    }
    assert (
        dict(table.expected(_stored("a.rst", "b.rst", "c.rst", "d.rst", "e.rst", "f.rst"), BASE).rows())
        == wanted
    )
    # a part at a time: the rows of the range, titles defined in the other ranges
    assert dict(table.expected(_stored("b.rst", "bb.rst"), BASE).rows()) == {"b.rst": wanted["b.rst"]}
    assert dict(table.expected(_stored("d.rst"), BASE).rows()) == {"d.rst": wanted["d.rst"]}
    assert dict(table.expected(_stored("e.rst", "f.rst"), BASE).rows()) == {
        "e.rst": wanted["e.rst"],
        "f.rst": BASE + UNKNOWN,
    }
    # read from other content than the row was
    assert table.expected(_stored("d.rst", content_hash="other"), BASE).rows() == [("d.rst", BASE + UNKNOWN)]
    assert table.expected(_stored(), BASE).height == 0
    # once rows are added, the titles are those of the table as it is then
    table.add(_rows(_row("a.rst", {"x": "Newer X"}, [])))
    assert table.expected(_stored("b.rst"), BASE).rows() == [
        ("b.rst", refs_fingerprint(BASE, ["x"], {"x": "Newer X"}))
    ]


def test_a_file_in_doc_id_order_with_two_rows_of_a_document_gives_its_last_row(tmp_path: Path) -> None:
    table = LabelTable(tmp_path / "labels" / "docs.parquet")
    table.path.parent.mkdir(parents=True)
    _rows(
        _row("a.rst", {"x": "Old X"}, []), _row("a.rst", {"x": "New X"}, []), _row("b.rst", {}, [])
    ).write_parquet(table.path)
    assert table.rows["doc_id"].to_list() == ["a.rst", "b.rst"]
    assert table.titles() == {"x": "New X"}


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_the_index_with_scanned_rows_takes_the_first_definition_of_each_label(
    tmp_path: Path, order: str
) -> None:
    """The scanned rows replace the table's rows of their documents; a label defined by
    several documents gets the title of the first by doc_id, one defined twice in a document
    its first title: whether the scanned rows come in doc_id order (as a scan gives them) or
    not."""
    table = _table(tmp_path)
    scanned = pl.DataFrame(
        {
            "doc_id": ["a.rst", "b0.rst", "d.rst"],
            "labels": [["z"], ["y", "x", "y"], ["x", "w"]],
            "titles": [["Z of a"], ["Y of b0", "X of b0", "Y again"], ["X of d", "W of d"]],
            "refs": [[], ["z"], []],
        },
        schema={"doc_id": pl.Utf8, **{name: pl.List(pl.Utf8) for name in ("labels", "titles", "refs")}},
    )
    if order == "reversed":
        scanned = scanned.reverse()
    index = table.index_with(scanned)
    # a.rst no longer defines x: b0.rst is its first definition now, before d.rst's
    assert index.titles.rows() == [("w", "W of d"), ("x", "X of b0"), ("y", "Y of b0"), ("z", "Z of a")]
    assert _refs(index).rows() == [("b0.rst", ["z"])]


@pytest.mark.parametrize("rows_per_part", [1, 2, 3, 100])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_the_index_of_scanned_parts_is_the_index_of_all_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_part: int, order: str
) -> None:
    """A first run's index is made from the scan's parts as they come, each cut to its
    labels and refs: it is the index of all the rows (the first definition of a label by
    doc_id, a document's first of two), in whatever order and parts the rows come."""
    from docbatch.state import label_titles
    from docbatch.state.label_titles import scanned_index

    scanned = pl.DataFrame(
        {
            "doc_id": ["a.rst", "b0.rst", "c.rst", "d.rst", "e.rst"],
            "labels": [["z"], ["y", "x", "y"], [], ["x", "w"], ["v"]],
            "titles": [["Z of a"], ["Y of b0", "X of b0", "Y again"], [], ["X of d", "W of d"], ["V of e"]],
            "refs": [[], ["z"], ["x", "w"], ["q"], []],
        },
        schema={"doc_id": pl.Utf8, **{name: pl.List(pl.Utf8) for name in ("labels", "titles", "refs")}},
    )
    if order == "shuffled":
        scanned = scanned[[3, 0, 4, 1, 2]]
    index = scanned_index(scanned.iter_slices(rows_per_part))
    whole = LabelTable(tmp_path / "new.parquet").index_with(scanned)
    assert index.titles.equals(whole.titles) and _refs(index).equals(_refs(whole))
    assert index.titles.rows() == [
        ("v", "V of e"),
        ("w", "W of d"),
        ("x", "X of b0"),
        ("y", "Y of b0"),
        ("z", "Z of a"),
    ]
    assert _refs(index)["doc_id"].to_list() == ["b0.rst", "c.rst", "d.rst"]
    assert scanned_index(iter([])).titles.height == 0
    # the refs written to files as they come (two documents' a file), read a slice at a time
    monkeypatch.setattr(label_titles, "REFS_FILE_ROWS", 2)
    on_disk = scanned_index(scanned.iter_slices(rows_per_part), tmp_path / "plan")
    assert isinstance(on_disk.refs, pl.LazyFrame) and on_disk.titles.equals(whole.titles)
    written = list((tmp_path / "plan").glob("scanned-refs-*.parquet"))
    assert written and pl.scan_parquet(written).select(pl.len()).collect().item() == 3
    ids = scanned["doc_id"].sort()
    for start in range(ids.len()):
        for stop in range(start + 1, ids.len() + 1):
            piece = ids.slice(start, stop - start)
            assert on_disk.titles_for(piece) == whole.titles_for(piece), piece.to_list()
    assert on_disk.titles_for(pl.Series(["b0.rst", "d.rst"])) == {"z": "Z of a"}


def test_expected_reads_each_range_from_the_files_without_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning asks for a range of the tree at a time: the table's rows of that range are
    read from its file and parts (the latest row of a document winning), never the whole
    table, and give what the rows in memory give."""
    table = _table(tmp_path)
    ranges = [("a.rst", "b.rst", "bb.rst"), ("c.rst", "d.rst"), ("e.rst", "f.rst")]
    assert table.rows.height  # the reference: the rows read whole, in memory
    in_memory = [table.expected(_stored(*ids), BASE) for ids in ranges]
    monkeypatch.setattr(LabelTable, "_read", _never)
    from_files = LabelTable(table.path)
    for ids, expected in zip(ranges, in_memory, strict=True):
        assert from_files.expected(_stored(*ids), BASE).equals(expected)
    assert from_files._rows is None
    # b.rst refers to x, whose title a part changed after the file was written
    assert dict(in_memory[0].rows())["b.rst"] == refs_fingerprint(BASE, ["x"], {"x": "New X"})
