"""Stores: the protocol, the embedded SQLite default, PostgreSQL (optional), one in memory
(for tests), and ``open_store``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from docbatch.errors import ConfigError
from docbatch.store.base import DocumentStore
from docbatch.store.memory import MemoryStore
from docbatch.store.sqlite import SQLiteStore

DEFAULT_STORE = "docbatch.db"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_HINT = "pip install 'docbatch[postgres]'"


def open_store(spec: str | os.PathLike[str] | DocumentStore | None = None) -> DocumentStore:
    """A store from a path, a URL or a store object.

    ``None`` opens ``./docbatch.db``; a path or ``sqlite:///path`` opens (or creates)
    that SQLite file; ``postgresql://user:password@host:port/dbname`` opens a PostgreSQL
    store (needs the ``postgres`` extra); ``memory://name`` a new, empty ``MemoryStore``;
    a store object is returned as it is.

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
    if spec.startswith("memory://"):
        return MemoryStore(spec.removeprefix("memory://"))
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise ConfigError.invalid(
            "backend", spec, f"a path, sqlite:///path or postgresql://... (no store for scheme {scheme!r})"
        )
    return SQLiteStore(spec)


def mask_password(url: str) -> str:
    """``url`` with its password (in the user part or the query) replaced by ``***``, and
    nothing else changed, even when the URL is malformed.

    >>> mask_password("postgresql://ann:s3cret@db.example:5432/docs?sslmode=require")
    'postgresql://ann:***@db.example:5432/docs?sslmode=require'
    >>> mask_password("postgresql://ann:e@[bad")
    'postgresql://ann:***@[bad'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    slash = rest.find("/")
    authority, tail = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return _QUERY_PASSWORD.sub(r"\1***", f"{scheme}://{authority}{tail}")


def mask_secrets(text: str, url: str) -> str:
    """``text`` (a message about the store at ``url``) with every password field masked:
    the password of each URL in it, ``password=...`` settings, and a quoted token that is
    exactly ``url``'s password (as libpq quotes the part of a URL it rejects). The rest of
    the text is left as it is, whatever characters the password has."""
    text = _URL.sub(lambda match: mask_password(match.group()), text)
    text = _KEYWORD_PASSWORD.sub(r"\1***", text)
    for secret in _passwords(url):
        text = text.replace(f'"{secret}"', '"***"').replace(f"'{secret}'", "'***'")
    return text


def _passwords(url: str) -> set[str]:
    """The password of ``url`` as written and decoded, taken by structure alone."""
    rest = url.partition("://")[2]
    userinfo, at, _ = rest.split("/", 1)[0].rpartition("@")
    found = {userinfo.split(":", 1)[1]} if at and ":" in userinfo else set()
    found.update(match[2] for match in _QUERY_PASSWORD.finditer(url))
    return {form for secret in found if secret for form in (secret, unquote(secret))}


_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"']+")
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#]*)")
_KEYWORD_PASSWORD = re.compile(r"(?i)(\bpassword\s*=\s*)(?!\*\*\*)('(?:[^'\\]|\\.)*'|[^\s&'\"]+)")


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


__all__ = ["DEFAULT_STORE", "DocumentStore", "MemoryStore", "SQLiteStore", "mask_password", "open_store"]
