"""A generated benchmark database (a SQLite file, bench/generate.py) loaded into PostgreSQL, so
that `python -m bench.run --engine postgresql` serves the very same rows.

The schema is the project's own: the PostgreSQL variant of every migration (db.connect +
migrate). Every table's rows are then copied from the SQLite file with COPY, in batches of
BATCH_ROWS, with triggers off (session_replication_role = replica, which needs a superuser, as
the throwaway cluster's role is): the read models (return_status_count, order_version,
stuck_candidate) are copied as they are, already consistent in the SQLite file, and foreign
keys are not checked row by row (the SQLite file kept them). Each identity is then set past its
table's highest id, the database vacuumed and analysed, and its row count per table compared
with the SQLite file's: any difference raises LoadMismatch.

A benchmark run loads each scale once into a template (`make_template`) and serves a copy of it
(`copy_of`, CREATE DATABASE ... TEMPLATE): its POSTs use up their returnable lines.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from returns_app.store.db import connect
from returns_app.store.migrations import migrate
from returns_app.store.postgres import POOLS

BATCH_ROWS = 100_000
MIGRATIONS_TABLE = "_migrations"  # written by migrate() on PostgreSQL itself, never copied


class LoadMismatch(RuntimeError):
    """The PostgreSQL database does not hold what the SQLite file holds."""


def database_url(server_url: str, name: str) -> str:
    """The address of database `name` on `server_url`'s server."""
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def sqlite_tables(source: sqlite3.Connection) -> list[str]:
    return [name for (name,) in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]


def postgres_tables(pg: psycopg.Connection) -> list[str]:
    return [name for (name,) in pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema ="
        " current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]


def load(sqlite_path: Path, url: str, log=print) -> dict[str, int]:
    """Every row of `sqlite_path` into the empty database at `url`; its row count per table,
    checked equal on both."""
    started = time.monotonic()
    db = connect(url)
    try:
        migrate(db)
    finally:
        db.close()
        POOLS.close(url)  # nothing of this process stays connected: it becomes a template
    source = sqlite3.connect(sqlite_path)
    try:
        with psycopg.connect(url) as pg:
            pg.execute("SET session_replication_role = replica")
            _same_tables(source, pg)
            for table in sqlite_tables(source):
                if table != MIGRATIONS_TABLE:
                    copied = _copy_table(source, pg, table)
                    pg.commit()
                    if copied >= BATCH_ROWS:
                        log(f"  {table}: {copied:,} rows ({time.monotonic() - started:.1f} s)")
            _identities_past_max(pg)
            pg.commit()
        with psycopg.connect(url, autocommit=True) as pg:
            # The statistics the planner needs, and every page's visibility set once here
            # rather than by the first reads of a measured run.
            pg.execute("VACUUM (ANALYZE)")
        counts = check_counts(source, url)
    finally:
        source.close()
    log(f"  loaded and checked in {time.monotonic() - started:.1f} s:"
        f" {sum(counts.values()):,} rows in {len(counts)} tables")
    return counts


def _same_tables(source: sqlite3.Connection, pg: psycopg.Connection) -> None:
    ours, theirs = set(sqlite_tables(source)), set(postgres_tables(pg))
    if ours != theirs:
        raise LoadMismatch(f"tables only in SQLite: {sorted(ours - theirs)},"
                           f" only in PostgreSQL: {sorted(theirs - ours)}")


def _copy_table(source: sqlite3.Connection, pg: psycopg.Connection, table: str) -> int:
    columns = [row[1] for row in source.execute(f"PRAGMA table_info({_quoted(table)})")]
    theirs = {name for (name,) in pg.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = %s", [table])}
    if set(columns) != theirs:
        raise LoadMismatch(f"{table}: columns only in SQLite: {sorted(set(columns) - theirs)},"
                           f" only in PostgreSQL: {sorted(theirs - set(columns))}")
    if pg.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
            sql.Identifier(table))).fetchone()[0]:
        raise LoadMismatch(f"{table} held rows before the load")
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    rows = source.execute(f"SELECT {', '.join(map(_quoted, columns))} FROM {_quoted(table)}")
    copied = 0
    while batch := rows.fetchmany(BATCH_ROWS):
        with pg.cursor().copy(copy_in) as copy:
            for row in batch:
                copy.write_row(row)
        copied += len(batch)
    return copied


def _quoted(name: str) -> str:
    """A SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _identities_past_max(pg: psycopg.Connection) -> None:
    """Rows came with their ids: the next id each table generates follows its highest."""
    for table, column in pg.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')").fetchall():
        pg.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, %s),"
                           " coalesce(max({column}), 0) + 1, false) FROM {table}").format(
            column=sql.Identifier(column), table=sql.Identifier(table)), [table, column])


def row_counts(source: sqlite3.Connection, url: str) -> dict[str, tuple[int | None, int | None]]:
    """Each table's rows in the SQLite file and in the PostgreSQL database (None: no such
    table there)."""
    lite = {table: source.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0]
            for table in sqlite_tables(source)}
    with psycopg.connect(url, autocommit=True) as pg:
        server = {table: pg.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(table))).fetchone()[0] for table in postgres_tables(pg)}
    return {table: (lite.get(table), server.get(table)) for table in sorted({*lite, *server})}


def check_counts(source: sqlite3.Connection, url: str) -> dict[str, int]:
    """The row count per table, the same on both; LoadMismatch naming every table that isn't."""
    found = row_counts(source, url)
    wrong = [f"{table}: {lite} in SQLite, {server} in PostgreSQL"
             for table, (lite, server) in found.items() if lite != server]
    if wrong:
        raise LoadMismatch("the PostgreSQL database differs from the SQLite file:\n  "
                           + "\n  ".join(wrong))
    return {table: lite for table, (lite, _server) in found.items()}


def make_template(server_url: str, name: str, sqlite_path: Path, log=print) -> dict[str, int]:
    """Database `name` made on the server, loaded from `sqlite_path` (see load), then made a
    template nobody connects to (CREATE DATABASE ... TEMPLATE copies only an idle one)."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    counts = load(sqlite_path, database_url(server_url, name), log)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
                      .format(sql.Identifier(name)))
    return counts


def copy_of(server_url: str, template: str, name: str) -> str:
    """A fresh database `name` with the template's rows (replacing one of that name), written
    to disk before it is served; its address."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        # FILE_COPY: the template's files copied as they are (the default, WAL_LOG, writes
        # every page to the WAL too).
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)))
        # As os.sync() after SQLite's copy: written back now, not while an endpoint is measured.
        admin.execute("CHECKPOINT")
    return database_url(server_url, name)


def drop(server_url: str, name: str) -> None:
    """Database `name` gone, a template too."""
    POOLS.close(database_url(server_url, name))
    with psycopg.connect(server_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(
                sql.Identifier(name)))
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
