"""PostgreSQL for the tests that need it: RETURNS_DATABASE_URL (set by `make test-postgres`,
scripts/postgres_cluster.py) names a server; each session makes a database of its own there,
migrated once, and drops it at the end. Without the variable those tests skip and say why."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from returns_app.store.db import connect
from returns_app.store.migrations import migrate

SKIP_REASON = ("needs PostgreSQL: RETURNS_DATABASE_URL is not set"
               " (`make test-postgres` starts a throwaway server and sets it)")


def postgres_url() -> str:
    url = os.environ.get("RETURNS_DATABASE_URL", "")
    if not url:
        pytest.skip(SKIP_REASON)
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def fresh_database():
    """A maker of empty databases on the server, each dropped at the end of the session."""
    import psycopg

    from returns_app.store.postgres import POOLS

    server = postgres_url()
    made = []

    def make(label: str) -> str:
        name = f"returns_{label}_{os.getpid()}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return with_database(server, name)

    yield make
    POOLS.close_all()
    with psycopg.connect(server, autocommit=True) as admin:
        for name in made:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def migrated_url(fresh_database):
    """A database migrated to the latest schema, shared by the session (tests add rows of their
    own, with numbers of their own)."""
    url = fresh_database("migrated")
    db = connect(url)
    migrate(db)
    db.close()
    return url


@pytest.fixture
def pg(migrated_url):
    db = connect(migrated_url)
    yield db
    db.close()


@pytest.fixture
def lite(tmp_path):
    db = connect(tmp_path / "returns.sqlite3")
    migrate(db)
    yield db
    db.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def either(request):
    """The migrated database on each engine in turn: one test, the same guarantee on both."""
    return request.getfixturevalue("lite" if request.param == "sqlite" else "pg")
