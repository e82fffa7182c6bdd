"""What each ``docbatch`` subcommand does, once its arguments are parsed: one function
per subcommand, returning the exit code."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.cli.parser import EXIT_FAILED_FILES, EXIT_INTERRUPTED, EXIT_OK
from docbatch.config import FORMAT_NAMES, BatchConfig
from docbatch.errors import (
    ConfigError,
    StateError,
    check_root,
)
from docbatch.plan.selection import parse_patterns
from docbatch.store.query import MARKERS

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(value: object) -> str:
    r"""``value`` as text safe for a terminal: control characters (ANSI escapes, carriage
    returns, bells) from file names and documents are written as escapes.

    >>> shown("red\x1b[31m.md")
    'red\\x1b[31m.md'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))


def marked(snippet: str, *, bold: bool) -> str:
    r"""A snippet for the terminal: the matches (within ``MARKERS``) in bold when ``bold``.

    >>> marked("a «b» c", bold=True)
    'a \x1b[1mb\x1b[22m c'
    """
    if not bold:
        return snippet
    return snippet.replace(MARKERS[0], "\x1b[1m").replace(MARKERS[1], "\x1b[22m")


def format_map(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``--format EXT=FORMAT`` values as the ``format_map`` setting.

    >>> format_map([".txt=rst", "inc = rst"])
    (('.txt', 'rst'), ('inc', 'rst'))
    """
    pairs = []
    for value in values:
        extension, equals, fmt = value.partition("=")
        if not equals:
            allowed = "EXT=FORMAT such as .txt=rst, FORMAT one of " + ", ".join(FORMAT_NAMES)
            raise ConfigError.invalid("--format (format_map)", value, allowed)
        pairs.append((extension.strip(), fmt.strip()))
    return tuple(pairs)


def ingest(args: argparse.Namespace) -> int:
    from docbatch.service import BatchIngestService

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s docbatch %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    cfg = BatchConfig.from_environment()
    if args.max_file_size is not None:
        cfg.max_file_size = args.max_file_size
    if args.chunk_size is not None:
        cfg.chunk_processing_size = args.chunk_size
    if args.rst_engine is not None:
        cfg.rst_engine = args.rst_engine
    if args.html_content_selector:
        cfg.html_content_selectors = tuple(args.html_content_selector)
    if args.html_drop_selector:
        cfg.html_drop_selectors = tuple(args.html_drop_selector)
    if args.format:
        cfg.format_map = format_map(args.format)
    _check_tree(args.directory, args.pattern)  # before the store and the state folder are made
    with BatchIngestService(args.db, config=cfg, state_dir=args.state_dir) as service:
        result = service.ingest_batch(
            args.directory,
            args.pattern,
            args.recursive,
            args.force,
            args.resume,
            source=args.source,
            executor=args.executor,
            workers=args.workers,
            progress=None if args.quiet or args.json else "auto",
            fallback_encoding=args.fallback_encoding,
            report_dir=args.report_dir,
            sync_deletions=args.delete_missing,
            since=args.since,
            allow_mass_delete=args.allow_mass_delete,
            limit=args.limit,
            include_hidden=args.include_hidden,
            exclude=args.exclude,
        )
    if args.json:
        print(json.dumps(result.as_dict(), default=str))
    else:
        print(result.summary())
    if result.pending and not result.interrupted:
        print(
            f"docbatch: {result.pending} files pending (--limit {args.limit}); run the same command "
            "again to continue",
            file=sys.stderr,
        )
    if result.interrupted:
        print("docbatch: stopped; run the same command again to resume", file=sys.stderr)
        signum = service.stop_signal
        return 128 + signum if signum is not None and signum != signal.SIGINT else EXIT_INTERRUPTED
    return EXIT_FAILED_FILES if args.fail_on_error and result.failed else EXIT_OK


def plan(args: argparse.Namespace) -> int:
    from docbatch.service import BatchIngestService

    cfg = BatchConfig.from_environment()
    if args.max_file_size is not None:
        cfg.max_file_size = args.max_file_size
    _check_tree(args.directory, args.pattern)
    with BatchIngestService(args.db, config=cfg, state_dir=args.state_dir) as service:
        planned = service.plan(
            args.directory,
            args.pattern,
            args.recursive,
            source=args.source,
            force=args.force,
            include_hidden=args.include_hidden,
            exclude=args.exclude,
        )
    rows = planned.select("doc_id", "format", "size", "status", "reason")
    if args.json:
        print(json.dumps(rows.to_dicts()))
        return EXIT_OK
    counts = planned.group_by("status").len().sort("status")
    print(", ".join(f"{status} {n}" for status, n in counts.iter_rows()))
    for row in rows.filter(pl.col("status") != "unchanged").head(50).iter_rows(named=True):
        reason = f"  ({shown(row['reason'])})" if row["reason"] else ""
        print(f"  {row['status']:<9} {shown(row['doc_id'])}{reason}")
    return EXIT_OK


def _check_tree(directory: Path, pattern: str | None) -> None:
    """Refuse a missing directory or an unusable pattern before anything is created."""
    check_root(directory)
    if pattern is not None:
        parse_patterns(pattern)


def verify(args: argparse.Namespace) -> int:
    from docbatch.service import BatchIngestService

    cfg = BatchConfig.from_environment()
    if args.directory is not None:
        _check_tree(args.directory, args.pattern)
    with BatchIngestService(args.db, config=cfg, state_dir=args.state_dir) as service:
        problems = service.verify(
            args.directory,
            args.pattern,
            source=args.source,
            repair=args.repair,
            include_hidden=args.include_hidden,
            exclude=args.exclude,
            allow_mass_delete=args.allow_mass_delete,
            deep=args.deep,
        )
    if args.json:
        print(json.dumps({"problems": problems.to_dicts(), "repaired": args.repair}))
    elif problems.height == 0:
        checked = "" if args.deep or args.repair else " (--deep also reads every file and checks the index)"
        print(f"the store, the disk and the last run agree{checked}")
    else:
        for row in problems.iter_rows(named=True):
            print(f"  {row['kind']:<17} {shown(row['doc_id'] or '-')}  ({shown(row['detail'])})")
        print(f"{problems.height} problems" + (": repaired" if args.repair else "; --repair mends them"))
    return EXIT_OK if problems.height == 0 or args.repair else EXIT_FAILED_FILES


def search(args: argparse.Namespace) -> int:
    from docbatch.store import open_store

    if "://" not in args.db and not Path(args.db).exists():
        raise ConfigError(f"no store at {args.db}: ingest a directory first (docbatch ingest-docs-batch DIR)")
    store = open_store(args.db)
    try:
        hits = store.search(
            args.query,
            limit=args.limit,
            source=args.source,
            group_by_document=not args.all_passages,
            format=[f.strip() for value in args.format or () for f in value.split(",") if f.strip()] or None,
            path=args.path,
            heading=args.heading,
            modified_since=args.modified_since,
            git_since=args.git_since,
            git_until=args.git_until,
            git_author=args.git_author,
        )
    finally:
        store.close()
    if args.json:
        print(json.dumps(hits.to_dicts(), default=str))
        return EXIT_OK
    if hits.height == 0:
        print(f"no matches for {args.query!r}")
    for rank, hit in enumerate(hits.iter_rows(named=True), 1):
        where = f" > {shown(hit['heading_path'])}" if hit["heading_path"] else ""
        print(f"{rank:2}. {shown(hit['doc_id'])}{where}  (score {hit['score']:.2f})")
        print(f"    {marked(shown(' '.join(hit['snippet'].split())), bold=sys.stdout.isatty())}")
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
    from docbatch.state import reports
    from docbatch.store.location import state_dir_for

    folder = Path(args.state_dir) if args.state_dir else state_dir_for(args.db)
    if args.run:
        state, folder = folder, _run_folder(folder, args.run)
        if not folder.is_dir():
            raise ConfigError(f"no run {args.run} in {state}: docbatch runs lists the runs kept")
    performance_path, errors_path = folder / reports.PERFORMANCE_JSON, folder / reports.ERRORS_JSON
    if not performance_path.exists() and not errors_path.exists():
        raise ConfigError(f"no reports in {folder}: run docbatch ingest-docs-batch first")
    performance, errors = _report_part(performance_path), _report_part(errors_path)
    if not performance and not errors:
        raise StateError(f"no report in {folder} can be read: run the ingest again to write them anew")
    if args.plots:
        from docbatch.display.plots import write_plots

        for path in write_plots(folder, args.plots).values():
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({"performance": performance, "errors": errors}))
        return EXIT_OK
    if performance:
        p = performance
        run_id, run_state, source = (shown(p.get(key, "?")) for key in ("run_id", "state", "source"))
        print(f"run {run_id} ({run_state}), source {source}")
        print(
            f"  {p.get('processed', '?')}/{p.get('total_files', '?')} files: succeeded "
            f"{p.get('succeeded', '?')}, failed {p.get('failed', '?')}, skipped {p.get('skipped', '?')}"
        )
        if isinstance(p.get("files_per_second"), int | float) and isinstance(
            p.get("peak_memory_mb"), int | float
        ):
            print(f"  {p['files_per_second']:.1f} files/s, peak memory {p['peak_memory_mb']:.0f} MB")
    summary = errors.get("error_summary")
    for category, count in summary.items() if isinstance(summary, dict) else ():
        print(f"  {shown(category)}: {count}")
    listed = errors.get("errors")
    for error in (listed if isinstance(listed, list) else [])[:10]:
        if isinstance(error, dict):
            print(f"    {shown(error.get('path', '?'))}: {shown(error.get('message', ''))}")
    return EXIT_OK


def _report_part(path: Path) -> dict[str, Any]:
    """One report file's JSON object; a missing or damaged one is named on stderr (empty)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"docbatch: {path} is missing", file=sys.stderr)
        return {}
    except (OSError, ValueError) as exc:
        print(f"docbatch: {path} cannot be read ({shown(exc)}); showing the rest", file=sys.stderr)
        return {}
    if not isinstance(data, dict):
        print(f"docbatch: {path} is not a report (a JSON object); showing the rest", file=sys.stderr)
        return {}
    return data


def _run_folder(state_dir: Path, run_id: str) -> Path:
    from docbatch.state import reports

    try:
        return reports.run_folder(state_dir, run_id)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def runs(args: argparse.Namespace) -> int:
    from docbatch.state import reports
    from docbatch.store.location import state_dir_for

    folder = Path(args.state_dir) if args.state_dir else state_dir_for(args.db)
    runs = reports.list_runs(folder)
    if args.json:
        print(json.dumps(runs, default=str))
        return EXIT_OK
    if not runs:
        print(f"no runs kept in {folder}")
        return EXIT_OK
    print(
        f"{'run':<24} {'started':<25} {'seconds':>8} {'files':>6} {'ok':>6} {'failed':>6} "
        f"{'skipped':>7} {'pending':>7} {'files/s':>8}  source"
    )
    for run in runs:
        print(
            f"{run['run_id']:<24} {run.get('started_at') or '?':<25} {run.get('elapsed_s') or 0:>8.1f} "
            f"{run.get('total_files', '?'):>6} {run.get('succeeded', '?'):>6} {run.get('failed', '?'):>6} "
            f"{run.get('skipped', '?'):>7} {run.get('pending', '?'):>7} "
            f"{run.get('files_per_second') or 0:>8.1f}  {run.get('source', '?')}"
        )
    return EXIT_OK


def sources(args: argparse.Namespace) -> int:
    from docbatch.service import BatchIngestService

    wanted = {"list": 0, "rename": 2, "drop": 1}[args.action]
    if len(args.names) != wanted:
        usage = {"list": "sources [list]", "rename": "sources rename OLD NEW", "drop": "sources drop NAME"}
        raise ConfigError(f"expected: docbatch {usage[args.action]}")
    if "://" not in args.db and not Path(args.db.removeprefix("sqlite:///")).exists():
        raise ConfigError(f"no store at {args.db}: ingest a directory first (docbatch ingest-docs-batch DIR)")
    with BatchIngestService(args.db, state_dir=args.state_dir) as service:
        listed = service.sources()
        if args.action == "rename":
            old, new = args.names
            moved = service.rename_source(old, new)
            print(f"source {old!r} is now {new!r} ({moved} documents)")
            return EXIT_OK
        if args.action == "drop":
            (name,) = args.names
            found = listed.filter(pl.col("name") == name)
            if found.height and not args.yes:
                raise ConfigError(
                    f"refusing to drop source {name!r} ({found['documents'][0]} documents) without --yes; "
                    "nothing was removed"
                )
            removed = service.drop_source(name)
            print(f"dropped source {name!r} ({removed} documents)")
            return EXIT_OK
    rows = listed.with_columns(pl.col("last_ingest").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    if args.json:
        print(json.dumps(rows.to_dicts()))
        return EXIT_OK
    if rows.height == 0:
        print(f"no sources in {service.backend.location}")
        return EXIT_OK
    width = max(6, *(len(name) for name in rows["name"]))
    print(f"{'source':<{width}} {'documents':>9}  {'last ingest':<25}  root")
    for name, root, documents, last in rows.iter_rows():
        print(f"{shown(name):<{width}} {documents:>9}  {last or '?':<25}  {shown(root or '(not recorded)')}")
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    from docbatch.export import EXPORT_SCHEMA, EXPORT_SCHEMA_VERSION, export_passages
    from docbatch.store import open_store
    from docbatch.store.location import state_dir_for

    if "://" not in args.db and not Path(args.db).exists():
        raise ConfigError(f"no store at {args.db}: ingest a directory first (docbatch ingest-docs-batch DIR)")
    state_dir = Path(args.state_dir) if args.state_dir else state_dir_for(args.db)
    store = open_store(args.db)
    try:
        summary = export_passages(
            store, args.out, format=args.format, source=args.source, since_run=args.since, state_dir=state_dir
        )
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary.to_dict()))
        return EXIT_OK
    print(f"wrote {summary.passages} passages to {shown(summary.path)}")
    print(f"  schema {EXPORT_SCHEMA} version {EXPORT_SCHEMA_VERSION} in {shown(summary.schema_path)}")
    if summary.removed_path is not None:
        print(f"wrote {summary.removed} removed passage ids to {shown(summary.removed_path)}")
    return EXIT_OK


def sample(args: argparse.Namespace) -> int:
    from docbatch import sample

    try:
        root = sample.write_sample_tree(args.destination, overwrite=args.overwrite)
    except FileExistsError as exc:
        raise ConfigError(str(exc)) from None
    print(f"wrote {len(sample.sample_files())} files to {root}")
    return EXIT_OK
