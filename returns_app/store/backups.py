"""Backing up and restoring the database file with SQLite's online backup API.

A backup may run while the app serves and the worker writes: the copy is one read transaction's
snapshot (in WAL mode writers carry on meanwhile), never a half-written file as `cp` of a live
database (and its -wal file) can be. A restore replaces the database's contents page by page
through SQLite, so the -wal file stays consistent; the app and the worker must be stopped first
(their kept connections would otherwise keep answering from what they had read).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .db import Database, connect


class BackupError(Exception):
    pass


# The file backup is SQLite's alone; PostgreSQL's database is backed up by its own tools.
ON_POSTGRES = ("The database is PostgreSQL (RETURNS_DATABASE_URL): back it up and restore it with"
               " PostgreSQL's own tools (pg_dump and pg_restore, or the server's base backups).")


def _file_only(database: str | Path) -> None:
    if str(database).startswith(("postgresql://", "postgres://")):
        raise BackupError(ON_POSTGRES)


def _check(db: Database, what: str) -> None:
    result = db.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result}")
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone():
        raise BackupError(f"{what} is not a returns assistant database (no _migrations).")


def backup(database: str | Path, dest: str | Path, overwrite: bool = False) -> int:
    """Copy the live database to `dest`; its size in bytes. Written beside `dest` first and
    renamed into place once checked, so `dest` is never a partial copy."""
    _file_only(database)
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} exists; choose another name or pass --overwrite.")
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    source, copy = connect(database), connect(part)
    try:
        # pages=-1: the whole file in one step, under one read transaction, so the copy is the
        # database as one moment saw it whatever commits meanwhile.
        source.conn.backup(copy.conn, pages=-1)
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check(copy, "The copy")
    finally:
        source.conn.close()
        copy.conn.close()
    with part.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(part, dest)
    return dest.stat().st_size


def restore(backup_path: str | Path, database: str | Path) -> None:
    """Replace the database's contents with the backup's. The app must be stopped."""
    _file_only(database)
    backup_path = Path(backup_path)
    if not backup_path.is_file():
        raise BackupError(f"There is no backup at {backup_path}.")
    # Read-only: checking and reading a backup never changes it (connect() would turn on WAL).
    source = Database(sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True))
    try:
        _check(source, str(backup_path))
        target = connect(database)
        try:
            source.conn.backup(target.conn, pages=-1)
            _check(target, "The restored database")
        finally:
            target.conn.close()
    finally:
        source.conn.close()
