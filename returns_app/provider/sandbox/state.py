"""The sandbox's state: executed payouts and debits, checkout sessions, idempotency records and
the switchable failure mode. One process, one lock; nothing here knows about HTTP.

Everything a restart must not forget is written through to the sandbox's SQLite file
(store.py) before the answer goes out, and read back when the sandbox starts; the failure mode
(a test control) and requests still in flight live only as long as the process.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .store import Store

# insufficient_funds: declined like "decline", with the reason a bank gives for an empty account
MODES = ("normal", "decline", "insufficient_funds", "error_500", "timeout", "lost_response")
DEFAULT_DELAY = 10.0
# An unpaid checkout session ends this long after it was opened: a page left open in a tab
# must not take money hours later, when what is owed may have changed.
SESSION_LIFETIME = timedelta(minutes=30)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def now_iso(offset: float = 0.0) -> str:
    return iso(datetime.now(UTC) + timedelta(seconds=offset))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def fingerprint(endpoint: str, body: dict) -> str:
    """What "the same request" means: the same endpoint and the same JSON, key order aside."""
    return endpoint + " " + json.dumps(body, sort_keys=True, separators=(",", ":"))


@dataclass
class Stored:
    """The first complete answer given for an idempotency key, replayed for every retry."""

    fingerprint: str
    status: int
    body: dict


@dataclass
class Mode:
    name: str = "normal"
    times: int | None = None  # how many more money-moving POSTs it affects; None: until changed
    delay: float = DEFAULT_DELAY

    def as_dict(self) -> dict:
        return {"mode": self.name, "times": self.times, "delay": self.delay}


@dataclass
class State:
    generation: int = 0  # bumped by reset: a request asleep in "timeout" mode then executes nothing
    clock_offset: float = 0.0  # seconds the test control moved the clock on (until a reset)
    mode: Mode = field(default_factory=Mode)
    stored: dict[str, Stored] = field(default_factory=dict)
    in_flight: dict[str, str] = field(default_factory=dict)  # key -> fingerprint
    payouts: dict[str, dict] = field(default_factory=dict)  # id -> payout
    debits: dict[str, dict] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)
    executions: list[dict] = field(default_factory=list)
    requests_per_key: Counter = field(default_factory=Counter)
    lookups_per_key: Counter = field(default_factory=Counter)
    log: list[dict] = field(default_factory=list)  # every POST and lookup per key, in order


class Sandbox:
    """Thread-safe operations on State. Callers hold no lock of their own."""

    def __init__(self, database: str | Path = ":memory:") -> None:
        self.lock = threading.Lock()
        self.store = Store(database)
        self.state = self._load()

    def _load(self) -> State:
        store = self.store
        log = store.events()
        return State(
            generation=store.generation(),
            stored={key: Stored(*found) for key, found in store.stored().items()},
            payouts=store.records("payout"), debits=store.records("debit"),
            sessions=store.records("session"), executions=store.executions(),
            requests_per_key=Counter(e["key"] for e in log if e["event"] == "post"),
            lookups_per_key=Counter(e["key"] for e in log if e["event"] == "lookup"),
            log=log)

    # -- test controls ----------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            generation = self.state.generation + 1
            self.store.reset(generation)
            self.state = State(generation=generation)

    def set_mode(self, name: str, times: int | None, delay: float | None) -> dict:
        with self.lock:
            self.state.mode = Mode(name, None if name == "normal" else times,
                                   DEFAULT_DELAY if delay is None else delay)
            return self.state.mode.as_dict()

    def advance_clock(self, seconds: float) -> dict:
        with self.lock:
            self.state.clock_offset += seconds
            return {"now": now_iso(self.state.clock_offset)}

    def now_iso(self) -> str:
        with self.lock:
            return now_iso(self.state.clock_offset)

    def get_mode(self) -> dict:
        with self.lock:
            return self.state.mode.as_dict()

    def ledger(self) -> dict:
        with self.lock:
            s = self.state
            executed = Counter(e["idempotency_key"] for e in s.executions)
            moved = Counter(e["idempotency_key"] for e in s.executions
                            if e["status"] == "succeeded")
            return {
                "executions": [dict(e) for e in s.executions],
                "executions_per_key": dict(executed),
                "money_moved_per_key": dict(moved),
                "requests_per_key": dict(s.requests_per_key),
                "lookups_per_key": dict(s.lookups_per_key),
                "log": list(s.log),
                "mode": s.mode.as_dict(),
            }

    # -- idempotent money movement ----------------------------------------------------------------
    def note_request(self, key: str) -> None:
        with self.lock:
            self.store.note("post", key)
            self.state.requests_per_key[key] += 1
            self.state.log.append({"event": "post", "key": key})

    def note_lookup(self, key: str) -> None:
        with self.lock:
            self.store.note("lookup", key)
            self.state.lookups_per_key[key] += 1
            self.state.log.append({"event": "lookup", "key": key})

    def begin(self, key: str, fp: str) -> Stored | str:
        """Claim `key` for a new request with fingerprint `fp`.

        Returns the stored answer to replay, an error code ("idempotency_key_reused",
        "idempotency_key_in_flight"), or "claimed": the caller now executes and must `finish`
        or `abandon`."""
        with self.lock:
            s = self.state
            stored = s.stored.get(key)
            if stored is not None:
                return stored if stored.fingerprint == fp else "idempotency_key_reused"
            if key in s.in_flight:
                return ("idempotency_key_in_flight" if s.in_flight[key] == fp
                        else "idempotency_key_reused")
            s.in_flight[key] = fp
            return "claimed"

    def abandon(self, key: str) -> None:
        with self.lock:
            self.state.in_flight.pop(key, None)

    def take_mode(self) -> tuple[str, float, int]:
        """The failure mode for this money-moving request (using up one of its `times`)."""
        with self.lock:
            mode = self.state.mode
            name, delay = mode.name, mode.delay
            if mode.times is not None:
                mode.times -= 1
                if mode.times <= 0:
                    self.state.mode = Mode()
            return name, delay, self.state.generation

    def execute(self, kind: str, key: str, fp: str, record: dict, generation: int) -> dict | None:
        """Move the money (or decline), remember the answer for `key`. None if a reset came
        between the claim and now (the request belongs to a test that has finished)."""
        with self.lock:
            s = self.state
            if s.generation != generation:
                return None
            self.store.put(kind, record, key=key, fp=fp, answer=record,
                           executed={"kind": kind, **record})
            s.in_flight.pop(key, None)
            (s.payouts if kind == "payout" else s.debits)[record["id"]] = record
            s.executions.append({"kind": kind, **record})
            s.stored[key] = Stored(fp, 201, record)
            return record

    def find(self, kind: str, *, key: str | None = None, id_: str | None = None) -> dict | None:
        with self.lock:
            table = self.state.payouts if kind == "payout" else self.state.debits
            if id_ is not None:
                return table.get(id_)
            return next((r for r in table.values() if r["idempotency_key"] == key), None)

    # -- checkout sessions ------------------------------------------------------------------------
    def store_session(self, key: str, fp: str, session: dict, answer: dict) -> None:
        with self.lock:
            self.store.put("session", session, key=key, fp=fp, answer=answer)
            self.state.in_flight.pop(key, None)
            self.state.sessions[session["id"]] = session
            self.state.stored[key] = Stored(fp, 201, answer)

    def session(self, session_id: str) -> dict | None:
        with self.lock:
            found = self._current(session_id)
            return dict(found) if found else None

    def _current(self, session_id: str) -> dict | None:
        """Under the lock: the session, expired first if its time is up (an open session is
        only ever paid or cancelled through here, so none is paid after it expired)."""
        found = self.state.sessions.get(session_id)
        if found is not None and found["status"] == "open" and self._expired(found):
            self._set(found, "expired", None)
        return found

    def _expired(self, session: dict) -> bool:
        expires_at = session.get("expires_at") or iso(
            parse_iso(session["created_at"]) + SESSION_LIFETIME)
        now = datetime.now(UTC) + timedelta(seconds=self.state.clock_offset)
        return now >= parse_iso(expires_at)

    def _set(self, session: dict, status: str, payment: dict | None) -> None:
        self.store.put("session", {**session, "status": status, "payment": payment})
        session["status"] = status
        session["payment"] = payment

    def settle_session(self, session_id: str, status: str, payment: dict | None) -> dict | None:
        """open -> paid|cancelled, once, and never after it expired. Returns the session as it
        now is."""
        with self.lock:
            found = self._current(session_id)
            if found is None:
                return None
            if found["status"] == "open":
                self._set(found, status, payment)
            return dict(found)
