"""Values read back from the state folder are checked before they name any file: a
tampered or damaged run manifest is moved aside, and the run starts afresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from docbatch import BatchIngestService
from docbatch.state.checkpoint import CheckpointWarning


@pytest.mark.parametrize(
    "tampered",
    [
        {"run_id": "../../escaped"},
        {"run_id": "/tmp/escaped"},
        {"run_id": 7},
        {"run_id": "ok-id", "patterns": "*.md"},
        {"run_id": "ok-id", "root": ["not", "a", "path"]},
    ],
    ids=["climbs-out", "absolute", "not-text", "patterns-not-a-list", "root-not-text"],
)
def test_a_tampered_manifest_is_moved_aside_and_never_names_a_file(
    tmp_path: Path, tampered: dict[str, object]
) -> None:
    docs = tmp_path / "work" / "docs"
    docs.mkdir(parents=True)
    for i in range(3):
        (docs / f"{i}.md").write_text(f"# Page {i}\n\ntext\n")
    service = BatchIngestService(tmp_path / "work" / "s.db")
    first = service.ingest_batch(docs, limit=1)
    state = tmp_path / "work" / "s.state"
    manifest = json.loads((state / "run.json").read_text())
    (state / "run.json").write_text(json.dumps({**manifest, **tampered}))
    before = set(tmp_path.rglob("*"))

    with pytest.warns(CheckpointWarning, match="run manifest not trusted"):
        result = service.ingest_batch(docs)
    assert result.complete and result.run_id != first.run_id and result.succeeded + result.skipped == 3
    created = {p for p in set(tmp_path.rglob("*")) - before if state not in p.parents}
    assert created == set(), created  # nothing outside the state folder
    assert not Path("/tmp/escaped").exists() and not (tmp_path / "escaped").exists()
    assert any(p.name.startswith("run.json") for p in (state / "corrupt").iterdir())
    assert os.listdir(state / "outcomes")


def _run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "a.md").write_text("# A\n\ntext\n")
    return subprocess.run(
        [sys.executable, "-m", "docbatch", "ingest-docs-batch", "docs", "--db", "s.db", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("in the way")


def _state(name: str, kind: str) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        if kind == "folder":
            (tmp / "s.state" / name).mkdir(parents=True)
        else:
            _file(tmp / name)

    return make


def _nothing(tmp: Path) -> None:
    pass


# what is wrong: (how to make it so, extra arguments, exit status, words of the one line)
BAD_STATE = {
    "state folder is a file": (
        _state("sf", "file"),
        ["--state-dir", "sf"],
        3,
        "state folder sf is not a folder",
    ),
    "outcomes/ is a file": (_state("s.state/outcomes", "file"), [], 3, "s.state/outcomes should be a folder"),
    "writer.lock is a folder": (_state("writer.lock", "folder"), [], 3, "writer.lock should be a file"),
    "run.json is a folder": (_state("run.json", "folder"), [], 3, "run.json should be a file"),
    "state folder /dev/null": (_nothing, ["--state-dir", "/dev/null"], 3, "/dev/null is not a folder"),
    "report folder in /proc": (_nothing, ["--report-dir", "/proc/nope"], 3, "cannot make report folder"),
    "unknown encoding": (_nothing, ["--fallback-encoding", "nope"], 2, "fallback_encoding='nope'"),
    "not a text encoding": (_nothing, ["--fallback-encoding", "base64"], 2, "fallback_encoding='base64'"),
    "unreadable pattern": (_nothing, ["--pattern", "["], 2, "pattern='[' is not allowed"),
}


@pytest.mark.parametrize(("make", "args", "status", "words"), list(BAD_STATE.values()), ids=list(BAD_STATE))
def test_bad_state_and_folders_are_one_line_and_the_right_status(
    tmp_path: Path, make: Callable[[Path], None], args: list[str], status: int, words: str
) -> None:
    make(tmp_path)
    proc = _run_cli(tmp_path, *args)
    assert proc.returncode == status, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docbatch: error: ") and words in lines[0], lines
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_damaged_store_is_one_line_that_says_how_to_rebuild_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(400):
        (docs / f"page{i:03}.md").write_text(f"# Page {i}\n\n" + f"Words of page {i}. " * 40 + "\n")
    ingest = ["ingest-docs-batch", "docs", "--db", "s.db", "--quiet", "--executor", "serial"]
    assert subprocess.run([sys.executable, "-m", "docbatch", *ingest], cwd=tmp_path).returncode == 0
    db = tmp_path / "s.db"
    size = db.stat().st_size
    with open(db, "r+b") as f:  # garbage over pages in the middle of the file
        for offset in range(size // 3, size // 3 + 4096 * 40, 4096):
            f.seek(offset + 100)
            f.write(os.urandom(2000))
    for command in (["verify", "docs", "--db", "s.db"], ingest):
        proc = subprocess.run(
            [sys.executable, "-m", "docbatch", *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 3, proc.stderr[-2000:]
        lines = proc.stderr.strip().splitlines()
        assert (
            lines[-1].startswith("docbatch: error: the store s.db is damaged") and "ingest again" in lines[-1]
        )
        assert "Traceback" not in proc.stderr
