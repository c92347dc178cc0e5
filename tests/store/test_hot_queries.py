"""Every query a hot page or job runs is an index look-up, never a full scan of a big table.

The SQL is not listed here: it is captured (sqlite3's trace callback, with the values bound)
while the real pages, API endpoints and jobs run against a small generated database, and each
captured statement is then explained. A new query on any of these paths is checked without
anyone adding it here. The planner is given the statistics of the 1,000,000-order benchmark
database, so a query that only works because a table is small still fails.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bench import generate
from returns_app import create_app
from returns_app.notifications import reminders
from returns_app.services import customers, returns
from returns_app.store import db as db_module
from returns_app.store import outbox
from returns_app.web import database_session
from tests.support_helpers import sign_in_as

STATS = Path(__file__).resolve().parent / "hot_query_stats.json"
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Stockholm
# Tables that grow with orders; the others (merchants, their staff, keys, instructions
# versions, support users) stay small whatever the volume.
BIG_TABLES = frozenset({
    "orders", "order_line", "returns", "return_item", "ledger_entry", "payment", "refund",
    "outbox", "audit_event", "customer", "customer_token", "lookup_attempt", "notification",
    "reminder_decision", "idempotency_record", "webhook_message", "webhook_delivery",
    "stuck_candidate",  # grows with the backlog: only its partial indexes may be read whole
})
EXPLAINED = re.compile(r"^\s*(SELECT|WITH|UPDATE|DELETE|INSERT\s+.*\bSELECT\b)", re.I | re.S)

pytestmark = pytest.mark.sqlite_only(reason="SQLite's query plans (EXPLAIN QUERY PLAN and"
                                     " sqlite_stat1) on a generated SQLite database")


@pytest.fixture(scope="module")
def source_db(tmp_path_factory) -> Path:
    """A small generated database that the planner sees as the 1,000,000-order one: its
    statistics are those ANALYZE wrote there (hot_query_stats.json), so each query gets the
    plan it gets in production, not one that only suits a small table."""
    path = tmp_path_factory.mktemp("hot") / "generated.sqlite3"
    with time_machine.travel(NOW, tick=False):
        generate.build(path, 800, now=NOW, log=lambda *_: None)
    conn = db_module.connect(path)
    conn.execute("DELETE FROM sqlite_stat1")
    conn.conn.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                          json.loads(STATS.read_text()))
    conn.close()
    return path


@pytest.fixture
def traced(source_db, tmp_path, monkeypatch):
    """An app on a copy of the generated database, and the list every statement lands in."""
    path = tmp_path / "hot.sqlite3"
    shutil.copy(source_db, path)
    statements: list[str] = []

    def connect(target):
        conn = db_module.connect(target)
        conn.conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(database_session, "connect", connect)
    app = create_app({"TESTING": True, "SECRET_KEY": "hot", "DATABASE": str(path),
                      "WTF_CSRF_ENABLED": False, "BABEL_DEFAULT_LOCALE": "en_GB"})
    with time_machine.travel(NOW, tick=False):
        # The tests' own look-ups go through an untraced connection: only the app is judged.
        yield app, db_module.connect(path), statements


def plan(conn, sql: str) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()]


def partial_indexes(conn) -> set[str]:
    return {name for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")}


def full_scans(conn, sql: str) -> list[str]:
    """The plan's steps that read a whole big table or the whole of one of its indexes: a
    SCAN (with or without an index) reads every entry, and a SEARCH on ANY(first column) skips
    through all of an index's values; a SEARCH on a prefix reads a range. Reading all of a
    partial index is fine: it holds only the few rows its WHERE picks (unfinished refunds)."""
    big = set(BIG_TABLES) | {alias for table, alias in re.findall(
        r"\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)", sql, re.I) if table in BIG_TABLES}
    partial = partial_indexes(conn)
    bad = []
    for step in plan(conn, sql):
        match = re.match(r"(SCAN|SEARCH) (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", step)
        if not match or match[2] not in big:
            continue
        if match[1] == "SCAN" and match[3] not in partial or re.search(r"\(ANY\(", step):
            bad.append(step)
    return bad


def assert_indexed(conn, statements: list[str]) -> int:
    checked, problems = set(), []
    for sql in statements:
        if not EXPLAINED.match(sql) or sql in checked:
            continue
        checked.add(sql)
        if bad := full_scans(conn, sql):
            problems.append(f"{sql}\n    -> {bad}")
    assert not problems, "full scans of big tables:\n" + "\n".join(problems)
    return len(checked)


@contextmanager
def client_of(app) -> Iterator:
    with app.test_client() as client:
        yield client


def one(conn, sql: str, params=()):
    return conn.execute(sql, params).fetchone()


def test_the_plan_checker_catches_a_full_scan(traced):
    _app, conn, _ = traced
    assert full_scans(conn, "SELECT * FROM orders WHERE merchant_reference = 'x'")
    assert full_scans(conn, "SELECT count(*) FROM returns WHERE tracking_number = 'x'")
    assert not full_scans(conn, "SELECT * FROM orders WHERE order_number = '123-456-789'")
    assert not full_scans(conn, "SELECT * FROM merchant WHERE name = 'x'")  # small table
    # Reading all of a partial index is fine: it holds only the rows its WHERE picks.
    assert not full_scans(conn, "SELECT id, send_by FROM returns WHERE status = 'reported'"
                                " ORDER BY send_by")
    # The stuck queue's deadline rule as it was before stuck_candidate (m009): it read every
    # refund, or every return past the date, to find a few refunds.
    assert full_scans(conn, "SELECT refund.id FROM refund JOIN returns ON returns.id ="
                            " refund.return_id WHERE refund.status IN ('needs_details',"
                            " 'ready', 'sending', 'failed', 'unknown')"
                            " AND returns.refund_due_by <= '2025-03-14'")

def test_customer_pages_and_api(traced):
    app, conn, statements = traced
    order_id, customer_id = one(conn, "SELECT order_id, orders.customer_id FROM refund"
                                      " JOIN orders ON orders.id = refund.order_id"
                                      " ORDER BY refund.id LIMIT 1")
    return_id = one(conn, "SELECT id FROM returns WHERE order_id = ?", [order_id])[0]
    fresh_order, fresh_line, fresh_email = one(
        conn, "SELECT orders.id, order_line.id, customer.email FROM orders"
              " JOIN order_line ON order_line.order_id = orders.id"
              " JOIN customer ON customer.id = orders.customer_id"
              " WHERE delivered_at > ? AND returnable = 1"
              " AND NOT EXISTS (SELECT 1 FROM returns WHERE order_id = orders.id)"
              " ORDER BY orders.id LIMIT 1", [(NOW - timedelta(days=5)).isoformat()])
    with client_of(app) as client:
        sign_in_as(client, f"customer:{customer_id}")
        for path in ("/orders", f"/orders/{order_id}", f"/returns/{return_id}",
                     f"/orders/{order_id}/returns/new"):
            assert client.get(path).status_code == 200, path
        sign_in_as(client, None)
        number = one(conn, "SELECT order_number FROM orders WHERE id = ?", [fresh_order])[0]
        found = client.post("/", data={"order_number": number, "email": fresh_email})
        assert found.status_code == 302
        reported = client.post(f"/orders/{fresh_order}/returns/new",
                               data={f"qty_{fresh_line}": "1",
                                     f"reason_{fresh_line}": "too_small"})
        assert reported.status_code == 302, reported.text
        token = client.post("/api/v1/customer/session",
                            json={"order_number": number, "email": fresh_email}).json["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get(f"/api/v1/orders/{fresh_order}", headers=auth).status_code == 200
        assert client.get(f"/api/v1/orders/{fresh_order}/refunds",
                          headers=auth).status_code == 200
    assert assert_indexed(conn, statements) > 30


def test_merchant_inbox_every_filter_search_and_page(traced):
    app, conn, statements = traced
    merchant_id, user_id = one(conn, "SELECT merchant_id, id FROM merchant_user ORDER BY id")
    return_id, number = one(conn, "SELECT returns.id, order_number FROM returns JOIN orders"
                                  " ON orders.id = returns.order_id"
                                  " WHERE returns.merchant_id = ? LIMIT 1", [merchant_id])
    with client_of(app) as client:
        sign_in_as(client, f"merchant_user:{user_id}")
        for status in ("all", "overdue", *returns_statuses()):
            assert client.get(f"/merchant/returns?status={status}").status_code == 200
        page = client.get("/merchant/returns")
        after = re.search(r"after=([\w-]+)", page.text)
        assert after, "the biggest shop has more than one page of returns"
        assert client.get(f"/merchant/returns?after={after[1]}").status_code == 200
        assert client.get(f"/merchant/returns?q={number}").status_code == 200
        assert client.get(f"/merchant/returns/{return_id}").status_code == 200
    assert assert_indexed(conn, statements) > 15


def returns_statuses() -> tuple[str, ...]:
    from returns_app.domain.states import RETURN_STATUSES

    return RETURN_STATUSES


def test_support_queue_every_rule_and_search(traced):
    app, conn, statements = traced
    stuck_refund = one(conn, "SELECT id FROM refund WHERE status IN ('failed', 'unknown',"
                             " 'needs_details') LIMIT 1")
    email, number = one(conn, "SELECT customer.email, order_number FROM orders"
                              " JOIN customer ON customer.id = customer_id LIMIT 1")
    with client_of(app) as client:
        sign_in_as(client, "support_user:1")
        queue = client.get("/support/")
        assert queue.status_code == 200
        assert stuck_refund, "the generated data has stuck refunds"
        for q in (email, number, f"#{stuck_refund[0]}"):
            assert client.get(f"/support/search?q={q}").status_code == 200
        assert client.get("/api/v1/support/stuck-refunds").status_code == 200
    assert assert_indexed(conn, statements) > 10


def test_jobs_and_lookups(traced):
    _app, conn, statements = traced
    number, email = one(conn, "SELECT order_number, customer.email FROM orders"
                              " JOIN customer ON customer.id = customer_id LIMIT 1")
    conn = database_session.connect(conn.conn.execute("PRAGMA database_list").fetchone()[2])
    customers.find_order(conn, number, email, "127.0.0.1")
    with pytest.raises(Exception, match="couldn't find"):
        customers.find_order(conn, "000-000-000", email, "127.0.0.1")
    assert outbox.claim(conn, "hot-test") is not None
    outbox.claim(conn, "hot-test", ("payout",))
    returns.expire_overdue(conn)
    reminders.scan(conn)
    assert assert_indexed(conn, statements) > 8


def test_the_inbox_counts_kept_by_triggers_match_a_count(traced):
    """Every way a return is written (generated in bulk, reported, cancelled, registered,
    merchant_id filled by m003's trigger) keeps return_status_count equal to a real count."""
    app, conn, _ = traced
    test_customer_pages_and_api(traced)  # reports a return through the page
    with client_of(app) as client:
        merchant_id, user_id = one(conn, "SELECT merchant_id, id FROM merchant_user LIMIT 1")
        sign_in_as(client, f"merchant_user:{user_id}")
        return_id = one(conn, "SELECT id FROM returns WHERE merchant_id = ? AND status ="
                              " 'sent' LIMIT 1", [merchant_id])[0]
        conn.execute("UPDATE returns SET status = 'received' WHERE id = ?", [return_id])
    kept = {tuple(r) for r in conn.execute(
        "SELECT merchant_id, status, count FROM return_status_count WHERE count > 0")}
    counted = {tuple(r) for r in conn.execute(
        "SELECT merchant_id, status, count(*) FROM returns GROUP BY merchant_id, status")}
    assert kept == counted


def test_the_stuck_queue_triggers_touch_only_the_rows_that_changed(traced):
    """m009's triggers run inside every write to refunds, returns and the ledger: each of
    their statements (with NEW and OLD as values) is an index look-up too."""
    _app, conn, _ = traced
    bodies = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
        " AND name LIKE 'stuck_candidate_%'")]
    assert len(bodies) == 11  # m009's seven, m012's two on bank_payment, m021's two on payment
    statements = [re.sub(r"\b(NEW|OLD)\.\w+", "1", statement)
                  for body in bodies
                  for statement in body.split(" BEGIN ", 1)[1].rsplit("END", 1)[0].split(";\n")
                  if statement.strip()]
    assert assert_indexed(conn, statements) >= 10
