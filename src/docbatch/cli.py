"""The ``docbatch`` command line. Its subcommands (``docbatch COMMAND --help`` for each):

- ``ingest-docs-batch`` (alias ``ingest``): ingest a directory into the store, resumably;
- ``plan``: what an ingest would do (new, changed, unchanged, deleted files), doing nothing;
- ``verify``: compare the store with the disk and the last run (``--repair`` to fix);
- ``search``: search the store;
- ``report``: summarise a run from its reports (``--plots`` to draw them);
- ``runs``: list the runs the state folder keeps, newest first;
- ``sources``: list, rename or drop the sources (ingested trees) of the store;
- ``sample``: write the sample documentation tree.

Exit codes: 0 done (even when some files failed, unless ``--fail-on-error``),
1 some files failed and ``--fail-on-error`` was given, 2 bad usage (directory,
pattern, option or setting), 3 the store or state could not be used,
130 interrupted by Ctrl-C, 143 (129) stopped by SIGTERM (SIGHUP) after the current commit
(the checkpoint and reports are kept: run the same command to resume), 141 the reader of
the output went away (``| head``: the command stops without a word, as others do).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import select
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import polars as pl

from docbatch import __version__
from docbatch.config import SIZE_ALLOWED, BatchConfig, parse_size
from docbatch.errors import (
    ConfigError,
    DocbatchError,
    MissingExtraError,
    QueryError,
    RootError,
    StateError,
    StoreError,
    check_root,
)
from docbatch.plan.inventory import DEFAULT_PATTERN, parse_patterns
from docbatch.run.execution import EXECUTOR_CHOICES, check_dask_url

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_STORE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: the reader of the output went away (``| head``); nothing is printed."""


_DB_HELP = (
    "the store: a SQLite file path or a postgresql://user:password@host/dbname URL (default ./docbatch.db)"
)
_STATE_HELP = (
    "the state folder: checkpoints, writer lock and reports (default: next to a SQLite store, "
    "STORE.state; ./docbatch.state for PostgreSQL)"
)
_SIZE_HELP = "bytes, or a number with KB, MB or GB (200KB, 10MB, 1.5MB); default BATCH_MAX_FILE_SIZE or 50MB"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _size(text: str) -> int:
    try:
        return parse_size(text, "--max-file-size")
    except ConfigError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected {SIZE_ALLOWED}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected a whole number >= 1")
    return value


