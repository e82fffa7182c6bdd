"""The ``docbatch`` command line. Its subcommands (``docbatch COMMAND --help`` for each):

- ``ingest-docs-batch`` (alias ``ingest``): ingest a directory into the store, resumably;
- ``plan``: what an ingest would do (new, changed, unchanged, deleted files), doing nothing;
- ``verify``: compare the store with the disk and the last run (``--repair`` to fix);
- ``search``: search the store;
- ``report``: summarise a run from its reports (``--plots`` to draw them);
- ``runs``: list the runs the state folder keeps, newest first;
- ``sources``: list, rename or drop the sources (ingested trees) of the store;
- ``export``: write every passage with its document's metadata to a Parquet or JSON-lines file;
- ``sample``: write the sample documentation tree.

Exit codes: 0 done (even when some files failed, unless ``--fail-on-error``),
1 some files failed and ``--fail-on-error`` was given, 2 bad usage (directory,
pattern, option or setting), 3 the store or state could not be used,
130 interrupted by Ctrl-C, 143 (129) stopped by SIGTERM (SIGHUP) after the current commit
(the checkpoint and reports are kept: run the same command to resume), 141 the reader of
the output went away (``| head``: the command stops without a word, as others do).
"""

from __future__ import annotations

import logging
import os
import select
import sys
from collections.abc import Sequence
from typing import NoReturn

import docbatch.cli.allocator  # noqa: F401  (first: before polars is imported)
from docbatch.cli import commands
from docbatch.cli.commands import shown
from docbatch.cli.parser import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED_FILES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORE,
    EXIT_USAGE,
    build_parser,
)
from docbatch.errors import ConfigError, DocbatchError, MissingExtraError, QueryError, RootError, StoreError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED_FILES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STORE",
    "EXIT_USAGE",
    "build_parser",
    "main",
    "run",
    "shown",
]

_COMMANDS = {
    "ingest-docs-batch": commands.ingest,
    "ingest": commands.ingest,
    "plan": commands.plan,
    "verify": commands.verify,
    "search": commands.search,
    "report": commands.report,
    "runs": commands.runs,
    "sources": commands.sources,
    "export": commands.export,
    "sample": commands.sample,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``docbatch`` command line; returns its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ConfigError, RootError, QueryError, MissingExtraError) as exc:
        return _fail(EXIT_USAGE, exc)
    except (StoreError, DocbatchError) as exc:
        return _fail(EXIT_STORE, exc)
    except KeyboardInterrupt:
        print("docbatch: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _fail(code: int, exc: BaseException) -> int:
    print(f"docbatch: error: {shown(exc)}", file=sys.stderr)
    return code


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
