"""Stores: the protocol, the embedded SQLite default, PostgreSQL (optional), and ``open_store``."""

from __future__ import annotations

import os
from pathlib import Path

from docbatch.errors import ConfigError
from docbatch.store.base import DocumentStore
from docbatch.store.sqlite import SQLiteStore

DEFAULT_STORE = "docbatch.db"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_HINT = "pip install 'docbatch[postgres]'"


def open_store(spec: str | os.PathLike[str] | DocumentStore | None = None) -> DocumentStore:
    """A store from a path, a URL or a store object.

    ``None`` opens ``./docbatch.db``; a path or ``sqlite:///path`` opens (or creates)
    that SQLite file; ``postgresql://user:password@host:port/dbname`` opens a PostgreSQL
    store (needs the ``postgres`` extra); a store object is returned as it is.

    Raises:
        ConfigError: the spec names a kind of store docbatch cannot open, or one whose
            extra is not installed.
        StoreError: the store exists but cannot be opened.
    """
    if spec is None:
        return SQLiteStore(DEFAULT_STORE)
    if isinstance(spec, DocumentStore):
        return spec
    if isinstance(spec, Path | os.PathLike):
        return SQLiteStore(Path(spec))
    if not isinstance(spec, str):
        raise ConfigError.invalid("backend", spec, "a store object, a path, or sqlite:///path")
    if spec.startswith("sqlite:///"):
        return SQLiteStore(spec.removeprefix("sqlite:///") or DEFAULT_STORE)
    if spec.startswith(POSTGRES_SCHEMES):
        return _open_postgres(spec)
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise ConfigError.invalid(
            "backend", spec, f"a path, sqlite:///path or postgresql://... (no store for scheme {scheme!r})"
        )
    return SQLiteStore(spec)


def _open_postgres(url: str) -> DocumentStore:
    try:
        from docbatch.store.postgres import PostgresStore
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] != "psycopg":
            raise
        raise ConfigError(
            f"a PostgreSQL store needs psycopg 3, which is not installed or not usable: {POSTGRES_HINT}"
        ) from None
    return PostgresStore(url)


__all__ = ["DEFAULT_STORE", "DocumentStore", "SQLiteStore", "open_store"]
