"""The money endpoints under real concurrency: the real app under gunicorn (4 sync worker
processes sharing one database: a SQLite file, or one on PostgreSQL under `make
test-postgres`), 50 threads released at once by a barrier, the real sandbox provider behind it.
Whatever the interleaving, one Idempotency-Key moves money once, every retry gets the first
answer byte for byte, and one item's value is refunded once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from returns_app.store.db import select
from tests import builders
from tests.builders import make_merchant, make_order, make_return
from tests.databases import Owned, own_database
from tests.sandbox_fixtures import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
CONCURRENCY = 50
JEANS = 1  # line index in builders.checkout_payload: 1 x 799 kr
JEANS_PRICE = 79900


@dataclass
class Served:
    url: str
    database: Owned
    api_key: str
    orders: dict[str, dict]
    returns: dict[str, dict]
    log: Path

    def db(self):
        return self.database.connect()


# --- the served app -----------------------------------------------------------------------------

ORDERS = {
    # name: (customer email, payment method at purchase, linked bank account)
    "bank": ("bank@example.se", "invoice", True),
    "card": ("card@example.se", "invoice", False),
    "mismatch-bank_account": ("mismatch-bank@example.se", "invoice", True),
    "mismatch-card": ("mismatch-card@example.se", "invoice", False),
    **{f"many-keys-{n}": (f"many-keys-{n}@example.se", "invoice", True) for n in range(8)},
    "register-one-key": ("reg-one@example.se", "card", False),
    "register-many-keys": ("reg-many@example.se", "card", False),
}


def link_bank_account(db, email: str) -> None:
    """As returns_app/demo.py links Erik's account (the app would have done it)."""
    customer_id = db.execute("SELECT id FROM customer WHERE email = ?", [email]).fetchone()[0]
    builders.link_bank_account(db, customer_id)


def seed(database: Owned) -> tuple[str, dict[str, dict], dict[str, dict]]:
    db = database.connect()
    try:
        merchant, api_key = make_merchant(db, "Concurrency Shop")
        orders, returns = {}, {}
        for name, (email, method, bank) in ORDERS.items():
            orders[name] = make_order(db, merchant["id"], merchant_reference=f"REF-{name}",
                                      payment_method=method,
                                      customer={"email": email, "name": "Kim Kund"})
            if bank:
                link_bank_account(db, email)
            if name.startswith("register"):
                returns[name] = make_return(db, orders[name], {JEANS: 1})
    finally:
        db.close()
    return api_key, orders, returns


def app_env(database: Owned, provider_url: str) -> dict[str, str]:
    return {**os.environ, **database.env,
            "RETURNS_SECRET_KEY": "concurrency-test-secret",
            "RETURNS_PROVIDER_URL": provider_url, "PYTHONUNBUFFERED": "1"}


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def served(sandbox_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    with own_database(tmp) as database:
        yield from serve(sandbox_server, tmp, database)


def serve(sandbox_server, tmp: Path, database: Owned):
    api_key, orders, returns = seed(database)
    port = free_port()
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "4",
             "--bind", f"127.0.0.1:{port}", "returns_app:create_app()"],
            cwd=ROOT, env=app_env(database, sandbox_server.url),
            stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/api/v1/openapi.json", timeout=1).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in {START_TIMEOUT}s:\n"
                                   f"{log.read_text()}")
            time.sleep(0.1)
        yield Served(url, database, api_key, orders, returns, log)
    finally:
        stop(proc)


# --- helpers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def burst(send, n: int = CONCURRENCY) -> tuple[list[Answer], float]:
    """`send(i)` from n threads released together; the answers and the burst's wall time."""
    barrier = threading.Barrier(n)
    starts, ends = [0.0] * n, [0.0] * n

    def one(i: int) -> Answer:
        barrier.wait(timeout=30)
        starts[i] = time.monotonic()
        response = send(i)
        ends[i] = time.monotonic()
        return Answer(response.status_code, response.content)

    with ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(one, range(n)))
    return answers, max(ends) - min(starts)


def customer_token(served: Served, name: str) -> str:
    order = served.orders[name]
    email = ORDERS[name][0]
    response = requests.post(served.url + "/api/v1/customer/session",
                             json={"order_number": order["order_number"], "email": email},
                             timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def pay(served: Served, token: str, order_id: int, key: str, body: dict):
    return requests.post(f"{served.url}/api/v1/orders/{order_id}/payments", json=body,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                         timeout=60)


def register(served: Served, return_id: int, key: str, body: dict):
    return requests.post(f"{served.url}/api/v1/returns/{return_id}/registration", json=body,
                         headers={"Authorization": f"Bearer {served.api_key}",
                                  "Idempotency-Key": key}, timeout=60)


def counts(db) -> dict[str, int]:
    return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("payment", "outbox", "idempotency_record", "audit_event",
                          "ledger_entry", "refund")}


