"""A database of a test's own for the processes it starts (gunicorn, run.py, the worker, the
installed package's commands): a SQLite file in the test's folder, or, with RETURNS_DATABASE_URL
(`make test-postgres`), a database of its own on that server, made for the test and dropped
after it. Either way the processes get it from their environment (``Owned.env``), as deployed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from returns_app.store.db import connect, is_server_address, select_one
from returns_app.store.migrations import migrate

POSTGRES_URL = os.environ.get("RETURNS_DATABASE_URL", "")
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Owned:
    address: str  # a file path, or a postgresql:// address

    @property
    def env(self) -> dict[str, str]:
        return env_for(self.address)

    def connect(self):
        return connect(self.address)

    def is_empty(self) -> bool:
        """Whether nothing was made in it yet (no file, or no table), without making it."""
        if "RETURNS_DATABASE" in self.env:
            return not Path(self.address).exists()
        db = self.connect()
        try:
            return select_one(db, "SELECT count(*) AS n FROM information_schema.tables"
                                  " WHERE table_schema = current_schema()")["n"] == 0
        finally:
            db.close()


def env_for(address: str) -> dict[str, str]:
    """The variable that points the app's processes at a database (the URL wins over a path)."""
    if is_server_address(address):
        return {"RETURNS_DATABASE_URL": address}
    return {"RETURNS_DATABASE": address}


@contextlib.contextmanager
def own_database(folder: Path, migrated: bool = True) -> Iterator[Owned]:
    """A database no other test or session sees: ``folder``/returns.sqlite3 on SQLite, a new
    database on RETURNS_DATABASE_URL's server on PostgreSQL; migrated unless told not to (the
    README's commands migrate it themselves)."""
    if not POSTGRES_URL:
        owned = Owned(str(folder / "returns.sqlite3"))
        if migrated:
            _migrate(owned.address)
        yield owned
        return
    import psycopg

    from returns_app.store.postgres import POOLS

    name = f"returns_own_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    owned = Owned(urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name)))
    try:
        if migrated:
            _migrate(owned.address)
        yield owned
    finally:
        POOLS.close(owned.address)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _migrate(address: str) -> None:
    db = connect(address)
    try:
        migrate(db)
    finally:
        db.close()
