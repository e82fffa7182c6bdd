"""Store backends for the contract tests: SQLite in a temporary file, PostgreSQL, and the
in-memory store.

PostgreSQL comes from ``DOCBATCH_TEST_POSTGRES_URL`` when it is set; otherwise a private
server is started for the session (``initdb`` + ``pg_ctl`` from
``/usr/lib/postgresql/*/bin``, on 127.0.0.1 with a free port, as the ``postgres`` user
when running as root). Each test gets its own schema. When no server can be had, the
PostgreSQL cases are skipped with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from docbatch.store import DocumentStore, MemoryStore, SQLiteStore

URL_VARIABLE = "DOCBATCH_TEST_POSTGRES_URL"
DATABASE = "docbatch_test"


@dataclass
class Backend:
    """One kind of store, at a location private to the test."""

    name: str
    location: str
    """What the store's ``location`` says (a URL's password masked)."""
    open: Callable[..., DocumentStore]
    """Open (another connection to) the store; keyword ``busy_timeout_s``."""
    hold_write_lock: Callable[[], AbstractContextManager[None]]
    """While entered, another connection holds the lock a writer needs."""


class _PrivateServer:
    """A throwaway PostgreSQL cluster in a temporary folder."""

    def __init__(self) -> None:
        self.bin = _server_bin()
        self.user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="docbatch-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.socket_dir.mkdir()
        self.log = self.folder / "server.log"
        if self.user is not None:
            shutil.chown(self.folder, self.user)
            shutil.chown(self.socket_dir, self.user)
        self.port = _free_port()

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            log = self.log.read_text(errors="replace").strip().splitlines()[-3:] if self.log.exists() else []
            raise RuntimeError(f"{args[0]} failed: {' | '.join(tail + log)}")

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start"
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if not found:
        raise RuntimeError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
            f"(install the Debian package postgresql, or set {URL_VARIABLE})"
        )
    return Path(found[-1]).parent


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parts[-3]
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _server_user() -> str | None:
    """None when not root; else the user that runs the server (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root and runuser is missing: cannot start PostgreSQL as another user")
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        raise RuntimeError("running as root and there is no postgres user to run the server") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty database on a PostgreSQL server, for this session."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed: pip install 'docbatch[postgres]'")
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    try:
        server = _PrivateServer()
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL server can be started: {exc}")
    try:
        base = server.start()
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    except (RuntimeError, OSError, subprocess.TimeoutExpired, psycopg.Error) as exc:
        server.stop()
        pytest.skip(f"no PostgreSQL server can be started: {exc}")
    try:
        yield f"{base}/{DATABASE}"
    finally:
        server.stop()


def _with_schema(url: str, schema: str) -> str:
    option = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@contextmanager
def _sqlite_lock(path: Path) -> Iterator[None]:
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.rollback()
        blocker.close()


def _sqlite_backend(tmp_path: Path) -> Backend:
    path = tmp_path / "store.db"

    def open_store(**options: Any) -> DocumentStore:
        return SQLiteStore(path, **options)

    return Backend("sqlite", str(path), open_store, lambda: _sqlite_lock(path))


@contextmanager
def _postgres_lock(url: str) -> Iterator[None]:
    import psycopg

    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE documents, passages IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            blocker.rollback()


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """The URL of an empty schema of the test database, dropped after the test."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_schema(postgres_url, schema)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _memory_backend() -> Backend:
    root = MemoryStore("contract")

    def open_store(**options: Any) -> DocumentStore:
        return root.connect(**options)

    @contextmanager
    def hold() -> Iterator[None]:
        with root.write_lock:
            yield

    return Backend("memory", root.location, open_store, hold)


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each store backend in turn, at a fresh location."""
    if request.param == "sqlite":
        return _sqlite_backend(tmp_path)
    if request.param == "memory":
        return _memory_backend()
    url = request.getfixturevalue("postgres_schema_url")
    from docbatch.store import mask_password
    from docbatch.store.postgres import PostgresStore

    def open_store(**options: Any) -> DocumentStore:
        return PostgresStore(url, **options)

    return Backend("postgres", mask_password(url), open_store, lambda: _postgres_lock(url))


@pytest.fixture
def store(backend: Backend) -> Iterator[DocumentStore]:
    """An empty store of each backend."""
    opened = backend.open()
    yield opened
    opened.close()
