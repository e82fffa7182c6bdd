"""The sample tree: packaged documents plus generated bad files, written byte for byte."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import docbatch
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

REPO = Path(__file__).resolve().parents[1]
PACKAGED = Path(docbatch.__file__).parent / "sample_docs"


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


def assert_packaged_plus_bad_files(written: dict[str, bytes]) -> None:
    """``written`` is every packaged document byte for byte, plus the generated bad files."""
    packaged = read_tree(PACKAGED)
    assert len(packaged) > 30 and set(HIDDEN_FILES) <= set(packaged)
    assert set(written) == set(packaged) | set(BAD_FILES)
    changed = [path for path, data in packaged.items() if written[path] != data]
    assert changed == []
    assert {path: written[path] for path in BAD_FILES} == {path: sample_files()[path] for path in BAD_FILES}


def test_packaged_folder_holds_the_documents_and_none_of_the_bad_files() -> None:
    packaged = read_tree(PACKAGED)
    assert not set(packaged) & set(BAD_FILES)
    assert set(packaged) | set(BAD_FILES) == set(sample_files())


def test_write_sample_tree_writes_every_packaged_file_and_the_bad_files(tmp_path: Path) -> None:
    assert_packaged_plus_bad_files(read_tree(write_sample_tree(tmp_path / "docs")))


def test_docbatch_sample_command_writes_the_same_tree(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "docbatch", "sample", "docs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"wrote {len(sample_files())} files to docs\n"
    assert_packaged_plus_bad_files(read_tree(tmp_path / "docs"))


def test_the_readme_first_command_writes_the_sample_then_ingests_it(tmp_path: Path) -> None:
    """The README's first command, after its install steps, in a checkout without ``data/sample_docs``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)[0]
    steps = first.split(" && ")
    docbatch_steps = [step for step in steps if step.startswith(".venv/bin/docbatch ")]
    assert docbatch_steps == steps[2:]  # venv, install, then docbatch commands only
    assert docbatch_steps[0].startswith(".venv/bin/docbatch sample data/sample_docs")
    if shutil.which("git") is not None:  # a checkout: the repository's .gitignore applies
        subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
        shutil.copy2(REPO / ".gitignore", tmp_path / ".gitignore")
    bin_dir = Path(sys.executable).parent
    command = " && ".join(step.replace(".venv/bin/", f"{bin_dir}/", 1) for step in docbatch_steps)
    run = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert_packaged_plus_bad_files(read_tree(tmp_path / "data" / "sample_docs"))
    assert (
        f"succeeded {len(sample_files()) - len(BAD_FILES) - len(HIDDEN_FILES)}, failed {len(BAD_FILES)}"
        in run.stdout
    )
    assert KNOWN_WORDS["quokka"] in run.stdout


def test_the_written_sample_is_not_committed_nor_ignored() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60)

    assert git("ls-files", "data/sample_docs").stdout == ""
    # not ignored either: docbatch skips git-ignored files, so the README's demo would find none
    assert git("check-ignore", "-q", "data/sample_docs/README.md").returncode == 1
    assert git("ls-files", "src/docbatch/sample_docs/.drafts").stdout.strip() != ""


@pytest.mark.slow
def test_the_wheel_ships_every_document_and_reads_them_once_installed(tmp_path: Path) -> None:
    """A real wheel build: the documents (hidden ``.drafts/`` included) are package data."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, project / name)
    shutil.copytree(REPO / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path / "wheel")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("docbatch-*.whl")
    prefix = "docbatch/sample_docs/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name.removeprefix(prefix) for name in archive.namelist() if name.startswith(prefix)}
        archive.extractall(tmp_path / "installed")
    assert shipped == set(read_tree(PACKAGED))
    assert set(HIDDEN_FILES) <= shipped

    script = "import sys, docbatch.sample as s; print(s.__file__); s.write_sample_tree(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "installed")}
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(str(tmp_path / "installed"))
    assert_packaged_plus_bad_files(read_tree(tmp_path / "out"))


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