def _executor(text: str) -> str:
    if text in EXECUTOR_CHOICES:
        return text
    if text.startswith("dask://"):
        try:
            return check_dask_url(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    allowed = ", ".join(EXECUTOR_CHOICES)
    raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected {allowed} or dask://HOST:PORT")


def _selection_options(parser: argparse.ArgumentParser, *, last_run: bool = False) -> None:
    """``--include-hidden`` and ``--exclude`` (for verify, absent means the last run's)."""
    parser.add_argument(
        "--include-hidden",
        action="store_true",
        default=None if last_run else False,
        help="take hidden files and folders (names starting with '.') too; by default each is "
        "a skipped row with reason 'hidden'" + (" (default: as the last run)" if last_run else ""),
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="leave out the files matching this gitignore-style glob, e.g. 'drafts/**' "
        "(repeatable)" + (" (default: the last run's)" if last_run else ""),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="docbatch", description="Batch-ingest documentation into a searchable store.")
    parser.add_argument("--version", action="version", version=f"docbatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = sub.add_parser("ingest-docs-batch", aliases=["ingest"], help="ingest a directory of documents")
    ingest.add_argument("directory", type=Path, help="the folder of documents to ingest")
    ingest.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        help=f"comma-separated gitignore-style globs: *.md at any depth, docs/*.rst only directly "
        f"in docs/, ** any depth, !GLOB leaves out (default {DEFAULT_PATTERN})",
    )
    ingest.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="walk subfolders (default on)",
    )
    ingest.add_argument("--force", action="store_true", help="re-ingest unchanged files too")
    ingest.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue an unfinished run of the same tree (default on)",
    )
    ingest.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    ingest.add_argument("--state-dir", help=_STATE_HELP)
    ingest.add_argument("--report-dir", help="a folder that also gets a copy of the reports")
    ingest.add_argument("--source", help="name of this tree in the store (default: folder name)")
    ingest.add_argument(
        "--max-file-size", type=_size, metavar="SIZE", help=f"reject larger files: {_SIZE_HELP}"
    )
    ingest.add_argument(
        "--chunk-size", type=_positive, help="files per slice, the files a worker parses together"
    )
    ingest.add_argument("--fallback-encoding", help="decode non-UTF-8 files with this codec")
    ingest.add_argument(
        "--executor",
        type=_executor,
        default="auto",
        metavar="{auto,serial,process,dask://HOST:PORT}",
        help="where files are parsed (default auto: worker processes for 200+ files; "
        "dask://HOST:PORT: the workers of that Dask scheduler)",
    )
    ingest.add_argument("--workers", type=_positive, help="worker processes for --executor process")
    ingest.add_argument(
        "--delete-missing",
        action="store_true",
        help="remove stored documents whose file is gone (within this root and pattern)",
    )
    ingest.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="let --delete-missing remove more than max_delete_share of the source",
    )
    ingest.add_argument("--since", metavar="REV", help="plan from git's changes since REV, no tree walk")
    _selection_options(ingest)
    ingest.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="process at most N files, leaving the rest pending for the next run of the same command",
    )
    ingest.add_argument("--rst-engine", choices=["fast", "docutils"], help="reStructuredText parser")
    ingest.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ingest.add_argument("--fail-on-error", action="store_true", help="exit 1 when any file failed")
    ingest.add_argument("--quiet", action="store_true", help="no progress output")

    plan = sub.add_parser("plan", help="show what an ingest would do, without doing it")
    plan.add_argument("directory", type=Path, help="the folder an ingest would read")
    plan.add_argument(
        "--pattern", default=DEFAULT_PATTERN, help=f"as for ingest-docs-batch (default {DEFAULT_PATTERN})"
    )
    plan.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="walk subfolders (default on)",
    )
    plan.add_argument(
        "--force", action="store_true", help="plan unchanged files as changed, as --force would"
    )
    plan.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    plan.add_argument("--state-dir", help=_STATE_HELP)
    plan.add_argument("--source", help="name of this tree in the store (default: folder name)")
    plan.add_argument(
        "--max-file-size", type=_size, metavar="SIZE", help=f"plan larger files as invalid: {_SIZE_HELP}"
    )
    plan.add_argument("--json", action="store_true", help="print a JSON array of the plan rows")
    _selection_options(plan)

    verify = sub.add_parser("verify", help="compare the store with the disk and the last run")
    verify.add_argument(
        "directory", type=Path, nargs="?", help="the folder to compare (default: the last run's root)"
    )
    verify.add_argument("--pattern", help="comma-separated globs (default: the last run's pattern)")
    verify.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    verify.add_argument("--state-dir", help=f"where the last run's ledger is: {_STATE_HELP}")
    verify.add_argument("--source", help="the tree to check (default: the last run's, or the folder name)")
    verify.add_argument(
        "--repair",
        action="store_true",
        help="mend the store and re-ingest what is needed (from the source's own folder, unless --source "
        "names it; refused when it would delete more than max_delete_share of the source)",
    )
    verify.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="let --repair remove more than max_delete_share of the source",
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the problems and whether they were repaired",
    )
    _selection_options(verify, last_run=True)

    search = sub.add_parser("search", help="search the store")
    search.add_argument(
        "query", help='words that must all match; "quoted phrases", OR, NOT and a trailing * are understood'
    )
    search.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    search.add_argument("--state-dir", help="accepted as by the other commands; search reads only the store")
    search.add_argument(
        "--limit", type=_positive, default=10, metavar="N", help="at most N hits (default 10)"
    )
    search.add_argument("--source", help="only the documents of this tree (default: every tree)")
    search.add_argument("--json", action="store_true", help="print a JSON array on stdout")

    report = sub.add_parser("report", help="summarise the last run from its reports")
    report.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    report.add_argument("--state-dir", help=_STATE_HELP)
    report.add_argument(
        "--run", metavar="ID", help="one of the runs kept (see docbatch runs; default: the last)"
    )
    report.add_argument(
        "--json", action="store_true", help="print the performance and error reports as one JSON object"
    )
    report.add_argument(
        "--plots",
        type=Path,
        metavar="DIR",
        help="write the plots as PNG files into DIR (needs docbatch[notebook])",
    )

    runs = sub.add_parser("runs", help="list the runs whose reports the state folder keeps, newest first")
    runs.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    runs.add_argument("--state-dir", help=_STATE_HELP)
    runs.add_argument(
        "--json", action="store_true", help="print a JSON array of the runs' performance reports"
    )

    sources = sub.add_parser("sources", help="list, rename or drop the sources (ingested trees) of the store")
    sources.add_argument(
        "action",
        nargs="?",
        choices=["list", "rename", "drop"],
        default="list",
        help="list (default): name, documents, last ingest, root folder; rename OLD NEW; drop NAME",
    )
    sources.add_argument(
        "names", nargs="*", metavar="NAME", help="the source(s): OLD NEW for rename, NAME for drop"
    )
    sources.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    sources.add_argument("--state-dir", help=f"whose writer lock rename and drop take: {_STATE_HELP}")
    sources.add_argument("--yes", action="store_true", help="drop: really remove the source's documents")
    sources.add_argument("--json", action="store_true", help="list: print a JSON array of the sources")

    sample = sub.add_parser("sample", help="write the sample documentation tree")
    sample.add_argument("destination", type=Path, help="the folder to write the tree into")
    sample.add_argument("--overwrite", action="store_true", help="replace the files of an existing tree")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("ingest-docs-batch", "ingest"):
            return _ingest(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "plan":
            return _plan(args)
        if args.command == "search":
            return _search(args)
        if args.command == "report":
            return _report(args)
        if args.command == "runs":
            return _runs(args)
        if args.command == "sources":
            return _sources(args)
        return _sample(args)
    except (ConfigError, RootError, QueryError, MissingExtraError) as exc:
        return _fail(EXIT_USAGE, exc)
    except (StoreError, DocbatchError) as exc:
        return _fail(EXIT_STORE, exc)
    except KeyboardInterrupt:
        print("docbatch: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(value: object) -> str:
    r"""``value`` as text safe for a terminal: control characters (ANSI escapes, carriage
    returns, bells) from file names and documents are written as escapes.

    >>> shown("red\x1b[31m.md")
    'red\\x1b[31m.md'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))


def _fail(code: int, exc: BaseException) -> int:
    print(f"docbatch: error: {shown(exc)}", file=sys.stderr)
    return code


def _ingest(args: argparse.Namespace) -> int:
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


def _plan(args: argparse.Namespace) -> int:
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


def _verify(args: argparse.Namespace) -> int:
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
        )
    if args.json:
        print(json.dumps({"problems": problems.to_dicts(), "repaired": args.repair}))
    elif problems.height == 0:
        print("the store, the disk and the last run agree")
    else:
        for row in problems.iter_rows(named=True):
            print(f"  {row['kind']:<17} {shown(row['doc_id'] or '-')}  ({shown(row['detail'])})")
        print(f"{problems.height} problems" + (": repaired" if args.repair else "; --repair mends them"))
    return EXIT_OK if problems.height == 0 or args.repair else EXIT_FAILED_FILES


def _search(args: argparse.Namespace) -> int:
    from docbatch.store import open_store

    if "://" not in args.db and not Path(args.db).exists():
        raise ConfigError(f"no store at {args.db}: ingest a directory first (docbatch ingest-docs-batch DIR)")
    store = open_store(args.db)
    try:
        hits = store.search(args.query, limit=args.limit, source=args.source)
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
        print(f"    {shown(' '.join(hit['snippet'].split()))}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
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


def _runs(args: argparse.Namespace) -> int:
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


def _sources(args: argparse.Namespace) -> int:
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


def _sample(args: argparse.Namespace) -> int:
    from docbatch import sample

    try:
        root = sample.write_sample_tree(args.destination, overwrite=args.overwrite)
    except FileExistsError as exc:
        raise ConfigError(str(exc)) from None
    print(f"wrote {len(sample.sample_files())} files to {root}")
    return EXIT_OK


def run() -> NoReturn:
    """The console entry point: ``main()``, then leave at once.

    Everything is written and closed when ``main`` returns; skipping the interpreter's
    teardown of the loaded libraries saves a noticeable share of a short run. When the
    reader of the output has gone (``docbatch search ... | head``), the command stops
    quietly with 141, as a tool the shell's pipe stopped does (128 + SIGPIPE).
    """
    try:
        try:
            code = main()
        except SystemExit as exc:  # --help, --version and usage errors end here too
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        if not _reader_gone():
            raise
        code = EXIT_BROKEN_PIPE
        devnull = os.open(os.devnull, os.O_WRONLY)  # nothing more to write, nor at exit
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
    logging.shutdown()
    os._exit(code)


def _reader_gone() -> bool:
    """True when stdout or stderr is a pipe whose reading end is closed."""
    if not hasattr(select, "poll"):
        return True
    poll = select.poll()
    for stream in (sys.stdout, sys.stderr):
        poll.register(stream.fileno(), select.POLLOUT)
    return any(events & select.POLLERR for _, events in poll.poll(0))


if __name__ == "__main__":
    run()
