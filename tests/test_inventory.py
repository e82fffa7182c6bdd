from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl
import pytest

from docbatch.errors import ConfigError, RootError
from docbatch.frames import INVENTORY
from docbatch.plan.inventory import scan, walk_tree
from docbatch.plan.selection import parse_patterns
from docbatch.sample import BAD_FILES, HIDDEN_FILES, SAMPLE_MAX_FILE_SIZE, sample_files


def _write(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def test_scan_lists_matching_files_sorted(sample_tree: Path) -> None:
    inv = scan(sample_tree, "*.md,*.rst,*.html,*.txt", max_file_size=SAMPLE_MAX_FILE_SIZE)
    assert inv.schema == pl.Schema(INVENTORY)
    expected = sorted(p for p in sample_files() if p not in HIDDEN_FILES)
    listed = inv.filter(pl.col("status") != "skipped")
    assert listed["doc_id"].to_list() == expected
    assert inv["doc_id"].to_list() == sorted([*expected, ".drafts/"])  # the hidden folder's row
    assert inv["path"].map_elements(os.path.isabs, return_dtype=pl.Boolean).all()


def test_hidden_folders_are_skipped(sample_tree: Path) -> None:
    inv = scan(sample_tree, "*.md")
    skipped = inv.filter(pl.col("status") == "skipped")
    assert skipped.select("doc_id", "reason").rows() == [(".drafts/", "hidden")]
    listed = inv.filter(pl.col("status") != "skipped")["doc_id"]
    assert not any(d.startswith(".") or "/." in d for d in listed)
    assert HIDDEN_FILES and all(h not in inv["doc_id"].to_list() for h in HIDDEN_FILES)
    with_hidden = scan(sample_tree, "*.md", include_hidden=True)
    assert set(HIDDEN_FILES) <= set(with_hidden.filter(pl.col("status") == "")["doc_id"])


def test_metadata_validation_gives_rows_not_exceptions(sample_tree: Path) -> None:
    inv = scan(sample_tree, "*.md,*.txt", max_file_size=SAMPLE_MAX_FILE_SIZE)
    invalid = dict(inv.filter(pl.col("status") == "invalid").select("doc_id", "reason").iter_rows())
    empty = [p for p, kind in BAD_FILES.items() if kind == "empty"]
    large = [p for p, kind in BAD_FILES.items() if kind == "too_large"]
    assert all(invalid[p] == "empty file" for p in empty)
    assert all("over max_file_size" in invalid[p] for p in large)
    assert len(invalid) == len(empty) + len(large)


def test_patterns_and_recursion(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"a.md": "x", "b.rst": "x", "sub/c.md": "x", "sub/d.html": "x"})
    assert scan(root, "*.md")["doc_id"].to_list() == ["a.md", "sub/c.md"]
    assert scan(root, "*.md", recursive=False)["doc_id"].to_list() == ["a.md"]
    assert scan(root, "sub/*.html")["doc_id"].to_list() == ["sub/d.html"]
    assert scan(root, " *.rst , *.html ")["doc_id"].to_list() == ["b.rst", "sub/d.html"]


def test_compound_extensions_get_their_format(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"mod_ssl.html.en.utf8": "<p>x</p>", "notes.txt": "x"})
    inv = scan(root, "*.html.en.utf8,*.txt")
    assert dict(inv.select("doc_id", "format").iter_rows()) == {
        "mod_ssl.html.en.utf8": "html",
        "notes.txt": "text",
    }


def test_unsupported_format_is_invalid_with_reason(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"logo.png": b"\x89PNG"})
    row = scan(root, "*").row(0, named=True)
    assert row["status"] == "invalid" and "unsupported format" in row["reason"]


