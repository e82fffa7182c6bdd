"""Checkpoints: the outcome rows of finished files, as Parquet parts in a state folder.

Layout of a state folder::

    run.json                      the current run: id, root, pattern, state
    outcomes/part-<run>-<n>.parquet   outcome rows, one part per committed group of files
    corrupt/                      parts that could not be read, kept as backups

A part is written only after the store committed its files, under a temporary
name and then renamed, so a part on disk is always whole and always describes
files that are really in the store.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.errors import CheckpointWarning as CheckpointWarning  # its home is docbatch.errors
from docbatch.frames import OUTCOMES, conform
from docbatch.state.atomic import sweep_temp_files, write_json, write_parquet

log = logging.getLogger("docbatch")

COMPACT_AFTER_PARTS = 16
"""A run's parts are merged into one when a call finds more than this many."""
_PART = re.compile(r"^part-(?P<run>[0-9A-Za-z_-]+)-(?P<n>\d+)\.parquet$")


@dataclass
class LoadedCheckpoint:
    """The outcome rows of a run read back from its parts, and what could not be read."""

    outcomes: pl.DataFrame
    problems: list[dict[str, Any]] = field(default_factory=list)
    next_part: int = 0


class Checkpoint:
    """Reads and writes the state folder of one store."""

    def __init__(self, state_dir: str | Path, *, fsync: bool = True) -> None:
        self.state_dir = Path(state_dir)
        self.parts_dir = self.state_dir / "outcomes"
        self.corrupt_dir = self.state_dir / "corrupt"
        self.fsync = fsync

    def prepare(self) -> None:
        """Create the folders and sweep temp files left by a killed run."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        sweep_temp_files(self.parts_dir)
        sweep_temp_files(self.state_dir)

    # run manifest -------------------------------------------------------------------------
    def read_run(self) -> dict[str, Any] | None:
        """The current run's manifest, or None when there is none (or it is unreadable)."""
        path = self.state_dir / "run.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._move_aside(path, f"unreadable run manifest: {exc}")
            return None
        if not isinstance(data, dict) or "run_id" not in data:
            return None
        problem = manifest_problem(data)
        if problem is not None:  # its values name files: never used unchecked
            self._move_aside(path, f"run manifest not trusted: {problem}")
            return None
        return data

    def write_run(self, manifest: dict[str, Any]) -> None:
        write_json(manifest, self.state_dir / "run.json", fsync=self.fsync)

    # parts --------------------------------------------------------------------------------
    def write_part(self, run_id: str, number: int, outcomes: pl.DataFrame) -> Path:
        """Write the outcome rows of committed files as part ``number`` of ``run_id``."""
        path = self.parts_dir / f"part-{run_id}-{number:06d}.parquet"
        write_parquet(conform(outcomes, OUTCOMES), path, fsync=self.fsync)
        return path

    def load(self, run_id: str) -> LoadedCheckpoint:
        """Every readable part of ``run_id``; unreadable ones are moved to ``corrupt/``,
        reported as problems, and warned about. Their files will simply be planned again.

        More than ``COMPACT_AFTER_PARTS`` parts are then merged into one, so that a run
        continued over many calls does not read a growing number of files in each.
        """
        frames: list[pl.DataFrame] = []
        read: list[Path] = []
        problems: list[dict[str, Any]] = []
        highest = -1
        for path in sorted(self.parts_dir.glob("part-*.parquet")):
            match = _PART.match(path.name)
            if match is None or match["run"] != run_id:
                continue
            highest = max(highest, int(match["n"]))
            try:
                frame = pl.read_parquet(path)
                _check_schema(frame)
                # parts of earlier versions hold text where the enum columns are now
                frame = conform(frame, OUTCOMES)
            except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
                problems.append(self._move_aside(path, _first_line(exc)))
                continue
            frames.append(frame)
            read.append(path)
        outcomes = pl.concat(frames) if frames else pl.DataFrame(schema=OUTCOMES)
        # a file may appear in several parts (retried in a later call): keep the latest row
        outcomes = outcomes.unique("doc_id", keep="last", maintain_order=True)
        if len(read) > COMPACT_AFTER_PARTS:
            highest += 1
            self._compact(run_id, highest, outcomes, read)
        return LoadedCheckpoint(outcomes, problems, highest + 1)

    def parts_of(self, run_id: str, since: int = 0) -> list[Path]:
        """The parts of ``run_id`` on disk (numbered ``since`` or above), in the order of
        their numbers."""
        return [
            path
            for path in sorted(self.parts_dir.glob("part-*.parquet"))
            if (match := _PART.match(path.name)) is not None
            and match["run"] == run_id
            and int(match["n"]) >= since
        ]

    def signature(self, run_id: str) -> tuple[tuple[str, int, int], ...]:
        """The names, sizes and modification times of ``run_id``'s parts: what a call that
        knows their rows checks before it skips reading them again."""
        found = []
        for path in self.parts_of(run_id):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def read_parts(self, parts: list[Path]) -> pl.DataFrame:
        """The latest row of each file in ``parts`` (written by this process, so trusted)."""
        if not parts:
            return pl.DataFrame(schema=OUTCOMES)
        rows = pl.concat([conform(pl.read_parquet(path), OUTCOMES) for path in parts])
        return rows.unique("doc_id", keep="last", maintain_order=True)

    def compact_known(self, run_id: str, outcomes: pl.DataFrame) -> int:
        """Merge ``run_id``'s parts into one holding ``outcomes`` (their latest rows, known
        without reading them) when there are more than ``COMPACT_AFTER_PARTS``. Returns the
        number of the next part."""
        parts = self.parts_of(run_id)
        highest = max((int(m["n"]) for p in parts if (m := _PART.match(p.name))), default=-1)
        if len(parts) > COMPACT_AFTER_PARTS:
            highest += 1
            self._compact(run_id, highest, outcomes, parts)
        return highest + 1

    def _compact(self, run_id: str, number: int, outcomes: pl.DataFrame, parts: list[Path]) -> None:
        """Replace ``parts`` by one part ``number`` holding their latest rows. The merged part
        is in place before any old one goes, and rows repeated after a crash in between
        are the same rows (the latest, in the highest part, are the ones kept). Merging is
        only an economy: when the merged part cannot be written, the parts stay as they are."""
        try:
            self.write_part(run_id, number, outcomes)
        except (OSError, pl.exceptions.PolarsError) as exc:
            log.warning("could not merge %d checkpoint parts (%s); keeping them", len(parts), exc)
            return
        for path in parts:
            path.unlink(missing_ok=True)

    def clear_parts(self) -> None:
        """Remove every part (a new run starts)."""
        for path in self.parts_dir.glob("part-*.parquet"):
            path.unlink(missing_ok=True)

    def _move_aside(self, path: Path, reason: str) -> dict[str, Any]:
        self.corrupt_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        backup = self.corrupt_dir / f"{path.name}.{stamp}.bak"
        shutil.move(str(path), backup)
        message = f"checkpoint file {path.name} could not be read ({reason}); moved to {backup}"
        warnings.warn(message, CheckpointWarning, stacklevel=3)
        return {
            "type": "CheckpointCorrupt",
            "path": str(path),
            "message": message,
            "category": "checkpoint",
            "backup": str(backup),
        }


