"""Values read back from the state folder are checked before they name any file: a
tampered or damaged run manifest is moved aside, and the run starts afresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    assert (state / "outcomes.parquet").is_file()  # the new run wrote in the state folder


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
    for command in (["verify", "docs", "--db", "s.db", "--deep"], ingest):  # --deep reads the whole store
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


# a state folder this user cannot write -----------------------------------------------------
#
# Root ignores permission bits, so these cases run the command line as an unprivileged user
# (uid 65534) when the tests run as root, and as the tests' own user otherwise. What must not
# be writable is made so by its mode (0555 folders, a 0444 file), and owned by whoever runs
# the tests; what must be writable belongs to the user the command runs as.

NOBODY = 65534
PROBE = (
    "import os, sys, docbatch.cli\n"
    "try:\n"
    "    open(os.path.join(sys.argv[1], 'x'), 'w').close()\n"
    "except PermissionError:\n"
    "    print(os.geteuid(), 'denied')\n"
)


@dataclass(frozen=True)
class Unprivileged:
    """How to run a command as a user that permission bits apply to."""

    uid: int
    prefix: list[str]
    options: dict[str, Any]

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            [*self.prefix, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **self.options,
        )

    def owns(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.uid)


def _candidates() -> list[Unprivileged]:
    if os.geteuid() != 0:
        return [Unprivileged(os.geteuid(), [], {})]
    found = []
    setpriv = shutil.which("setpriv")
    if setpriv:
        drop = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        found.append(Unprivileged(NOBODY, drop, {}))
        # an interpreter under a folder only root may search (/root/...) is read, never written
        search = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        found.append(Unprivileged(NOBODY, [*drop, *search], {}))
    found.append(Unprivileged(NOBODY, [], {"user": NOBODY, "group": NOBODY, "extra_groups": []}))
    return found


def _workspace() -> Path:
    """A fresh folder every user can reach (a test's tmp_path sits in root's private one)."""
    path = Path(tempfile.mkdtemp(prefix="unwritable-state-"))
    path.chmod(0o755)
    return path


def _remove(path: Path) -> None:
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def unprivileged() -> Iterator[Unprivileged]:
    """The first way that runs this interpreter, imports docbatch and is refused a write into
    a 0555 folder; the tests are skipped, with what each way answered, if there is none."""
    base = _workspace()
    try:
        closed = base / "closed"
        closed.mkdir(mode=0o555)
        closed.chmod(0o555)
        answers = []
        for way in _candidates():
            try:
                probe = way.run([sys.executable, "-c", PROBE, str(closed)], base)
            except OSError as exc:
                answers.append(f"{way.prefix or way.options}: {exc}")
                continue
            if probe.returncode == 0 and probe.stdout.split() == [str(way.uid), "denied"]:
                yield way
                return
            answers.append(f"{way.prefix or way.options}: {(probe.stdout + probe.stderr).strip()[-300:]}")
        pytest.skip("cannot run the command line as a user permission bits apply to: " + "; ".join(answers))
    finally:
        _remove(base)


def _closed_folder(rel: str) -> Callable[[Path, Unprivileged], None]:
    def make(work: Path, user: Unprivileged) -> None:
        path = work / rel
        if path.parent != work:
            path.parent.mkdir(parents=True)
            user.owns(path.parent)
        path.mkdir()
        path.chmod(0o555)

    return make


def _closed_file(rel: str) -> Callable[[Path, Unprivileged], None]:
    def make(work: Path, user: Unprivileged) -> None:
        path = work / rel
        path.parent.mkdir(parents=True)
        user.owns(path.parent)
        path.write_text("")
        path.chmod(0o444)

    return make


# what cannot be written: (how to make it so, extra arguments, the path the one line names)
UNWRITABLE_STATE = {
    "state folder not writable": (_closed_folder("s.state"), [], "state folder s.state"),
    "parent of the state folder not writable": (
        _closed_folder("closed"),
        ["--state-dir", "closed/state"],
        "cannot make state folder closed/state",
    ),
    "outcomes/ not writable": (_closed_folder("s.state/outcomes"), [], "s.state/outcomes"),
    "runs/ not writable": (_closed_folder("s.state/runs"), [], "s.state/runs"),
    "writer.lock not writable": (_closed_file("s.state/writer.lock"), [], "s.state/writer.lock"),
}


@pytest.mark.parametrize(
    ("make", "args", "words"), list(UNWRITABLE_STATE.values()), ids=list(UNWRITABLE_STATE)
)
def test_a_state_folder_this_user_cannot_write_is_one_line_with_the_path_and_what_to_do(
    unprivileged: Unprivileged, make: Callable[[Path, Unprivileged], None], args: list[str], words: str
) -> None:
    work = _workspace()
    try:
        unprivileged.owns(work)
        docs = work / "docs"
        docs.mkdir(mode=0o755)
        for i in range(3):
            (docs / f"{i}.md").write_text(f"# Page {i}\n\ntext\n")
            (docs / f"{i}.md").chmod(0o644)
        make(work, unprivileged)
        command = ["ingest-docs-batch", "docs", "--db", "s.db", "--executor", "serial", *args]
        proc = unprivileged.run([sys.executable, "-m", "docbatch", *command], work)
        assert proc.returncode == 3, proc.stderr[-2000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert lines[0].startswith("docbatch: error: ") and words in lines[0], lines
        assert "Permission denied" in lines[0] and "give another --state-dir" in lines[0], lines
    finally:
        _remove(work)