def test_symlinks_never_leave_the_root(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside", {"secret.md": "secret"})
    root = _write(tmp_path / "r", {"a.md": "x"})
    (root / "escape.md").symlink_to(outside / "secret.md")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "inside.md").symlink_to(root / "a.md")
    inv = scan(root, "*.md")
    rows = {r["doc_id"]: r for r in inv.iter_rows(named=True)}
    assert set(rows) == {"a.md", "escape.md", "inside.md", "escape_dir/", "loop/"}
    assert rows["escape.md"]["status"] == "invalid"
    assert "outside the root" in rows["escape.md"]["reason"]
    assert rows["inside.md"]["status"] == ""
    assert (rows["escape_dir/"]["status"], rows["escape_dir/"]["reason"]) == ("skipped", "outside root")
    assert (rows["loop/"]["status"], rows["loop/"]["reason"]) == ("skipped", "symlink loop")


def test_bad_root_and_patterns(tmp_path: Path) -> None:
    with pytest.raises(RootError, match="not found"):
        scan(tmp_path / "missing")
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(RootError, match="not a directory"):
        scan(tmp_path / "file.md")
    for bad in ["", " , ", "/etc/*.md", "../*.md"]:
        with pytest.raises(ConfigError, match="pattern"):
            parse_patterns(bad)


def test_a_pattern_that_is_a_gitignore_comment_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _write(tmp_path / "r", {"#notes.md": "x", "a.md": "x"})
    notes: list[str] = []
    with caplog.at_level(logging.WARNING, logger="docbatch"):
        assert scan(root, "#notes.md,a.md", unmatched=notes)["doc_id"].to_list() == ["a.md"]
    assert notes and "'#notes.md' matches nothing" in notes[0] and notes[0] in caplog.text
    assert scan(root, r"\#notes.md")["doc_id"].to_list() == ["#notes.md"]


