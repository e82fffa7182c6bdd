"""Compare the store with the disk and the checkpoint ledger, and find where they drift.

Kinds of problem (``docbatch.frames.PROBLEMS``):

* ``missing``: the ledger says the file was ingested (or unchanged), it is on disk, but
  the store has no document for it;
* ``extra``: the store has a document whose file is not on disk (within the scope);
* ``stale``: the stored content hash is not the hash of the file on disk, while size
  and mtime say nothing changed — so a normal run would skip it;
* ``orphaned_passages``, ``passage_count``, ``index``: the store's own bookkeeping (see
  ``DocumentStore.integrity``).

``missing`` and ``extra`` come from the walk, the store's document table and the ledger:
a check bounded by a stat walk and one pass over the table. ``stale`` and the store's
bookkeeping need every file read and hashed and the whole store read (at a million files,
minutes instead of seconds): they are the ``deep`` check, which a repair always makes.

The walk is written in parts to a temporary folder (``scan_parts``), and each part is
compared with the stored documents and the ledger rows of its range of doc ids alone
(``find_problems``): the inventory, the store's documents and the ledger are never held
whole, only the problems found (at a million files, reading them whole held 870 MB).

A repair removes documents, so it is held to what ``ingest --delete-missing`` is held to:
the same scope, the same share (``check_delete_share``), and the folder a source was
ingested from (``check_repair_root``, on the record ``docbatch.state.sources`` keeps).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from docbatch.config import BatchConfig
from docbatch.errors import ConfigError, MassDeleteError
from docbatch.frames import INVENTORY, PROBLEMS
from docbatch.plan.hashing import file_sha256
from docbatch.plan.inventory import check_source, default_source
from docbatch.plan.inventory_parts import InventoryParts, scan_parts
from docbatch.plan.planning import scoped_ids
from docbatch.plan.selection import DEFAULT_PATTERN, parse_excludes, parse_patterns, selection
from docbatch.state import reports
from docbatch.state.checkpoint import Checkpoint
from docbatch.state.lock import writer_lock
from docbatch.state.sources import recorded_root
from docbatch.store.base import DocumentStore, known_reader

log = logging.getLogger("docbatch")


@dataclass(frozen=True)
class Findings:
    """What ``find_problems`` found."""

    problems: pl.DataFrame
    """The problems (``docbatch.frames.PROBLEMS``), sorted by kind and doc_id."""
    stored: int | None
    """With ``count_stored``, how many stored documents of the source the walk covers: the
    denominator of the share a repair may delete, as for ``--delete-missing``."""


def find_problems(
    store: DocumentStore,
    source: str,
    inventory: InventoryParts,
    ledger: pl.LazyFrame | None,
    *,
    patterns: tuple[str, ...],
    recursive: bool = True,
    exclude: tuple[str, ...] = (),
    include_hidden: bool = False,
    deep: bool = False,
    count_stored: bool = False,
) -> Findings:
    """Every problem of ``source``: ``inventory`` is the walk of its root with ``patterns``
    (valid files only are compared), ``ledger`` the outcome rows of its last run (None if
    there is none); without ``deep``, ``missing`` and ``extra`` only (see the module).
    Stored documents outside the scope are left alone: the scope is the one deletion uses
    (``docbatch.plan.planning.scoped_ids``).

    The inventory is compared a part at a time, each with the stored documents and the
    ledger rows of its range of doc ids alone, as planning does (``docbatch.run.plan_parts``):
    only the problems are kept."""
    rules = selection(patterns, exclude, include_hidden, recursive)
    read = known_reader(store, source)
    done = None
    if ledger is not None:
        # skipped rows count when the file was stored (unchanged), not when it was never
        # taken (hidden, a folder symlink)
        stored_before = (pl.col("status") == "skipped") & pl.col("content_hash").is_not_null()
        done = ledger.filter((pl.col("status") == "succeeded") | stored_before).select("doc_id")
    extra: list[str] = []
    missing: list[str] = []
    stale: list[str] = []
    stored = 0
    unseen: list[str] = []  # the folders not looked into, so far (each sorts before its files)
    for part, after, upto in _ranges(inventory):
        known = read(after, upto)
        unseen.extend(part.filter(pl.col("doc_id").str.ends_with("/"))["doc_id"])
        on_disk = part.filter(~pl.col("status").is_in(["invalid", "skipped"]))
        # a stored document whose file the walk took is in scope; the others are looked at one by one
        others = known.join(on_disk.select("doc_id"), on="doc_id", how="anti")
        extra.extend(scoped_ids(others["doc_id"], part, rules, tuple(unseen)))
        if done is not None:
            range_done = done.filter(_between(after, upto)).collect()
            gone = range_done.join(on_disk.select("doc_id"), on="doc_id", how="semi").join(
                known.select("doc_id"), on="doc_id", how="anti"
            )
            missing.extend(gone["doc_id"])
        if deep:
            both = on_disk.join(known.select("doc_id", "content_hash"), on="doc_id", how="inner")
            stale.extend(
                doc_id
                for doc_id, path, content_hash in both.select("doc_id", "path", "content_hash").iter_rows()
                if file_sha256(path) not in (content_hash, None)
            )
        if count_stored:
            stored += len(scoped_ids(known["doc_id"], part, rules, tuple(unseen)))
    frames = [store.integrity(source) if deep else pl.DataFrame(schema=PROBLEMS)]
    frames.append(_rows(extra, "extra", "stored, but the file is not on disk"))
    if done is not None:
        frames.append(_rows(missing, "missing", "the last run ingested it; the store lacks it"))
    if deep:
        frames.append(_rows(stale, "stale", "stored content differs from the file"))
    problems = pl.concat(frames).sort("kind", "doc_id", nulls_last=True)
    return Findings(problems, stored if count_stored else None)


def _ranges(inventory: InventoryParts) -> Iterator[tuple[pl.DataFrame, str | None, str | None]]:
    """Each part of ``inventory`` with its range of doc ids: above ``after`` (the previous
    part's last one) and at most ``upto`` (its own last one; None for the first and the
    last part, which take what sorts before or after the walk's files as well)."""
    if not inventory.files:
        yield pl.DataFrame(schema=INVENTORY), None, None
        return
    after: str | None = None
    last = len(inventory.files) - 1
    for number, part in enumerate(inventory.parts()):
        upto = None if number == last else part["doc_id"][-1]
        yield part, after, upto
        after = upto


def _between(after: str | None, upto: str | None) -> pl.Expr:
    bounds = [pl.lit(True)]
    if after is not None:
        bounds.append(pl.col("doc_id") > after)
    if upto is not None:
        bounds.append(pl.col("doc_id") <= upto)
    return pl.all_horizontal(bounds)


def check_delete_share(count: int, stored: int, source: str, max_share: float, allow: bool) -> None:
    """Refuse to remove ``count`` of the ``stored`` documents of ``source`` when that is more
    than ``max_share`` of them, unless ``allow`` (``--allow-mass-delete``).

    Raises:
        MassDeleteError: too many would go; the caller has deleted nothing yet.
    """
    if count == 0:
        return
    share = count / max(1, stored)
    if share > max_share and not allow:
        raise MassDeleteError(
            f"refusing to delete {count} of {stored} stored documents of "
            f"source {source!r} ({share:.0%}, over max_delete_share={max_share:.0%}); nothing "
            "was deleted. If the files really are gone, allow it with allow_mass_delete=True "
            "(--allow-mass-delete)"
        )


def check_repair_root(store: DocumentStore, source: str, root: Path, *, explicit: bool) -> None:
    """Refuse to repair ``source`` from a folder that is not the one it was ingested from,
    unless the source was named (``explicit``). A source whose root is not recorded (a
    store older than the record) passes: the mass-delete guard still holds.

    Raises:
        ConfigError: ``root`` is another folder; nothing has been changed.
    """
    recorded = recorded_root(store, source)
    here = os.path.realpath(root)
    if recorded is None or explicit or recorded == here:
        return
    raise ConfigError(
        f"refusing to repair source {source!r} from {here}: it was ingested from {recorded}; "
        "nothing was changed. Another folder is another source (ingest it with --source NAME), "
        f"or give --source {source} to repair {source!r} from this folder"
    )


def verify_source(
    store: DocumentStore,
    config: BatchConfig,
    state_dir: Path,
    *,
    directory: str | os.PathLike[str] | None,
    pattern: str | None,
    recursive: bool | None,
    source: str | None,
    repair: bool,
    include_hidden: bool | None,
    exclude: str | list[str] | tuple[str, ...] | None,
    allow_mass_delete: bool,
    reingest: Callable[..., object],
    deep: bool = False,
) -> pl.DataFrame:
    """``BatchIngestService.verify`` (see there): the problems found (the ``deep`` check
    with ``repair``), after mending them with ``repair`` (``reingest`` is the service's
    ``ingest_batch``)."""
    deep = deep or repair
    named = source is not None
    manifest = Checkpoint(state_dir).read_run() or {}
    if directory is None and "root" not in manifest:
        raise ConfigError(f"no earlier run in {state_dir}: give the directory to verify")
    root = Path(directory if directory is not None else manifest["root"])
    patterns = parse_patterns(pattern if pattern is not None else manifest.get("patterns", DEFAULT_PATTERN))
    recursive = recursive if recursive is not None else bool(manifest.get("recursive", True))
    hidden = include_hidden if include_hidden is not None else bool(manifest.get("include_hidden"))
    excludes = parse_excludes(exclude if exclude is not None else manifest.get("exclude"))
    source = check_source(
        source or (manifest.get("source") if directory is None else None) or default_source(root)
    )
    if repair:
        check_repair_root(store, source, root, explicit=named)
    # held while comparing: during a run the store lags the disk by every file not yet
    # committed, and verify would report those (or, with repair, undo the run's work)
    with (
        writer_lock(state_dir, store, source),
        tempfile.TemporaryDirectory(prefix="docbatch-verify-") as folder,
    ):
        inventory = scan_parts(
            root,
            Path(folder),
            patterns,
            recursive=recursive,
            max_file_size=config.max_file_size,
            exclude=excludes,
            include_hidden=hidden,
            format_map=config.format_map,
        )
        findings = find_problems(
            store,
            source,
            inventory,
            reports.latest_outcomes(state_dir, source),
            patterns=patterns,
            recursive=recursive,
            exclude=excludes,
            include_hidden=hidden,
            deep=deep,
            count_stored=repair,
        )
        problems = findings.problems
        if repair and problems.height:
            extra = problems.filter(pl.col("kind") == "extra").height
            stored = findings.stored or 0
            check_delete_share(extra, stored, source, config.max_delete_share, allow_mass_delete)
            store.repair_integrity(source)
            redo = problems.filter(pl.col("kind").is_in(["extra", "stale", "passage_count"]))
            ids = redo["doc_id"].drop_nulls().unique().to_list()
            if ids:
                store.delete_documents(source, ids)
    if repair and problems.height:
        reingest(
            root,
            ",".join(patterns),
            recursive,
            resume=False,
            source=source,
            include_hidden=hidden,
            exclude=excludes,
        )
    return problems


def _rows(doc_ids: list[str], kind: str, detail: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc_id": pl.Series(doc_ids, dtype=pl.Utf8),
            "kind": [kind] * len(doc_ids),
            "detail": [detail] * len(doc_ids),
        },
        schema=PROBLEMS,
    )
