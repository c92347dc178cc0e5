"""Shared fixtures: an app on a fresh database per test, and a direct connection to it.

SQLite (the default): a new database file per test, migrated. With RETURNS_DATABASE_URL
(`make test-postgres`) the same fixtures give PostgreSQL: the session makes one database of its
own on that server and migrates it once; each test starts on it emptied (CLEAN_POSTGRES), with
every identity counting from 1 again. Tests about SQLite itself are marked `sqlite_only` and skip
there, saying why (docs/design.md, "Two engines").
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# Production is the app's default (config.py); the suite runs as a developer's machine does, and
# the tests of production's behaviour set RETURNS_ENV themselves.
os.environ["RETURNS_ENV"] = "development"

from returns_app import create_app
from returns_app.store.db import connect
from returns_app.store.migrations import migrate
from tests.chromium import browser  # noqa: F401  (one Chromium for every tier)
from tests.databases import own_database

# `sandbox`: the real sandbox provider; `smtp`: a real SMTP server the app's emails go to;
# `shop`, `staff`, ...: merchant portal users
pytest_plugins = ["tests.sandbox_fixtures", "tests.notification_helpers", "tests.merchant_fixtures"]


POSTGRES_URL = os.environ.get("RETURNS_DATABASE_URL", "")

# Empties every table but the migrations' record and sets every identity back to 1, in one round
# trip: DELETE from the tables holding rows (a test writes a handful of the schema's 35), every
# sequence set back whether or not its table holds rows (a rolled-back insert still used a
# number). session_replication_role = replica turns triggers off for it: the append-only
# tables' refusals and the foreign keys' checks, so the order of the tables doesn't matter.
# Measured after a test that wrote a merchant, an order and a return: 5.7 ms (4.2 ms when
# nothing was written); TRUNCATE of the tables holding rows took 212 ms, as its CASCADE reaches
# most of the schema and each truncated table gets new files; one TRUNCATE of every table 143 ms;
# CREATE DATABASE ... TEMPLATE a migrated one 358 ms; a new SQLite file migrated 120 ms.
CLEAN_POSTGRES = """
DO $$
DECLARE
  name text;
  holding text[] := '{}';
  has_rows boolean;
BEGIN
  FOR name IN SELECT quote_ident(tablename) FROM pg_tables
              WHERE schemaname = current_schema() AND tablename <> '_migrations' LOOP
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || name || ')' INTO has_rows;
    IF has_rows THEN
      holding := holding || name;
    END IF;
  END LOOP;
  FOREACH name IN ARRAY holding LOOP
    EXECUTE 'DELETE FROM ' || name;
  END LOOP;
  PERFORM setval(sequence.oid, 1, false) FROM pg_class sequence
    JOIN pg_namespace ON pg_namespace.oid = sequence.relnamespace
    WHERE sequence.relkind = 'S' AND pg_namespace.nspname = current_schema();
END $$"""


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("sqlite_only")
    if marker is not None and POSTGRES_URL:
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        if not reason:
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
        pytest.skip(f"SQLite only: {reason}")


@pytest.fixture(scope="session")
def postgres_database():
    """The session's migrated database on RETURNS_DATABASE_URL's server (None on SQLite),
    dropped at the end."""
    if not POSTGRES_URL:
        yield None
        return
    import psycopg

    from returns_app.store.postgres import POOLS

    name = f"returns_suite_{os.getpid()}"
    url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    db = connect(url)
    migrate(db)
    db.close()
    cleaner = psycopg.connect(url, autocommit=True)
    cleaner.execute("SET session_replication_role = replica")
    cleaner.execute("SET lock_timeout = '5s'")  # a transaction a test left open: fail, don't hang
    try:
        yield url, cleaner
    finally:
        cleaner.close()
        POOLS.close_all()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def clean_database(postgres_database, tmp_path) -> str:
    """The address of an empty, migrated database for one test."""
    if postgres_database is None:
        path = str(tmp_path / "returns.sqlite3")
        conn = connect(path)
        migrate(conn)
        conn.close()
        return path
    url, cleaner = postgres_database
    cleaner.execute(CLEAN_POSTGRES)
    return url


class ExampleDatabases:
    """A database per Hypothesis example, on the engine under test, as ``prepare(db)`` leaves a
    migrated empty one: on SQLite a copy of a file prepared once (a copy costs less than
    migrating again), on PostgreSQL the session's database emptied (CLEAN_POSTGRES) and
    prepared again."""

    def __init__(self, postgres_database, folder: Path, prepare: Callable):
        self._postgres, self._folder, self._prepare = postgres_database, folder, prepare
        self._template: str | None = None
        self._numbers = itertools.count()

    @contextlib.contextmanager
    def fresh(self) -> Iterator:
        if self._postgres is not None:
            address = clean_database(self._postgres, self._folder)
            db = connect(address)
            try:
                self._prepare(db)
                yield db
            finally:
                db.close()
            return
        if self._template is None:
            template = clean_database(None, self._folder)
            db = connect(template)
            self._prepare(db)
            db.close()
            self._template = template
        path = str(self._folder / f"example-{next(self._numbers)}.sqlite3")
        shutil.copyfile(self._template, path)
        db = connect(path)
        try:
            yield db
        finally:
            db.close()
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)


@pytest.fixture(scope="module")
def example_databases(postgres_database, tmp_path_factory):
    """``example_databases(prepare)``: an ExampleDatabases for a Hypothesis test."""
    return lambda prepare: ExampleDatabases(postgres_database, tmp_path_factory.mktemp("examples"),
                                            prepare)


@pytest.fixture
def app(tmp_path, postgres_database):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE": clean_database(postgres_database, tmp_path),
        # The kept pages' shelf: each test its own, on either engine (its default sits beside a
        # SQLite file, and is no path at all beside a postgresql:// address).
        "PAGE_CACHE_PATH": str(tmp_path / "returns.sqlite3-pages"),
        "WTF_CSRF_ENABLED": False,
        # Tests read English pages unless they send Accept-Language (the product's default is sv).
        "BABEL_DEFAULT_LOCALE": "en_GB",
    })
    return app


@pytest.fixture
def owned_database(tmp_path):
    """A migrated database of the test's own for the processes it starts (gunicorn, run.py, the
    worker): a SQLite file, or a database made for it on PostgreSQL (tests/databases.py)."""
    with own_database(tmp_path) as owned:
        yield owned


@pytest.fixture
def empty_database(tmp_path):
    """As owned_database, not migrated: for the commands that migrate it themselves."""
    with own_database(tmp_path, migrated=False) as owned:
        yield owned


@pytest.fixture
def db(app):
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.close()
