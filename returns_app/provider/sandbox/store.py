"""The sandbox's records in its own SQLite file, so a restart forgets no payout, debit, checkout
session or idempotent answer: the app settles an unknown outcome by asking the provider, and
that answer must survive the provider's restart as a real provider's would.

The sandbox stands for another company's system and imports nothing from returns_app, so this
is the standard library's sqlite3 on its own file. One process, called under Sandbox's lock:
each write is its own short transaction, committed before the answer goes out. WAL with
synchronous=NORMAL: a commit survives the process being killed (what a restart is), only a
power cut may lose the last ones, which a test sandbox can afford; FULL would fsync on every
request of every test that talks to the provider.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS record (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('payout', 'debit', 'session')),
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS stored (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS execution (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event (
    seq INTEGER PRIMARY KEY,
    event TEXT NOT NULL CHECK (event IN ('post', 'lookup')),
    key TEXT NOT NULL
);
"""


def default_path() -> Path:
    """RETURNS_SANDBOX_DATABASE, else beside the app's database (RETURNS_DATABASE), else in
    ./instance, where the app keeps its own data by default."""
    if explicit := os.environ.get("RETURNS_SANDBOX_DATABASE"):
        return Path(explicit)
    if app_database := os.environ.get("RETURNS_DATABASE"):
        return Path(app_database).with_name("sandbox-provider.sqlite3")
    return Path("instance") / "sandbox-provider.sqlite3"


class Store:
    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- reading everything back at start -------------------------------------------------------
    def generation(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
        return row[0] if row else 0

    def records(self, kind: str) -> dict[str, dict]:
        rows = self.conn.execute("SELECT id, body FROM record WHERE kind = ? ORDER BY seq",
                                 [kind])
        return {id_: json.loads(body) for id_, body in rows}

    def stored(self) -> dict[str, tuple[str, int, dict]]:
        rows = self.conn.execute("SELECT key, fingerprint, status, body FROM stored")
        return {key: (fp, status, json.loads(body)) for key, fp, status, body in rows}

    def executions(self) -> list[dict]:
        return [json.loads(body) for (body,) in
                self.conn.execute("SELECT body FROM execution ORDER BY seq")]

    def events(self) -> list[dict]:
        return [{"event": event, "key": key} for event, key in
                self.conn.execute("SELECT event, key FROM event ORDER BY seq")]

    # -- writing through ------------------------------------------------------------------------
    def reset(self, generation: int) -> None:
        with self._write() as conn:
            for table in ("record", "stored", "execution", "event"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608  (fixed names)
            conn.execute("INSERT INTO meta (name, value) VALUES ('generation', ?)"
                         " ON CONFLICT (name) DO UPDATE SET value = excluded.value", [generation])

    def note(self, event: str, key: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO event (event, key) VALUES (?, ?)", [event, key])

    def put(self, kind: str, record: dict, *, key: str | None = None, fp: str = "",
            answer: dict | None = None, executed: dict | None = None) -> None:
        """The record (new or changed) and, with `key`, the answer to replay for that
        Idempotency-Key; with `executed`, one more line in the execution ledger."""
        with self._write() as conn:
            conn.execute("INSERT INTO record (kind, id, body) VALUES (?, ?, ?)"
                         " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                         [kind, record["id"], json.dumps(record)])
            if key is not None:
                conn.execute("INSERT INTO stored (key, fingerprint, status, body)"
                             " VALUES (?, ?, 201, ?)", [key, fp, json.dumps(answer)])
            if executed is not None:
                conn.execute("INSERT INTO execution (body) VALUES (?)", [json.dumps(executed)])

    def close(self) -> None:
        self.conn.close()
