"""The first step of preparing a call: the tree walked into inventory parts (or the files
git reports as changed), the source's site template found, and the tree planned while it
is walked (``run.plan_parts``) when the call's fingerprints can be guessed beforehand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from docbatch.config import BatchConfig
from docbatch.errors import ConfigError
from docbatch.formats.html import HtmlOptions
from docbatch.plan.git import GitRepo
from docbatch.plan.inventory import scan_listed
from docbatch.plan.inventory_parts import InventoryParts, scan_parts
from docbatch.run.kept import RunInventory
from docbatch.run.plan_parts import PartPlanner, PlanningWhileWalking
from docbatch.run.request import IngestRequest
from docbatch.run.templates import last_options, source_options, with_template
from docbatch.state.plan_rows import PlanRows

Planner = Callable[[dict[str, str], set[str] | None], PartPlanner]
"""The call's planner for some fingerprints and, with ``since``, the doc ids git listed."""
Scope = tuple[tuple[str, ...], tuple[str, ...], bool]
"""The call's patterns, exclusions and whether hidden files count."""


@dataclass(frozen=True)
class Walked:
    """What the walk of one call found."""

    inventory: InventoryParts
    listed: set[str] | None
    """With ``since``: the doc ids git reports as changed (planning looks at those only)."""
    unmatched: list[str]
    """Warnings about patterns that match no file."""
    html: HtmlOptions | None
    """The built-in HTML parser's options with the source's site template."""
    fingerprints: dict[str, str]
    """The call's parser fingerprints, the template named in the HTML one."""
    planned: tuple[PlanRows, int] | None
    """The plan made while walking, when the call's fingerprints proved the guessed ones."""


def walk(
    request: IngestRequest,
    config: BatchConfig,
    state_dir: Path,
    folder: Path,
    planner: Planner,
    *,
    source: str,
    scope: Scope,
    fingerprints: dict[str, str],
    repo: GitRepo | None,
    kept: RunInventory | None,
    inventory: InventoryParts | None,
    html: HtmlOptions | None,
) -> Walked:
    """Walk the call's tree into ``folder`` (unless ``inventory``, kept from the run's
    earlier call, is given) and find the site template (kept in ``kept`` too). A walk of
    the whole tree is planned as it goes, with the template the source's last call kept:
    most likely this one's."""
    ahead = None
    if inventory is None and request.since is None:
        guessed = fingerprints
        if html is not None:
            guessed = with_template(fingerprints, last_options(state_dir, source, html))
        ahead = PlanningWhileWalking(planner(guessed, None))
    listed: set[str] | None = None
    unmatched: list[str] = []
    planned: tuple[PlanRows, int] | None = None
    try:
        if inventory is None:
            inventory, listed = take_inventory(
                request,
                config,
                scope,
                folder,
                repo=repo,
                unmatched=unmatched,
                on_part=ahead.part if ahead is not None else None,
            )
        if html is not None:
            found = kept.html(inventory, html) if kept is not None else None
            if found is None:
                found = source_options(inventory.lazy(), state_dir, source, html)
                if kept is not None:
                    kept.keep_html(inventory, html, found)
            html = found
            fingerprints = with_template(fingerprints, html)
        if ahead is not None and not inventory.resorted and fingerprints == ahead.planner.fingerprints:
            planned = ahead.result()
    finally:
        if ahead is not None:
            ahead.cancel()  # unless its plan was taken
    return Walked(inventory, listed, unmatched, html, fingerprints, planned)


def take_inventory(
    request: IngestRequest,
    config: BatchConfig,
    scope: Scope,
    folder: Path,
    *,
    repo: GitRepo | None,
    unmatched: list[str] | None = None,
    on_part: Callable[[pl.DataFrame], None] | None = None,
) -> tuple[InventoryParts, set[str] | None]:
    """The files to consider, written to ``folder`` in parts (``scan_parts``, which gives
    each part to ``on_part`` as the walk writes it), and — with ``since`` — the doc ids
    git reports as changed (planning then looks at those only, instead of the whole tree).
    Warnings about patterns that match no file are appended to ``unmatched``."""
    root, since = request.root, request.since
    patterns, exclude, include_hidden = scope
    leave_out = repo.ignored_filter() if repo is not None and request.respect_gitignore else None
    if since is None:
        inventory = scan_parts(
            root,
            folder,
            patterns,
            recursive=request.recursive,
            max_file_size=config.max_file_size,
            exclude=exclude,
            include_hidden=include_hidden,
            unmatched=unmatched,
            format_map=config.format_map,
            leave_out=leave_out,
            on_part=on_part,
        )
        return inventory, None
    if repo is None:
        raise ConfigError(f"since={since!r} needs {root} to be inside a git work tree")
    changes = repo.changes_since(since)
    listed = set(changes["doc_id"])
    changed = changes.filter(pl.col("change") != "deleted")["doc_id"].to_list()
    frame = scan_listed(
        root,
        changed,
        patterns,
        recursive=request.recursive,
        max_file_size=config.max_file_size,
        exclude=exclude,
        include_hidden=include_hidden,
        format_map=config.format_map,
    )
    if leave_out is not None and frame.height:
        ignored = leave_out(frame["doc_id"].to_list())
        if ignored:
            frame = frame.filter(~pl.col("doc_id").is_in(list(ignored)))
    return InventoryParts.write(frame, folder), listed
