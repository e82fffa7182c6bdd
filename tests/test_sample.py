from __future__ import annotations

import os
from pathlib import Path

import pytest

from docbatch.formats import detect_format, supported_formats
from docbatch.sample import (
    BAD_FILES,
    HIDDEN_FILES,
    KNOWN_WORDS,
    SAMPLE_MAX_FILE_SIZE,
    main,
    sample_files,
    write_sample_tree,
)

COMMITTED_TREE = Path(__file__).resolve().parents[1] / "data" / "sample_docs"
REGENERATE = "python -m docbatch.sample data/sample_docs --overwrite"


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included): relative POSIX path -> bytes."""
    files: dict[str, bytes] = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath, name)
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def good_files() -> dict[str, bytes]:
    return {path: data for path, data in sample_files().items() if path not in BAD_FILES}


def test_sample_files_are_deterministic() -> None:
    assert sample_files() == sample_files()


def test_write_sample_tree_writes_exactly_sample_files(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "docs"
    assert write_sample_tree(dest) == dest
    assert read_tree(dest) == sample_files()


def test_write_into_existing_empty_directory(tmp_path: Path) -> None:
    write_sample_tree(tmp_path)
    assert read_tree(tmp_path) == sample_files()


def test_committed_tree_matches_generator() -> None:
    assert COMMITTED_TREE.is_dir(), f"{COMMITTED_TREE} is missing; run: {REGENERATE}"
    committed = read_tree(COMMITTED_TREE)
    expected = sample_files()
    assert sorted(committed) == sorted(expected), f"file list differs; run: {REGENERATE}"
    changed = [path for path in expected if committed[path] != expected[path]]
    assert changed == [], f"contents differ; run: {REGENERATE}"


def test_tree_covers_every_format() -> None:
    formats = {detect_format(path) for path in good_files()}
    assert formats == set(supported_formats())


@pytest.mark.parametrize(("path", "problem"), sorted(BAD_FILES.items()))
def test_bad_file_has_its_problem(path: str, problem: str) -> None:
    data = sample_files()[path]
    if problem == "empty":
        assert data == b""
    elif problem == "encoding":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert any(ch in data.decode("latin-1") for ch in "éüß")
    elif problem == "binary":
        assert b"\x00" in data
    elif problem == "too_large":
        assert len(data) > SAMPLE_MAX_FILE_SIZE
        data.decode("utf-8")
    else:
        pytest.fail(f"unknown problem {problem!r} for {path}")


def test_good_files_are_small_utf8_with_unix_newlines() -> None:
    for path, data in good_files().items():
        text = data.decode("utf-8")
        assert text.strip(), path
        assert "\r" not in text, path
        assert len(data) < SAMPLE_MAX_FILE_SIZE // 10, path


@pytest.mark.parametrize(("word", "path"), sorted(KNOWN_WORDS.items()))
def test_known_word_is_in_exactly_one_file(word: str, path: str) -> None:
    hits = [name for name, data in sample_files().items() if word.encode() in data.lower()]
    assert hits == [path]


def test_hidden_files_are_exactly_the_dot_folder_files() -> None:
    hidden = [path for path in sample_files() if any(part.startswith(".") for part in path.split("/"))]
    assert hidden == sorted(HIDDEN_FILES)


def test_refuses_non_empty_destination(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        write_sample_tree(tmp_path)
    assert read_tree(tmp_path) == {"keep.txt": b"mine"}


def test_refuses_a_file_as_destination(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("mine")
    with pytest.raises(FileExistsError, match="not a directory"):
        write_sample_tree(target, overwrite=True)
    assert target.read_text() == "mine"


def test_overwrite_replaces_the_whole_tree(tmp_path: Path) -> None:
    dest = tmp_path / "docs"
    write_sample_tree(dest)
    (dest / "stray.md").write_text("left over")
    (dest / "README.md").write_text("edited")
    write_sample_tree(dest, overwrite=True)
    assert read_tree(dest) == sample_files()


def test_overwrite_refuses_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="refusing to delete"):
        write_sample_tree(".", overwrite=True)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_main_writes_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "docs"
    assert main([str(dest)]) == 0
    assert read_tree(dest) == sample_files()
    out = capsys.readouterr().out
    assert out == f"wrote {len(sample_files())} files to {dest}\n"


def test_main_overwrite_flag(tmp_path: Path) -> None:
    dest = tmp_path / "docs"
    dest.mkdir()
    (dest / "stray.md").write_text("left over")
    assert main([str(dest), "--overwrite"]) == 0
    assert read_tree(dest) == sample_files()


def test_main_fails_on_non_empty_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main([str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert read_tree(tmp_path) == {"keep.txt": b"mine"}