def test_a_walk_made_of_many_parts_lists_and_warns_as_one(
    sample_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk turns its rows into a frame a few thousand at a time: the inventory and the
    warnings about patterns are the same whatever the size of those parts."""
    from docbatch.plan import walk as walk_module

    pattern = "*.md,*.rst,*.html,*.txt,*.nothing"
    exclude = ["guides/**", "nowhere/**"]

    def listing() -> tuple[pl.DataFrame, list[str]]:
        notes: list[str] = []
        inv = scan(sample_tree, pattern, exclude=exclude, unmatched=notes, max_file_size=SAMPLE_MAX_FILE_SIZE)
        return inv, notes

    whole, whole_notes = listing()
    monkeypatch.setattr(walk_module, "ROWS_PER_PART", 2)
    parts, parts_notes = listing()
    assert whole.height > 6  # several parts
    assert parts.equals(whole)
    assert parts_notes == whole_notes
    assert any("'*.nothing'" in note for note in parts_notes)
    assert any("'nowhere/**'" in note for note in parts_notes)
    assert not any("'*.rst'" in note or "'guides/**'" in note for note in parts_notes)


def test_rows_come_sorted_by_doc_id_across_folders_and_files(tmp_path: Path) -> None:
    # a folder's files before its subfolders' would be out of order ("a/z.md" < "a/b/c.md"
    # is false), as would a folder before a sibling whose name sorts below "/" ("a-b.md")
    names = ["a.md", "a-b.md", "a/z.md", "a/b/c.md", "a/b.md", "ab/x.md", "a0.md", "b.md"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("text\n")
    # the walk's own order, before the sort ``scan`` falls back on for names not UTF-8
    walk = walk_tree(tmp_path, "*.md", True, 10**6, None, False, None)
    assert walk.frame()["doc_id"].to_list() == sorted(names)
    assert scan(tmp_path, "*.md")["doc_id"].to_list() == sorted(names)


@pytest.mark.skipif(os.name != "posix", reason="FIFOs, symlinks and names not UTF-8 as on posix")
@pytest.mark.parametrize("part_rows", [1, 2, 3, 1000])
def test_rows_given_whole_and_rows_computed_interleave_in_any_part_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part_rows: int
) -> None:
    """A plain file's path, format, status and reason are computed a part at a time; the
    other rows (hidden, not regular, symlinks, names not UTF-8) are given whole. Mixed in
    one folder and across parts of any size, each row is what that file is."""
    from docbatch.plan import walk as walk_module

    monkeypatch.setattr(walk_module, "ROWS_PER_PART", part_rows)
    root = _write(
        tmp_path / "root",
        {"a.md": "x", "b.empty.md": "", "c.big.rst": "y" * 50, "d.png.txt": "t", "e.jpg": "j", ".f.md": "h"},
    )
    _write(root, {"g/h.rst": "r", "g/i.html.en": "<p>x</p>", "gz.md": "z"})
    os.mkfifo(root / "fifo.md")
    (root / "link.md").symlink_to(root / "a.md")
    (root / "out.md").symlink_to(tmp_path / "elsewhere.md")
    (tmp_path / "elsewhere.md").write_text("x")
    (root / "gone.md").symlink_to(root / "nothing.md")
    (root / "g-link").symlink_to(root / "g")
    os.close(os.open(os.path.join(os.fsencode(root), b"bad\xff.md"), os.O_CREAT | os.O_WRONLY, 0o644))

    rows = {
        row["doc_id"]: row
        for row in scan(root, "*", max_file_size=10, format_map={"jpg": "text"}).iter_rows(named=True)
    }
    real = os.path.realpath(root)
    expected = {
        ".f.md": ("markdown", "skipped", "hidden"),
        "a.md": ("markdown", "", None),
        "b.empty.md": ("markdown", "invalid", "empty file"),
        "bad\\xff.md": (None, "invalid", "file name is not valid UTF-8"),
        "c.big.rst": ("rst", "invalid", "file is 50 bytes, over max_file_size=10"),
        "d.png.txt": ("text", "", None),
        "e.jpg": ("text", "", None),
        "fifo.md": ("markdown", "skipped", "FIFO"),
        "g-link/": (None, "skipped", "not followed"),
        "g/h.rst": ("rst", "", None),
        "g/i.html.en": ("html", "", None),
        "gone.md": ("markdown", "invalid", "dangling symlink"),
        "gz.md": ("markdown", "", None),
        "link.md": ("markdown", "", None),
        "out.md": ("markdown", "invalid", "symlink points outside the root"),
    }
    assert list(rows) == sorted(expected)
    for doc_id, (fmt, status, reason) in expected.items():
        row = rows[doc_id]
        assert (row["format"], row["status"]) == (fmt, status), doc_id
        assert (row["reason"] is None) if reason is None else reason in row["reason"], (doc_id, row["reason"])
    for doc_id in ("a.md", "c.big.rst", "g/h.rst", "link.md"):
        assert rows[doc_id]["path"] == os.path.join(real, doc_id)
        assert rows[doc_id]["size"] == os.path.getsize(os.path.join(real, doc_id))
    assert rows["a.md"]["mtime_ns"] == os.stat(root / "a.md").st_mtime_ns


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open descriptors listed in /proc")
def test_the_walk_closes_every_folder_it_opened_even_when_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders are listed through their descriptors, open while the walk is inside them:
    all are closed at the end, and when the walk is stopped deep in the tree."""
    deep = "a/b/c/d"
    _write(tmp_path, {f"{deep}/x.md": "x", "a/y.md": "y", "z.md": "z"})
    scan(tmp_path, "*.md")  # polars' own descriptors (its threads) opened once
    before = len(os.listdir("/proc/self/fd"))
    assert scan(tmp_path, "*.md")["doc_id"].to_list() == [f"{deep}/x.md", "a/y.md", "z.md"]
    assert len(os.listdir("/proc/self/fd")) == before

    from docbatch.plan.walk import Walk

    def stopped(walk: object, entry: os.DirEntry[str], rel: str, directory: str) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(Walk, "_into", lambda self, entry, rel, d: True)
    monkeypatch.setattr(Walk, "visit", stopped)
    (tmp_path / deep / "link.md").symlink_to(tmp_path / "z.md")  # visited deep in the tree
    with pytest.raises(KeyboardInterrupt):
        scan(tmp_path, "*.md")
    assert len(os.listdir("/proc/self/fd")) == before


def test_parts_made_beside_the_walk_are_the_walks_rows_in_order_and_its_errors_are_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scan_parts`` makes and writes each part in a thread of its own while the walk goes
    on: the parts are the walk's rows in order; an error in making one is raised by the
    walk, and a Ctrl-C in the walk leaves no such thread."""
    import threading

    from docbatch.plan import inventory_parts, walk

    files: dict[str, bytes | str] = {
        f"s{i % 5}/p{i:03d}.{'md' if i % 3 else 'rst'}": f"# {i}\n" for i in range(200)
    }
    files |= {"s1/.hidden.md": "h", "s2/empty.md": ""}  # rows given whole, among the computed
    root = _write(tmp_path / "docs", files)
    monkeypatch.setattr(walk, "ROWS_PER_PART", 7)
    monkeypatch.setattr(inventory_parts, "PARTS_ROWS", 11)
    given: list[pl.DataFrame] = []
    parts = inventory_parts.scan_parts(root, tmp_path / "parts", "*.md,*.rst", on_part=given.append)
    assert parts.lazy().collect().equals(scan(root, "*.md,*.rst"))
    assert pl.concat(given).equals(parts.lazy().collect()) and len(given) == len(parts.files) == 19

    def makers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("docbatch-walk-parts")]

    def full(part: pl.DataFrame) -> None:
        if len(given) == 25:
            raise OSError(28, "No space left on device")
        given.append(part)

    with pytest.raises(OSError, match="No space left"):
        inventory_parts.scan_parts(root, tmp_path / "full", "*.md,*.rst", on_part=full)
    assert not makers()

    def stopped(self: walk.Walk, entry: os.DirEntry[str], rel: str, directory: str) -> bool:
        if rel.startswith("s3"):
            raise KeyboardInterrupt
        return True

    monkeypatch.setattr(walk.Walk, "_into", stopped)
    with pytest.raises(KeyboardInterrupt):
        inventory_parts.scan_parts(root, tmp_path / "stopped", "*.md,*.rst")
    assert not makers()


@pytest.mark.parametrize("rows_per_part", [2, 1000])
def test_an_exclusion_is_warned_of_only_when_it_left_out_no_path_of_the_whole_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, rows_per_part: int
) -> None:
    """The exclusions are judged over the whole walk, whichever part the paths they left
    out fell in; a pattern, by whether any part holds a file it selects."""
    from docbatch.plan import inventory_parts, walk

    files: dict[str, bytes | str] = {f"d{i}/p{j}.md": "x" for i in range(4) for j in range(3)}
    root = _write(tmp_path / "docs", files | {"a/early.md": "x", "z/late.md": "x"})
    monkeypatch.setattr(walk, "ROWS_PER_PART", rows_per_part)
    excludes = ["a/early.md", "z/late.md", "nowhere/**"]
    for made in ("scan", "scan_parts"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="docbatch"):
            if made == "scan":
                rows = scan(root, "*.md,*.rst", exclude=excludes)
            else:
                parts = inventory_parts.scan_parts(root, tmp_path / made, "*.md,*.rst", exclude=excludes)
                rows = parts.lazy().collect()
        assert rows.height == 12
        warned = [r.getMessage() for r in caplog.records]
        assert [m for m in warned if "excludes no file" in m] == [
            f"exclude pattern 'nowhere/**' excludes no file under {root}"
        ], made
        assert [m for m in warned if "matches no file" in m] == [
            f"pattern '*.rst' matches no file under {root}"
        ]