def assert_all_identical(answers: list[Answer], status: int) -> dict:
    assert {a.status for a in answers} == {status}, sorted({(a.status, a.body) for a in answers})
    assert len({a.body for a in answers}) == 1, sorted({a.body for a in answers})
    return answers[0].json


def assert_error_shape(answer: Answer) -> None:
    error = answer.json["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"].strip()


# --- payments -----------------------------------------------------------------------------------

def test_fifty_identical_bank_payments_schedule_one_debit(served):
    order_id = served.orders["bank"]["id"]
    token = customer_token(served, "bank")
    body = {"amount": 10000, "method": "bank_account"}

    answers, took = burst(lambda i: pay(served, token, order_id, "bank-pay-1", body))

    first = assert_all_identical(answers, 201)
    assert first["amount"] == 10000 and first["method"] == "bank_account"
    assert first["status"] == "scheduled"
    db = served.db()
    try:
        payments = list(select(db, "SELECT * FROM payment WHERE order_id = ?", [order_id]))
        assert [p["id"] for p in payments] == [first["id"]]
        assert payments[0]["idempotency_key"] == "bank-pay-1"
        debits = list(select(db, "SELECT * FROM outbox WHERE kind = 'debit' AND subject_id = ?",
                               [first["id"]]))
        assert len(debits) == 1
        assert db.execute("SELECT count(*) FROM idempotency_record WHERE key = 'bank-pay-1'"
                          ).fetchone()[0] == 1
    finally:
        db.close()
    print(f"\n50 concurrent bank payments, one key: {took:.2f}s")


def test_fifty_identical_card_payments_open_one_checkout(served, sandbox):
    order_id = served.orders["card"]["id"]
    token = customer_token(served, "card")
    body = {"amount": 12345, "method": "card"}

    answers, took = burst(lambda i: pay(served, token, order_id, "card-pay-1", body))

    first = assert_all_identical(answers, 201)
    assert first["method"] == "card" and first["status"] == "pending"
    assert first["amount"] == 12345 and first["checkout_url"].startswith(sandbox.url)
    db = served.db()
    try:
        payments = list(select(db, "SELECT * FROM payment WHERE order_id = ?", [order_id]))
        assert [p["id"] for p in payments] == [first["id"]]
        assert db.execute("SELECT count(*) FROM outbox WHERE subject_id = ? AND kind = 'debit'",
                          [first["id"]]).fetchone()[0] == 0
        session_id = payments[0]["provider_ref"]
    finally:
        db.close()
    # The provider was asked once: one checkout session, for this payment and amount.
    ledger = sandbox.ledger()
    assert ledger["requests_per_key"] == {f"order-{order_id}-card-pay-1": 1}
    assert ledger["executions"] == []
    session = requests.get(f"{sandbox.url}/v1/checkout-sessions/{session_id}", timeout=5).json()
    assert (session["status"], session["amount"]) == ("open", 12345)
    print(f"\n50 concurrent card payments, one key: {took:.2f}s")


@pytest.mark.parametrize("method", ["bank_account", "card"])
def test_the_same_key_with_another_amount_is_refused_and_writes_nothing(served, sandbox, method):
    name = f"mismatch-{method}"
    order_id = served.orders[name]["id"]
    token = customer_token(served, name)
    first = pay(served, token, order_id, "reused-key", {"amount": 5000, "method": method})
    assert first.status_code == 201, first.text
    db = served.db()
    try:
        before = counts(db)
        ledger_before = sandbox.ledger()["requests_per_key"]

        answers, _ = burst(lambda i: pay(served, token, order_id, "reused-key",
                                         {"amount": 6000 + i, "method": method}), n=10)

        assert {a.status for a in answers} == {422}, [a.body for a in answers]
        for answer in answers:
            assert_error_shape(answer)
            assert answer.json["error"]["code"] == "invalid"
        assert counts(db) == before
        assert sandbox.ledger()["requests_per_key"] == ledger_before
        # And the first answer is still what the key gives back.
        again = pay(served, token, order_id, "reused-key", {"amount": 5000, "method": method})
        assert (again.status_code, again.content) == (201, first.content)
    finally:
        db.close()


