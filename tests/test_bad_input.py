"""Bad input (issue 6, item 8): each bad file ends as a categorized outcome row, or a clean
skip with a reason, while every good file next to it still lands, and nothing outside the
root is read. Every fixture is generated in ``tmp_path`` at test time."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from docbatch import BatchConfig, BatchIngestService
from docbatch.formats import get_parser
from docbatch.formats.base import ParsedDocument
from docbatch.plan import walk as walk_module
from docbatch.result import IngestResult

if TYPE_CHECKING:
    from tests.conftest import MakeService

PATTERN = "*.md,*.rst,*.html,*.txt"
SECRET = "zanzibarsecret"
GOOD: dict[str, tuple[str, str]] = {
    "alpha.md": ("# Alpha\n\nThe quokka smiles at visitors.\n", "quokka"),
    "guide/beta.rst": ("Beta\n====\n\nThe wombat digs a burrow.\n", "wombat"),
    "guide/gamma.html": (
        "<html><body><main><h1>Gamma</h1><p>The numbat eats termites.</p></main></body></html>",
        "numbat",
    ),
    "notes/delta.txt": ("Delta\n=====\n\nThe platypus swims at dusk.\n", "platypus"),
}
MARKDOWN = get_parser("markdown")


# helpers -----------------------------------------------------------------------------------
def _good_tree(root: Path) -> Path:
    for rel, (text, _) in GOOD.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _outside(tmp_path: Path) -> Path:
    """A folder next to the root holding files whose words must never reach the store."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(f"# Secret\n\nThe {SECRET} lives here.\n")
    (folder / "secret.rst").write_text(f"Secret\n======\n\nThe {SECRET} lives here.\n")
    (folder / "secret.csv").write_text(f"word,{SECRET}\n")
    return folder


def _ingest(
    make_service: MakeService,
    root: Path,
    *,
    executor: str = "serial",
    parsers: dict[str, Any] | None = None,
    **config: Any,
) -> tuple[BatchIngestService, IngestResult]:
    service = make_service(parsers=parsers, **{"max_file_size": BatchConfig.max_file_size, **config})
    result = service.ingest_batch(root, PATTERN, executor=executor)
    _assert_complete(result)
    return service, result


def _assert_complete(result: IngestResult) -> None:
    assert result.complete and not result.interrupted
    assert result.outcomes["doc_id"].is_unique().all()
    assert result.outcomes.height == result.total_files


def _rows(result: IngestResult) -> dict[str, dict[str, Any]]:
    return {row["doc_id"]: row for row in result.outcomes.iter_rows(named=True)}


def _hits(service: BatchIngestService, word: str) -> list[str]:
    return service.search(word, limit=50)["doc_id"].to_list()


def _assert_good_landed(service: BatchIngestService, result: IngestResult, prefix: str = "") -> None:
    rows = _rows(result)
    for rel, (_, word) in GOOD.items():
        doc_id = prefix + rel
        assert rows[doc_id]["status"] == "succeeded", rows[doc_id]
        assert rows[doc_id]["n_passages"] >= 1
        assert doc_id in _hits(service, word)


def _assert_failed(row: dict[str, Any], category: str, *words: str, error_type: str | None = None) -> None:
    assert row["status"] == "failed", row
    assert row["error_category"] == category, row
    if error_type is not None:
        assert row["error_type"] == error_type, row
    for word in words:
        assert word in row["error_message"], row


_WATCHERS: list[list[str]] = []
_HOOKED: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHERS and event in ("open", "os.scandir", "os.listdir") and args:
        target = args[0]
        if isinstance(target, str | bytes):
            path = os.fsdecode(target)
            flags = args[2] if event == "open" and len(args) > 2 and isinstance(args[2], int) else 0
            if flags & os.O_NOFOLLOW:  # a symlink itself is never followed: only its folder is
                folder, name = os.path.split(path)
                _WATCHERS[-1].append(os.path.join(os.path.realpath(folder), name))
            else:
                _WATCHERS[-1].append(os.path.realpath(path))


@contextmanager
def _opened() -> Iterator[list[str]]:
    """The real paths this process opens or lists inside the block (an audit hook)."""
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    paths: list[str] = []
    _WATCHERS.append(paths)
    try:
        yield paths
    finally:
        _WATCHERS.remove(paths)


def _touching(paths: list[str], folder: Path) -> list[str]:
    real = os.path.realpath(folder)
    return [p for p in paths if p == real or p.startswith(real + os.sep)]


