"""The database each scale is served from, fresh for every run (its POSTs use up returnable
lines): a copy of the generated SQLite file, or, with `--engine postgresql`, a PostgreSQL
database made from a template the generated file was loaded into once (bench/postgres_load.py).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from returns_app.store.db import connect
from returns_app.store.migrations import migrate, pending_migrations

from . import generate, postgres_load

DATA = Path(__file__).resolve().parent / "data"
# README, "Connections per process": a sync worker holds one connection at a time; 2 leaves a
# spare. 4 workers per scale, two scales served at once: 16 of the server's 100.
WEB_POOL_SIZE = 2


@dataclass
class Served:
    env: dict[str, str]  # what points the app's processes at the database
    # The SQLite file holding the same rows, which the targets are picked from: the same
    # requests on either engine.
    rows_from: Path


def generated(orders: int, rebuild: bool) -> Path:
    path = DATA / f"orders-{orders}.sqlite3"
    if rebuild or not path.exists():
        print(f"Building {path.name} ...", flush=True)
        counts = generate.build(path, orders, log=lambda line: print(line, flush=True))
        print(f"  built in {counts['seconds']} s", flush=True)
    return path


def fresh_copy(source: Path, workdir: Path) -> Path:
    """Each run starts from the same data: POSTs use up their returnable lines."""
    copy = workdir / source.name
    shutil.copyfile(source, copy)
    db = connect(copy)
    # A database built before the newest migration gets it, as production would; and the
    # statistics for its new indexes, as the generator gives every index.
    if migrate(db):
        db.execute("ANALYZE")
    db.close()
    # The copy's 1.3 GB written back to disk now, not while the first endpoint is measured.
    os.sync()
    return copy


class SqliteCopies:
    engine = "sqlite"

    def fresh(self, orders: int, rebuild: bool, workdir: Path) -> Served:
        path = fresh_copy(generated(orders, rebuild), workdir)
        return Served({"RETURNS_DATABASE": str(path)}, path)


class PostgresCopies:
    """Databases on one server: per scale a template loaded once, and a copy of it served."""

    engine = "postgresql"

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.loaded: dict[int, Path] = {}  # orders -> the SQLite file the template holds
        self.load_seconds: dict[int, float] = {}

    def server_version(self) -> str:
        with psycopg.connect(self.server_url) as admin:
            return admin.execute("SHOW server_version").fetchone()[0].split()[0]

    def fresh(self, orders: int, rebuild: bool, workdir: Path) -> Served:
        template = f"bench_{orders}_template"
        if orders not in self.loaded:
            source = generated(orders, rebuild)
            db = connect(source)
            behind = pending_migrations(db)
            db.close()
            # A file built before the newest migration: its migrated copy is loaded, so the
            # tables and columns are those the PostgreSQL migrations make.
            rows_from = fresh_copy(source, workdir) if behind else source
            print(f"Loading {rows_from.name} into PostgreSQL ...", flush=True)
            started = time.monotonic()
            postgres_load.make_template(self.server_url, template, rows_from,
                                        log=lambda line: print(line, flush=True))
            self.load_seconds[orders] = round(time.monotonic() - started, 1)
            self.loaded[orders] = rows_from
        url = postgres_load.copy_of(self.server_url, template, f"bench_{orders}")
        return Served({"RETURNS_DATABASE_URL": url,
                       "RETURNS_DATABASE_POOL_SIZE": str(WEB_POOL_SIZE),
                       # The kept pages' shelf: beside a server's database it is a file in the
                       # instance folder (README); this run's own, as beside a SQLite copy.
                       "RETURNS_INSTANCE_PATH": str(workdir)}, self.loaded[orders])
