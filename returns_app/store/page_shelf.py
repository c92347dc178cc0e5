"""Where kept pages live (page_cache.py): a SQLite file of their own next to the database (in
the instance folder when the database is on a PostgreSQL server), shared by every worker
process, and disposable.

Shared, so a page is rendered once for all the workers rather than once by each of them. A file
of its own with synchronous=OFF, so keeping a page never waits for the disk or for the main
database's write lock, and losing the file loses nothing: it fills again as pages are viewed.
Any trouble with it (locked too long, disk full, damaged) counts as "not kept": the page is
rendered. Oldest-stored pages go first once it holds more than its size. What it buys: README,
"What each piece of speed machinery buys", row "order versions and kept pages".
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from .db import KeptConnections, is_server_address

log = logging.getLogger(__name__)
PRUNE_EVERY = 64  # stores between two trims down to the size


def default_path(database: str, instance_folder: str) -> str:
    """The shelf's file when PAGE_CACHE_PATH doesn't say: beside a SQLite database
    (``<file>-pages``); for a database on a server, whose address is no path, in the instance
    folder (made if missing, as a first `migrate` makes it for SQLite's file), one shelf per
    host. Named after the server and the database, as a key holds no database: an order's id
    and version from one database must never find a page kept for another's."""
    if is_server_address(database):
        address = urlsplit(str(database))
        name = "-".join(str(part) for part in (address.hostname or "local", address.port or "",
                                               address.path.strip("/")) if part)
        Path(instance_folder).mkdir(parents=True, exist_ok=True)
        return str(Path(instance_folder) / f"kept-pages-{re.sub(r'[^A-Za-z0-9._-]', '_', name)}")
    return f"{database}-pages"


class Shelf:
    def __init__(self, path: str, size: int):
        self.path, self.size = path, size
        self._connections = KeptConnections(_open)
        self._stored = 0

    def get(self, key: bytes) -> str | bytes | None:
        try:
            row = self._connection().execute("SELECT body FROM page WHERE key = ?",
                                             [key]).fetchone()
        except sqlite3.Error as exc:
            log.warning("kept pages unavailable (%s): rendering", exc)
            return None
        return row[0] if row else None

    def put(self, key: bytes, body: str | bytes) -> None:
        try:
            conn = self._connection()
            conn.execute("INSERT OR REPLACE INTO page (key, body) VALUES (?, ?)", [key, body])
            self._stored += 1
            if self._stored % PRUNE_EVERY == 0:
                conn.execute("DELETE FROM page WHERE id <= (SELECT max(id) FROM page) - ?",
                             [self.size])
        except sqlite3.Error as exc:
            log.warning("could not keep a page (%s)", exc)

    def _connection(self) -> sqlite3.Connection:
        return self._connections.get(self.path)


def _open(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=0.2, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("CREATE TABLE IF NOT EXISTS page (id INTEGER PRIMARY KEY,"
                 " key BLOB NOT NULL UNIQUE, body BLOB NOT NULL)")
    return conn
