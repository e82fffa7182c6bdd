"""How a worker reads one file: whole, once, and never past the size limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import docbatch.work.worker as worker
from docbatch.errors import ValidationError


class _ShortReads:
    """``os`` whose ``read`` returns at most ``limit`` bytes per call, as a read of more
    than 2 GiB does, and which can append to the file after ``fstat`` (a file that grows)."""

    def __init__(self, limit: int, grow: tuple[Path, bytes] | None = None) -> None:
        self.limit = limit
        self.grow = grow
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def fstat(self, fd: int) -> os.stat_result:
        result = os.fstat(fd)
        if self.grow is not None:
            path, extra = self.grow
            with open(path, "ab") as f:
                f.write(extra)
        return result

    def read(self, fd: int, n: int) -> bytes:
        self.reads += 1
        return os.read(fd, min(n, self.limit))


def _read(path: Path, max_file_size: int) -> bytes:
    return worker._read(os.open(path, os.O_RDONLY), max_file_size)


def test_short_reads_are_read_on_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.md"
    data = bytes(b % 255 + 1 for b in os.urandom(10_000))  # no NUL byte: text, to a sniff
    path.write_bytes(data)
    fake = _ShortReads(limit=999)
    monkeypatch.setattr(worker, "os", fake)
    assert _read(path, 1_000_000) == data
    assert fake.reads >= 11


def test_a_file_that_grows_while_read_is_read_to_its_new_end_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(worker, "os", _ShortReads(limit=1 << 20, grow=(path, b"y" * 50)))
    assert _read(path, 1000) == b"x" * 100 + b"y" * 50
    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(worker, "os", _ShortReads(limit=1 << 20, grow=(path, b"y" * 5000)))
    with pytest.raises(ValidationError, match="over max_file_size=1000"):
        _read(path, 1000)


def test_a_plain_file_is_read_in_one_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"# Title\n\ntext\n")
    fake = _ShortReads(limit=1 << 20)
    monkeypatch.setattr(worker, "os", fake)
    assert _read(path, 1000) == b"# Title\n\ntext\n" and fake.reads == 1


@pytest.mark.parametrize("nofollow", [True, False], ids=["O_NOFOLLOW", "without O_NOFOLLOW"])
def test_symlinks_are_followed_only_inside_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nofollow: bool
) -> None:
    if not nofollow:
        monkeypatch.setattr(worker, "_NOFOLLOW", 0)
    root, outside = tmp_path / "docs", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "plain.md").write_bytes(b"plain")
    (outside / "secret.md").write_bytes(b"secret")
    (root / "inside.md").symlink_to("plain.md")
    (root / "escape.md").symlink_to(outside / "secret.md")
    files = worker.RootFiles(1000)

    def read(doc_id: str) -> bytes:
        return files.read(str(root / doc_id), doc_id)

    assert read("plain.md") == b"plain" and read("inside.md") == b"plain"
    with pytest.raises(ValidationError, match="symlink points outside the root"):
        read("escape.md")