# The race this catches is a few milliseconds wide (a card payment's provider call, before its
# payment row exists): several rounds, each on a fresh order, make missing it unlikely.
@pytest.mark.parametrize("name", [f"many-keys-{n}" for n in range(8)])
def test_fifty_payments_with_different_keys_leave_one_way_to_pay(served, sandbox, name):
    """Each asks for everything payable now (by card; on the last order half of them from the
    bank account). A new card payment replaces the open one (issue 15: it is cancelled at the
    provider first), so several may start one after another, but when the burst is over at
    most one card checkout is still open at the provider and one debit scheduled, every other
    checkout is cancelled there (it can't take money), and nothing was paid twice."""
    order_id = served.orders[name]["id"]
    token = customer_token(served, name)
    order = requests.get(f"{served.url}/api/v1/orders/{order_id}", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()
    payable = order["amounts"]["payable_now"]
    assert payable > 0
    mixed = name.endswith("-7")

    answers, took = burst(lambda i: pay(
        served, token, order_id, f"{name}-{i}",
        {"amount": payable, "method": "bank_account" if mixed and i % 2 else "card"}))

    statuses = [a.status for a in answers]
    assert statuses.count(201) >= 1, statuses
    assert set(statuses) <= {201, 409, 422}, statuses
    for answer in answers:
        if answer.status != 201:
            assert_error_shape(answer)
    db = served.db()
    try:
        started = list(select(db, "SELECT id, amount_minor, method, status, provider_ref"
                                " FROM payment WHERE order_id = ?", [order_id]))
        assert statuses.count(201) == len(started) == db.execute(
            "SELECT count(*) FROM idempotency_record WHERE key LIKE ?",
            [f"{name}-%"]).fetchone()[0], started
    finally:
        db.close()
    assert {p["amount_minor"] for p in started} == {payable}, started
    open_cards = [p for p in started if p["status"] == "pending"]
    scheduled = [p for p in started if p["status"] == "scheduled"]
    assert len(open_cards) <= 1 and len(scheduled) <= 1, started
    assert all(p["status"] in ("pending", "scheduled", "cancelled") for p in started), started
    sessions = {p["provider_ref"]: requests.get(
        f"{sandbox.url}/v1/checkout-sessions/{p['provider_ref']}", timeout=10).json()["status"]
        for p in started if p["method"] == "card"}
    assert sorted(sessions.values()) == sorted(
        "open" if p["status"] == "pending" else "cancelled"
        for p in started if p["method"] == "card"), (started, sessions)
    assert "paid" not in sessions.values()
    print(f"\n50 concurrent payments, 50 keys: {took:.2f}s "
          f"({statuses.count(409)} x 409, {statuses.count(422)} x 422)")


# --- the merchant's registration ----------------------------------------------------------------

def _refund_rows(db, order_id: int) -> tuple[list[dict], int, int]:
    refunds = list(select(db, "SELECT * FROM refund WHERE order_id = ?", [order_id]))
    ledger = db.execute("SELECT count(*) FROM ledger_entry WHERE order_id = ? AND kind ="
                        " 'refund'", [order_id]).fetchone()[0]
    payouts = db.execute(
        "SELECT count(*) FROM outbox WHERE kind = 'payout' AND subject_id IN"
        " (SELECT id FROM refund WHERE order_id = ?)", [order_id]).fetchone()[0]
    return refunds, ledger, payouts


def accept_jeans(ret: dict) -> dict:
    return {"items": [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}


def test_fifty_identical_registrations_refund_once(served):
    ret = served.returns["register-one-key"]
    order_id = served.orders["register-one-key"]["id"]

    answers, took = burst(lambda i: register(served, ret["id"], "register-1", accept_jeans(ret)))

    first = assert_all_identical(answers, 200)
    assert first["status"] == "resolved"
    assert first["items"][0]["accepted_quantity"] == 1
    db = served.db()
    try:
        refunds, ledger, payouts = _refund_rows(db, order_id)
        assert [(r["amount_minor"], r["status"], r["destination_kind"]) for r in refunds] == [
            (JEANS_PRICE, "ready", "card")]
        assert (ledger, payouts) == (1, 1)
    finally:
        db.close()
    print(f"\n50 concurrent registrations, one key: {took:.2f}s")


def test_fifty_registrations_with_different_keys_accept_the_item_once(served):
    ret = served.returns["register-many-keys"]
    order_id = served.orders["register-many-keys"]["id"]

    answers, took = burst(lambda i: register(served, ret["id"], f"register-many-{i}",
                                             accept_jeans(ret)))

    statuses = [a.status for a in answers]
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 422}, statuses
    for answer in answers:
        if answer.status != 200:
            assert_error_shape(answer)
    db = served.db()
    try:
        refunds, ledger, payouts = _refund_rows(db, order_id)
        assert [r["amount_minor"] for r in refunds] == [JEANS_PRICE]
        assert (ledger, payouts) == (1, 1)
        # The refused registrations left no key behind: a retry of one of them is judged anew.
        assert db.execute("SELECT count(*) FROM idempotency_record WHERE key LIKE"
                          " 'register-many-%'").fetchone()[0] == 1
        accepted = db.execute("SELECT accepted_quantity FROM return_item WHERE id = ?",
                              [ret["items"][0]["id"]]).fetchone()[0]
        assert accepted == 1
    finally:
        db.close()
    print(f"\n50 concurrent registrations, 50 keys: {took:.2f}s "
          f"({statuses.count(409)} x 409, {statuses.count(422)} x 422)")