RUN_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_MANIFEST_TYPES: dict[str, type | tuple[type, ...]] = {
    "root": str,
    "source": str,
    "state": str,
    "recursive": bool,
    "force": bool,
    "patterns": list,
    "calls": int,
    "calls_s": (int, float),
    "calls_files": int,
    "uncompacted_passages": int,
}


def manifest_problem(data: dict[str, Any]) -> str | None:
    """Why a run manifest read back from disk cannot be trusted, or None.

    >>> manifest_problem({"run_id": "../../x"})
    "run_id '../../x' is not an id (letters, digits, '_' and '-')"
    """
    run_id = data.get("run_id")
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        return f"run_id {run_id!r} is not an id (letters, digits, '_' and '-')"
    for key, kind in _MANIFEST_TYPES.items():
        if key in data and not isinstance(data[key], kind):
            return f"{key} is {type(data[key]).__name__}, expected {getattr(kind, '__name__', kind)}"
    if not all(isinstance(p, str) for p in data.get("patterns", [])):
        return "patterns are not all text"
    return None


def _check_schema(frame: pl.DataFrame) -> None:
    missing = [name for name in ("doc_id", "status", "size", "mtime_ns") if name not in frame.columns]
    if missing:
        raise ValueError(f"wrong schema: missing columns {missing}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def load_legacy_progress(path: str | os.PathLike[str]) -> tuple[set[str], str | None]:
    """Completed paths from a legacy JSON progress file (a JSON list of paths).

    A file cut off mid-write still yields every complete string before the cut.
    Returns the paths and a problem description (None when the JSON was whole).
    """
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        recovered = {json.loads(f'"{m}"') for m in _QUOTED.findall(raw)}
        return (
            recovered,
            f"progress file is not valid JSON ({exc}); recovered {len(recovered)} paths",
        )
    if isinstance(data, dict):
        data = data.get("completed_files") or data.get("completed") or []
    if not isinstance(data, list):
        return set(), "progress file is not a JSON list of paths"
    return {str(p) for p in data if isinstance(p, str)}, None


def legacy_problems(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The checkpoint problem a legacy progress file makes for the error report (none when
    it reads whole); a damaged file is backed up first."""
    problem: dict[str, Any] = {"type": "LegacyProgress", "category": "checkpoint", "path": str(path)}
    try:
        paths, damage = load_legacy_progress(path)
    except OSError as exc:
        return [{**problem, "message": f"cannot read progress file: {exc}"}]
    if damage is None:
        return []
    backup = back_up(path)
    return [{**problem, "message": f"{damage}; backed up to {backup}", "recovered": len(paths)}]


def back_up(path: str | os.PathLike[str]) -> Path:
    """A dated copy of a damaged file, next to it."""
    backup = Path(f"{path}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}.bak")
    backup.write_bytes(Path(path).read_bytes())
    return backup
