"""Checking the state and report folders before a run writes anything to them.

A state folder that is a file, a part of it of the wrong kind (``outcomes/`` a file,
``writer.lock`` a folder), a folder that cannot be made or written, a report folder
under ``/proc``: each used to surface as a traceback from deep inside the run, some
only after the first commit. Each is now one ``StateError`` that names the path and
what to do, before the run starts.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from docbatch.errors import StateError

STATE_LAYOUT: dict[str, str] = {
    "outcomes": "folder",
    "corrupt": "folder",
    "runs": "folder",
    "heartbeats": "folder",
    "writer.lock": "file",
    "run.json": "file",
    "batch_ingest_performance.json": "file",
    "batch_ingest_errors.json": "file",
    "outcomes.parquet": "file",
    "timeline.parquet": "file",
}
"""What the state folder holds, and of which kind each entry must be."""

OPENED_IN_PLACE = frozenset({"writer.lock"})
"""The entries of a state folder written in place rather than replaced whole."""


def check_folder(path: Path, what: str, option: str, layout: dict[str, str] | None = None) -> None:
    """Make sure ``path`` is a folder this process can write (made if missing), and that the
    entries of ``layout`` in it, where present, are of their kind.

    Args:
        what: what the folder is, for the message ("state folder").
        option: how to choose another one, for the message ("--state-dir").

    Raises:
        StateError: the path, what is wrong with it and what to do.
    """
    if path.exists() and not path.is_dir():
        raise StateError(f"{what} {path} is not a folder: give another {option}, or move it away")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot make {what} {path}: {_why(exc)}; give another {option}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise StateError(f"cannot write in {what} {path}: {_why(exc)}; give another {option}") from None
    for name, kind in (layout or {}).items():
        entry = path / name
        if not os.path.lexists(entry):
            continue
        if entry.is_dir() != (kind == "folder") or entry.is_symlink():
            raise StateError(
                f"{entry} should be a {kind}, and it is not: move it away (docbatch makes it again) "
                f"or give another {option}"
            )
        try:  # files are replaced whole, except the lock, which is opened in place
            if kind == "folder":
                with tempfile.TemporaryFile(dir=entry):
                    pass
            elif name in OPENED_IN_PLACE:
                os.close(os.open(entry, os.O_RDWR))
        except OSError as exc:
            raise StateError(
                f"cannot write in {entry}: {_why(exc)}; make it writable for this user, "
                f"or give another {option}"
            ) from None


def check_state_folder(path: Path) -> None:
    """``check_folder`` for a state folder and its layout."""
    check_folder(path, "state folder", "--state-dir", STATE_LAYOUT)


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{exc.strerror} (no permission to write there)"
    return exc.strerror or str(exc)