def _write_bytes_at(directory: Path, name: bytes, data: bytes) -> None:
    fd = os.open(os.fsencode(directory) + b"/" + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# encodings and content ---------------------------------------------------------------------
def test_invalid_utf8_is_a_validation_row_that_names_the_byte(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "latin1.md").write_bytes("# Caf\u00e9\n\nLe caf\u00e9 est fort.\n".encode("latin-1"))
    service, result = _ingest(make_service, root)
    row = _rows(result)["latin1.md"]
    _assert_failed(
        row, "validation", "not valid UTF-8", "byte 0xe9 at offset 5", error_type="ValidationError"
    )
    assert row["attempts"] == 1
    assert _hits(service, "fort") == []
    _assert_good_landed(service, result)

    again = make_service("fallback/s.db", max_file_size=BatchConfig.max_file_size).ingest_batch(
        root, PATTERN, executor="serial", fallback_encoding="latin-1"
    )
    fallback = _rows(again)["latin1.md"]
    assert fallback["status"] == "succeeded" and fallback["reason"] == "decoded as latin-1"


def test_utf16_with_a_bom_is_decoded_and_without_one_is_rejected(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = _good_tree(tmp_path / "docs")
    text = "# Sixteen\n\nThe bilby digs at night.\n"
    (root / "le.md").write_bytes(text.replace("bilby", "bilbyle").encode("utf-16"))
    (root / "be.md").write_bytes(b"\xfe\xff" + text.replace("bilby", "bilbybe").encode("utf-16-be"))
    (root / "nobom.md").write_bytes(text.replace("bilby", "bilbynobom").encode("utf-16-le"))
    (root / "odd.md").write_bytes(b"\xff\xfe" + text.encode("utf-16-le") + b"!")
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    assert rows["le.md"]["status"] == "succeeded" and rows["le.md"]["reason"] == "decoded as utf-16-le (BOM)"
    assert rows["be.md"]["status"] == "succeeded" and rows["be.md"]["reason"] == "decoded as utf-16-be (BOM)"
    assert rows["le.md"]["title"] == "Sixteen"
    assert _hits(service, "bilbyle") == ["le.md"] and _hits(service, "bilbybe") == ["be.md"]
    _assert_failed(rows["nobom.md"], "validation", "binary content", "NUL byte at offset 1")
    _assert_failed(rows["odd.md"], "validation", "not valid utf-16-le despite its byte-order mark")
    assert _hits(service, "bilbynobom") == []
    _assert_good_landed(service, result)


def test_a_binary_file_named_md_is_rejected_as_binary(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    (root / "image.md").write_bytes(png)
    (root / "noise.md").write_bytes(bytes(range(128, 256)) * 16)  # no NUL, not UTF-8 either
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    _assert_failed(rows["image.md"], "validation", "binary content (NUL byte at offset 8)")
    _assert_failed(rows["noise.md"], "validation", "not valid UTF-8", "offset 0")
    assert service.backend.counts()["documents"] == len(GOOD)
    _assert_good_landed(service, result)


def test_an_empty_file_is_rejected_without_being_read(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "empty.md").write_bytes(b"")
    (root / "guide" / "empty.html").write_bytes(b"")
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    for doc_id in ("empty.md", "guide/empty.html"):
        _assert_failed(rows[doc_id], "validation", "empty file", error_type="ValidationError")
        assert rows[doc_id]["attempts"] == 0  # decided by the inventory alone
    assert service.plan(root, PATTERN).filter(doc_id="empty.md")["reason"].to_list() == ["empty file"]
    _assert_good_landed(service, result)


def test_a_file_over_max_file_size_is_rejected_with_its_size(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "big.md").write_text("# Big\n\n" + "bigword " * 200)
    (root / "limit.md").write_text(("# Limit\n\nlimitword " + "x" * 1000)[:1000])
    service, result = _ingest(make_service, root, max_file_size=1000)
    rows = _rows(result)
    size = (root / "big.md").stat().st_size
    _assert_failed(rows["big.md"], "validation", f"file is {size} bytes, over max_file_size=1000")
    assert rows["big.md"]["attempts"] == 0
    assert rows["limit.md"]["status"] == "succeeded" and rows["limit.md"]["size"] == 1000
    assert _hits(service, "bigword") == [] and _hits(service, "limitword") == ["limit.md"]
    _assert_good_landed(service, result)


@pytest.mark.slow
def test_a_single_50_mb_line(tmp_path: Path, make_service: MakeService) -> None:
    """At the default max_file_size (50 MiB) a 50 MiB one-line Markdown or text file is
    accepted and parsed in a few seconds; one byte more is rejected by the inventory without
    a read."""
    root = _good_tree(tmp_path / "docs")
    limit = BatchConfig().max_file_size
    unit = b"lorem ipsum dolor sit amet "
    line = (b"marmot " + unit * (limit // len(unit) + 1))[:limit]
    (root / "line.md").write_bytes(line)
    (root / "line.txt").write_bytes(line)
    (root / "over.md").write_bytes(line + b"x")
    started = time.monotonic()
    service, result = _ingest(make_service, root)
    elapsed = time.monotonic() - started
    rows = _rows(result)
    assert rows["line.md"]["status"] == "succeeded" and rows["line.md"]["size"] == limit
    assert rows["line.md"]["n_passages"] > 30_000
    assert rows["line.txt"]["status"] == "succeeded" and rows["line.txt"]["n_passages"] > 30_000
    assert "line.txt" in _hits(service, "marmot")
    assert service.backend.passages("docs", "line.md")["text"][0].startswith("marmot lorem")
    _assert_failed(rows["over.md"], "validation", f"over max_file_size={limit}")
    assert rows["over.md"]["attempts"] == 0
    _assert_good_landed(service, result)
    assert elapsed < 60


def test_a_long_line_of_plain_text_parses_quickly(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "line.txt").write_text("jerboa " + "lorem ipsum " * 20_000)
    service, result = _ingest(make_service, root, file_timeout_s=1.0)
    assert _rows(result)["line.txt"]["status"] == "succeeded"
    assert set(_hits(service, "jerboa")) == {"line.txt"}


def _nested_html(levels: int, word: str) -> str:
    return "<html><body>" + "<div>" * levels + f"<p>{word}</p>" + "</div>" * levels + "</body></html>"


def test_deeply_nested_html_parses_without_recursion(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "deep.html").write_text(_nested_html(1_900, "tarsier"))  # under MAX_NESTING
    service, result = _ingest(make_service, root)
    assert _rows(result)["deep.html"]["status"] == "succeeded"
    assert _hits(service, "tarsier") == ["deep.html"]
    _assert_good_landed(service, result)


@pytest.mark.slow
def test_html_nested_100k_levels_is_refused_before_parsing_and_the_run_goes_on(
    tmp_path: Path, make_service: MakeService
) -> None:
    """lexbor needs ~15-30 s for 100k nested elements (quadratic, inside C where no alarm
    reaches): the depth is counted first, and the file is a validation row at once."""
    root = _good_tree(tmp_path / "docs")
    (root / "deep.html").write_text(_nested_html(100_000, "tarsier"))
    started = time.monotonic()
    service, result = _ingest(make_service, root)
    elapsed = time.monotonic() - started
    _assert_failed(_rows(result)["deep.html"], "validation", "HTML elements nest 100000 deep")
    assert _hits(service, "tarsier") == []
    _assert_good_landed(service, result)
    assert elapsed < 30


@pytest.mark.parametrize("engine", ["fast", "docutils"])
def test_rst_include_and_raw_never_read_a_file_outside_the_root(
    tmp_path: Path, engine: str, make_service: MakeService
) -> None:
    outside = _outside(tmp_path)
    root = _good_tree(tmp_path / "docs")
    (root / "tricks.rst").write_text(
        "Tricks\n======\n\n"
        f".. include:: {outside}/secret.rst\n\n"
        ".. include:: ../outside/secret.rst\n   :literal:\n\n"
        ".. include:: alpha.md\n\n"
        f".. raw:: html\n   :file: {outside}/secret.md\n\n"
        ".. raw:: html\n\n   <b>rawword</b>\n\n"
        f".. csv-table:: Table\n   :file: {outside}/secret.csv\n\n"
        f".. literalinclude:: {outside}/secret.md\n\n"
        "The echidna stays in this file.\n"
    )
    with _opened() as opened:
        service, result = _ingest(make_service, root, rst_engine=engine)
    assert _rows(result)["tricks.rst"]["status"] == "succeeded"
    assert _hits(service, "echidna") == ["tricks.rst"]
    assert _hits(service, SECRET) == []
    assert _hits(service, "rawword") == ["tricks.rst"]  # raw HTML written in the file is its text
    assert _hits(service, "quokka") == ["alpha.md", "tricks.rst"]  # an include inside the root is read
    assert _touching(opened, outside) == []
    _assert_good_landed(service, result)


# symlinks ----------------------------------------------------------------------------------
def test_symlink_loops_are_rows_and_folder_loops_are_walked_once(
    tmp_path: Path, make_service: MakeService
) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "loop_a.md").symlink_to("loop_b.md")
    (root / "loop_b.md").symlink_to("loop_a.md")
    (root / "self.md").symlink_to("self.md")
    (root / "guide" / "up").symlink_to("..", target_is_directory=True)
    (root / "guide" / "here").symlink_to(".", target_is_directory=True)
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    for doc_id in ("loop_a.md", "loop_b.md", "self.md"):
        _assert_failed(rows[doc_id], "validation", "symlink loop")
    folder_loops = {"guide/up/", "guide/here/"}  # not walked: one skipped row each
    assert set(rows) == set(GOOD) | {"loop_a.md", "loop_b.md", "self.md"} | folder_loops
    assert {d: (rows[d]["status"], rows[d]["reason"]) for d in folder_loops} == dict.fromkeys(
        folder_loops, ("skipped", "symlink loop")
    )
    _assert_good_landed(service, result)


def test_a_symlink_pointing_outside_the_root_is_an_invalid_row(
    tmp_path: Path, make_service: MakeService
) -> None:
    outside = _outside(tmp_path)
    root = _good_tree(tmp_path / "docs")
    (root / "escape.md").symlink_to(outside / "secret.md")
    (root / "guide" / "relative.md").symlink_to("../../outside/secret.md")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "inside.md").symlink_to("alpha.md")
    with _opened() as opened:
        service, result = _ingest(make_service, root)
    rows = _rows(result)
    for doc_id in ("escape.md", "guide/relative.md"):
        _assert_failed(rows[doc_id], "validation", "symlink points outside the root")
        assert rows[doc_id]["attempts"] == 0
    # a folder link is not followed: one skipped row, nothing under it
    assert [d for d in rows if d.startswith("escape_dir")] == ["escape_dir/"]
    assert (rows["escape_dir/"]["status"], rows["escape_dir/"]["reason"]) == ("skipped", "outside root")
    plan = service.plan(root, PATTERN).filter(pl.col("status") == "invalid")
    assert dict(plan.select("doc_id", "reason").iter_rows()) == {
        "escape.md": "symlink points outside the root",
        "guide/relative.md": "symlink points outside the root",
    }
    assert rows["inside.md"]["status"] == "succeeded"
    assert sorted(_hits(service, "quokka")) == ["alpha.md", "inside.md"]
    assert _hits(service, SECRET) == []
    assert _touching(opened, outside) == []
    _assert_good_landed(service, result)


def test_a_dangling_symlink_is_a_row_that_says_so(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    (root / "dangling.md").symlink_to("missing.md")
    (root / "gone_dir").symlink_to("missing_dir", target_is_directory=True)
    (root / "far.md").symlink_to(tmp_path / "nowhere" / "missing.md")
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    _assert_failed(rows["dangling.md"], "validation", "dangling symlink")
    _assert_failed(rows["far.md"], "validation", "symlink points outside the root")
    assert set(rows) == set(GOOD) | {"dangling.md", "far.md"}
    _assert_good_landed(service, result)


# files that change under the run -----------------------------------------------------------
def _meddling_markdown(actions: Sequence[Callable[[], object]]) -> Callable[[str], ParsedDocument]:
    """The Markdown parser, which first runs ``actions`` when it parses the trigger file."""

    def parse(text: str) -> ParsedDocument:
        if "triggerword" in text:
            for action in actions:
                action()
        return MARKDOWN(text)

    return parse


def _truncate(path: Path, size: int) -> Callable[[], None]:
    def act() -> None:
        with open(path, "r+b") as f:
            f.truncate(size)

    return act


def test_files_deleted_or_truncated_between_inventory_and_parse(
    tmp_path: Path, make_service: MakeService
) -> None:
    """Files changed after the inventory are read as they are when parsed: a deleted file is
    a ``processing`` failure (FileNotFoundError naming the path, not retried); a truncated
    file succeeds with its new, shorter content (the old tail is not searchable); one
    truncated to nothing is an ``empty file`` validation row, and one that grew past
    ``max_file_size`` a validation row too. A second run re-reads the truncated file once
    (its mtime moved) and finds the content it stored, so nothing is parsed again."""
    root = _good_tree(tmp_path / "docs")
    (root / "a_trigger.md").write_text("# Trigger\n\ntriggerword\n")
    kept = "# Truncated\n\nkeptword"
    victims = {
        "z_deleted.md": "# Deleted\n\ndeletedword\n",
        "z_truncated.md": kept + " lostword\n",
        "z_emptied.md": "# Emptied\n\nemptiedword\n",
        "z_grown.md": "# Grown\n\ngrownword\n",
    }
    for name, text in victims.items():
        (root / name).write_text(text)
    actions = [
        (root / "z_deleted.md").unlink,
        _truncate(root / "z_truncated.md", len(kept)),
        _truncate(root / "z_emptied.md", 0),
        lambda: (root / "z_grown.md").write_text("# Grown\n\n" + "grownword " * 500),
    ]
    parsers = {"markdown": _meddling_markdown(actions)}
    service, result = _ingest(make_service, root, parsers=parsers, max_file_size=2000)
    rows = _rows(result)
    assert rows["a_trigger.md"]["status"] == "succeeded"
    deleted = rows["z_deleted.md"]
    _assert_failed(deleted, "processing", "No such file or directory", str(root / "z_deleted.md"))
    assert deleted["error_type"] == "FileNotFoundError" and deleted["attempts"] == 1
    truncated = rows["z_truncated.md"]
    assert truncated["status"] == "succeeded" and truncated["size"] == len(kept)
    assert _hits(service, "keptword") == ["z_truncated.md"] and _hits(service, "lostword") == []
    _assert_failed(rows["z_emptied.md"], "validation", "empty file")
    _assert_failed(rows["z_grown.md"], "validation", "over max_file_size=2000")
    for word in ("deletedword", "emptiedword", "grownword"):
        assert _hits(service, word) == []
    _assert_good_landed(service, result)

    again = service.ingest_batch(root, PATTERN, executor="serial")
    _assert_complete(again)
    second = _rows(again)
    assert "z_deleted.md" not in second
    assert second["z_truncated.md"]["status"] == "skipped"
    assert second["z_truncated.md"]["reason"] == "content unchanged (only mtime changed)"
    assert again.succeeded == 0 and _hits(service, "keptword") == ["z_truncated.md"]


def test_a_file_swapped_for_a_symlink_after_the_inventory_is_not_read(
    tmp_path: Path, make_service: MakeService
) -> None:
    """A file (or folder) replaced by a symlink leaving the root between inventory and parse
    is refused by the worker like the inventory refuses such links."""
    outside = _outside(tmp_path)
    (outside / "sub").mkdir()
    (outside / "sub" / "inner.md").write_text(f"# Inner\n\n{SECRET} again\n")
    root = _good_tree(tmp_path / "docs")
    (root / "a_trigger.md").write_text("# Trigger\n\ntriggerword\n")
    (root / "z_swapped.md").write_text("# Swapped\n\nswappedword\n")
    (root / "z_dir").mkdir()
    (root / "z_dir" / "inner.md").write_text("# Inner\n\ninnerword\n")

    def swap() -> None:
        (root / "z_swapped.md").unlink()
        (root / "z_swapped.md").symlink_to(outside / "secret.md")
        shutil.rmtree(root / "z_dir")
        (root / "z_dir").symlink_to(outside / "sub", target_is_directory=True)

    with _opened() as opened:
        service, result = _ingest(make_service, root, parsers={"markdown": _meddling_markdown([swap])})
    rows = _rows(result)
    for doc_id in ("z_swapped.md", "z_dir/inner.md"):
        _assert_failed(rows[doc_id], "validation", "symlink points outside the root")
    assert _hits(service, SECRET) == []
    assert _touching(opened, outside) == []
    _assert_good_landed(service, result)


# folders -----------------------------------------------------------------------------------
class _OsWithLockedFolder:
    """``os`` as the inventory sees it, except that one folder cannot be listed."""

    def __init__(self, locked: Path) -> None:
        self.locked = str(locked)

    def scandir(self, path: str | int) -> Any:
        if not isinstance(path, int) and os.fspath(path) == self.locked:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return os.scandir(path)

    def open(self, path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        """A folder listed through its descriptor fails to open, as one without the right to
        read it does."""
        if os.fspath(path) == self.locked:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return os.open(path, flags, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _locked_tree(tmp_path: Path) -> tuple[Path, Path]:
    root = _good_tree(tmp_path / "docs")
    locked = root / "locked"
    (locked / "deeper").mkdir(parents=True)
    (locked / "inner.md").write_text("# Inner\n\nThe dunnart hides.\n")
    return root, locked


def test_a_folder_that_cannot_be_listed_is_a_row_and_the_rest_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_service: MakeService
) -> None:
    root, locked = _locked_tree(tmp_path)
    monkeypatch.setattr(walk_module, "os", _OsWithLockedFolder(locked))
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    _assert_failed(rows["locked/"], "validation", "cannot list directory", "Permission denied")
    assert set(rows) == set(GOOD) | {"locked/"}
    assert _hits(service, "dunnart") == []
    _assert_good_landed(service, result)


def test_a_folder_that_cannot_be_listed_does_not_delete_its_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_service: MakeService
) -> None:
    root, locked = _locked_tree(tmp_path)
    service, first = _ingest(make_service, root)
    assert _hits(service, "dunnart") == ["locked/inner.md"]
    monkeypatch.setattr(walk_module, "os", _OsWithLockedFolder(locked))
    again = service.ingest_batch(root, PATTERN, executor="serial", sync_deletions=True)
    assert "deleted" not in again.outcomes["status"].to_list()
    assert _hits(service, "dunnart") == ["locked/inner.md"]


ODD_NAMES: dict[str, str] = {
    "with space.md": "spacedword",
    "new\nline.md": "newlineword",
    "-rf.md": "dashword",
    "--help.md": "doubledashword",
    "tab\tand\rreturn.md": "controlword",
    "back\\slash.md": "backslashword",
    "\u00fcn\u00efc\u00f8d\u00e9 \u6587\u6863.md": "unicodeword",
    " leading space.md": "leadingword",
}


def _odd_tree(root: Path) -> Path:
    _good_tree(root)
    for name, word in ODD_NAMES.items():
        (root / name).write_text(f"# Odd\n\nThe {word} is here.\n")
    _write_bytes_at(root, b"latin1-\xe9t\xe9.md", b"# Latin\n\nlatinnameword\n")
    os.mkdir(os.fsencode(root) + b"/dir-\xff")
    _write_bytes_at(root / os.fsdecode(b"dir-\xff"), b"inner.md", b"# Inner\n\nlatindirword\n")
    return root


def test_odd_file_names(tmp_path: Path, make_service: MakeService) -> None:
    root = _odd_tree(tmp_path / "docs")
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    for name, word in ODD_NAMES.items():
        assert rows[name]["status"] == "succeeded", name
        assert _hits(service, word) == [name]
        assert Path(rows[name]["path"]) == root / name
    for doc_id in ("latin1-\\xe9t\\xe9.md", "dir-\\xff"):
        _assert_failed(rows[doc_id], "validation", "file name is not valid UTF-8")
    assert _hits(service, "latinnameword") == [] and _hits(service, "latindirword") == []
    assert set(rows) == set(GOOD) | set(ODD_NAMES) | {"latin1-\\xe9t\\xe9.md", "dir-\\xff"}
    _assert_good_landed(service, result)

    assert (
        pl.read_parquet(result.reports["outcomes"])["doc_id"].to_list() == result.outcomes["doc_id"].to_list()
    )
    errors = json.loads(Path(result.reports["errors"]).read_text())
    assert errors["total_errors"] == 2
    again = service.ingest_batch(root, PATTERN, executor="serial")
    assert again.skipped == len(GOOD) + len(ODD_NAMES) and again.succeeded == 0


def test_odd_file_names_inside_a_git_work_tree(tmp_path: Path, make_service: MakeService) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = _odd_tree(tmp_path / "docs")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org"}
    env |= {"GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "odd names"]):
        subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True)
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    assert all(rows[name]["status"] == "succeeded" for name in ODD_NAMES)
    con = sqlite3.connect(tmp_path / "s.db")
    try:
        authors = dict(con.execute("SELECT doc_id, git_author FROM documents").fetchall())
    finally:
        con.close()
    assert authors == {doc_id: "Ada" for doc_id in set(GOOD) | set(ODD_NAMES)}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_takes_names_with_leading_dashes_as_files(tmp_path: Path) -> None:
    docs = _good_tree(tmp_path / "docs")
    for name in ("-rf.md", "--help.md", "-x y.md", "new\nline.md"):
        (docs / name).write_text("# Dash\n\nThe dashword stays a word.\n")
    ingest = _cli("ingest-docs-batch", str(docs), "--pattern", PATTERN, "--json", cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    summary = json.loads(ingest.stdout)
    assert summary["succeeded"] == len(GOOD) + 4 and summary["failed"] == 0
    assert all((docs / name).exists() for name in ("-rf.md", "--help.md", "-x y.md", "new\nline.md"))
    search = _cli("search", "dashword", "--json", "--limit", "10", cwd=tmp_path)
    assert search.returncode == 0, search.stderr
    assert sorted(hit["doc_id"] for hit in json.loads(search.stdout)) == sorted(
        ["-rf.md", "--help.md", "-x y.md", "new\nline.md"]
    )

    dashed = tmp_path / "-docs"
    shutil.copytree(docs, dashed)
    again = _cli(
        "ingest-docs-batch", "--json", "--pattern", PATTERN, "--db", "dashed.db", "--", "-docs", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["succeeded"] == len(GOOD) + 4


def _deep_tree(root: Path, levels: int, name: str, every: int) -> dict[int, Path]:
    """``levels`` nested folders (made relative to a folder descriptor, so the total path may
    pass PATH_MAX) with a Markdown file every ``every`` levels; the files by level."""
    files: dict[int, Path] = {}
    fd = os.open(root, os.O_RDONLY)
    path = root
    try:
        for level in range(levels):
            folder = f"{name}{level:03d}"
            os.mkdir(folder, dir_fd=fd)
            child = os.open(folder, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
            path = path / folder
            if level % every == every - 1:
                out = os.open("doc.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(out, f"# Level {level}\n\nlevelword{level}\n".encode())
                os.close(out)
                files[level] = path / "doc.md"
    finally:
        os.close(fd)
    return files


def test_two_hundred_level_deep_folders(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    files = _deep_tree(root, 200, "level-", 50)
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    for level, path in files.items():
        doc_id = path.relative_to(root).as_posix()
        assert rows[doc_id]["status"] == "succeeded"
        assert _hits(service, f"levelword{level}") == [doc_id]
    assert set(rows) == set(GOOD) | {p.relative_to(root).as_posix() for p in files.values()}
    _assert_good_landed(service, result)


def test_folders_nested_past_path_max_end_as_one_row(tmp_path: Path, make_service: MakeService) -> None:
    root = _good_tree(tmp_path / "docs")
    files = _deep_tree(root, 200, "a-rather-long-folder-name-", 50)
    reachable = {level: p for level, p in files.items() if len(os.fsencode(p)) < 4000}
    assert 0 < len(reachable) < len(files)
    service, result = _ingest(make_service, root)
    rows = _rows(result)
    for level, path in reachable.items():
        assert rows[path.relative_to(root).as_posix()]["status"] == "succeeded", level
    failed = result.outcomes.filter(status="failed")
    assert failed.height == 1
    _assert_failed(failed.row(0, named=True), "validation", "cannot list directory", "File name too long")
    assert failed["doc_id"][0].endswith("/")
    assert result.outcomes.height == len(GOOD) + len(reachable) + 1
    _assert_good_landed(service, result)


@pytest.mark.slow
def test_a_hundred_thousand_files_in_one_folder(tmp_path: Path, make_service: MakeService) -> None:
    count = 100_000
    root = _good_tree(tmp_path / "docs")
    flat = root / "flat"
    flat.mkdir()
    folder = os.fsencode(flat)
    for i in range(count):
        fd = os.open(folder + b"/n%06d.txt" % i, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"note flatword%d\n" % i)
        os.close(fd)
    started = time.monotonic()
    service, result = _ingest(
        make_service,
        root,
        executor="process",
        max_batch_size=count + len(GOOD),
        chunk_processing_size=1000,
    )
    elapsed = time.monotonic() - started
    assert result.succeeded == count + len(GOOD) and result.failed == 0
    assert service.backend.counts()["documents"] == count + len(GOOD)
    for i in (0, 4_321, count - 1):
        assert _hits(service, f"flatword{i}") == [f"flat/n{i:06d}.txt"]
    _assert_good_landed(service, result)
    assert elapsed < 60
