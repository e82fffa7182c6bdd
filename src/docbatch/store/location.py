"""Where a store's runs keep their state when no state folder is given: the one rule the
service, the command line and ``load_run`` share."""

from __future__ import annotations

import os
from pathlib import Path

from docbatch.store import DEFAULT_STORE
from docbatch.store.base import DocumentStore
from docbatch.store.sqlite import SQLiteStore

DEFAULT_STATE_DIR = "docbatch.state"
"""The state folder of a store that is not a SQLite file (PostgreSQL, a store object of
another kind), relative to the working directory."""


def state_dir_for(store: DocumentStore | str | os.PathLike[str] | None) -> Path:
    """The state folder (checkpoints, writer lock, reports) of ``store`` when none is given.

    ``store`` is anything ``open_store`` takes: a path or ``sqlite:///path`` (a SQLite
    file), a ``postgresql://`` URL, a store object, or None (``./docbatch.db``). Beside a
    SQLite file the folder has the file's name with ``.state`` for its suffix
    (``docs.db`` -> ``docs.state``); any other store uses ``./docbatch.state``.

    >>> str(state_dir_for("data/docs.db")), str(state_dir_for("sqlite:///data/docs.db"))
    ('data/docs.state', 'data/docs.state')
    >>> str(state_dir_for("postgresql://ann@db.example/docs")), str(state_dir_for(None))
    ('docbatch.state', 'docbatch.state')
    """
    if isinstance(store, SQLiteStore):
        return store.path.with_suffix(".state")
    if isinstance(store, os.PathLike):
        return Path(store).with_suffix(".state")  # open_store reads a path object as a file
    if store is not None and not isinstance(store, str):
        return Path(DEFAULT_STATE_DIR)  # a store object of another kind
    spec = DEFAULT_STORE if store is None else store
    if spec.startswith("sqlite:///"):
        spec = spec.removeprefix("sqlite:///") or DEFAULT_STORE
    if "://" in spec:
        return Path(DEFAULT_STATE_DIR)
    return Path(spec).with_suffix(".state")
