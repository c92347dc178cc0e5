"""Kept order pages and API answers: served again only while nothing they show has changed,
with a fresh CSRF token and payment key on every view, and a fresh render whenever the version
can't vouch for the page."""

from __future__ import annotations

import importlib
import re

import pytest

from returns_app import create_app
from returns_app.services import merchants
from returns_app.store.db import connect
from returns_app.store.migrations.speed import ORDER_VERSIONED
from returns_app.web import page_cache
from tests.builders import (
    INSTRUCTIONS,
    link_bank_account,
    make_merchant,
    make_order,
    make_return,
)

EMAIL = "kund@example.se"
# Tables a customer's order page and the API's order never show, and why. (The order's own
# row, with its merchant's and customer's names, is part of the key.)
NOT_SHOWN = {
    "customer_token": "API sessions: who may ask, checked before the cache on every request",
    "notification": "emails and texts about the order, never listed on its page",
    "reminder_decision": "why a reminder was or wasn't sent: support's view only",
    "support_approval": "the customer sees the refund's status, which the refund row carries",
    "stuck_candidate": "support's queue, derived from refunds and returns",
    "bank_payment": "the bank's line; the order page shows the payment row it booked",
}


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


@pytest.fixture
def opened(client, order):
    assert client.post("/", data={"order_number": order["order_number"],
                                  "email": EMAIL}).status_code == 302
    return order


@pytest.fixture
def renders(app, monkeypatch):
    """How many times the order page's template was rendered (not counting the tests' own
    check of every kept page against a fresh render)."""
    app.config["PAGE_CACHE_VERIFY"] = False
    return counted_renders(monkeypatch)


def counted_renders(monkeypatch) -> list:
    from returns_app.customer import routes
    count, real = [], routes._order_page
    monkeypatch.setattr(routes, "_order_page", lambda *a: count.append(1) or real(*a))
    return count


def version(db, order_id: int) -> int:
    row = db.execute("SELECT version FROM order_version WHERE order_id = ?",
                     [order_id]).fetchone()
    return row[0] if row else 0


@pytest.mark.sqlite_only(reason="reads SQLite's schema (sqlite_master, pragma_table_info);"
                                " tests/postgres/test_migrations.py holds PostgreSQL's equal")
def test_every_table_about_an_order_bumps_its_version_or_is_known_not_to_be_shown(db):
    about_an_order = {
        table for (table,) in db.execute(
            "SELECT DISTINCT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c"
            " WHERE m.type = 'table' AND c.name IN ('order_id', 'return_id', 'refund_id',"
            " 'payment_id', 'order_line_id')").fetchall()} - {"order_version"}
    assert about_an_order == set(ORDER_VERSIONED) | set(NOT_SHOWN)
    triggers = {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    for table in ORDER_VERSIONED:
        for action in ("insert", "update", "delete"):
            assert f"{table}_{action}_order_version" in triggers


def test_reporting_a_return_and_deciding_on_it_bump_the_version(db, order):
    start = version(db, order["id"])
    ret = make_return(db, order)
    reported = version(db, order["id"])
    assert reported > start
    db.execute("UPDATE return_item SET received_quantity = 1 WHERE return_id = ?", [ret["id"]])
    assert version(db, order["id"]) > reported

def test_another_orders_changes_leave_its_version_alone(db, order):
    other = make_order(db, order["merchant_id"])
    before = version(db, other["id"])
    make_return(db, order)
    assert version(db, other["id"]) == before


def test_a_second_view_is_served_without_rendering_with_its_own_payment_key(
        client, opened, renders):
    first = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    second = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    assert len(renders) == 1
    keys = [re.search(r'name="idempotency_key" type="hidden" value="(\w+)"', page)[1]
            for page in (first, second)]
    assert keys[0] != keys[1]
    for placeholder in page_cache.placeholders("test-secret"):
        assert placeholder not in second


def test_each_session_gets_its_own_csrf_token_from_the_kept_page(tmp_path, monkeypatch,
                                                                 owned_database):
    # An app of its own: pytest-flask keeps one app context (and its `g`, where Flask-WTF
    # keeps the signed token) around every request made through the `app` fixture.
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": True,
                      "PAGE_CACHE_VERIFY": False, "BABEL_DEFAULT_LOCALE": "en_GB",
                      "DATABASE": owned_database.address,
                      "PAGE_CACHE_PATH": str(tmp_path / "csrf-pages")})
    db = connect(app.config["DATABASE"])
    order = make_order(db, make_merchant(db)[0]["id"])
    renders = counted_renders(monkeypatch)
    tokens = []
    for _ in range(2):
        client = app.test_client()
        page = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        assert client.post("/", data={"order_number": order["order_number"], "email": EMAIL,
                                      "csrf_token": token}).status_code == 302
        page = client.get(f"/orders/{order['id']}").get_data(as_text=True)
        tokens.append(set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page)))
        # The kept page's forms work: the token it carries is this session's.
        pay = client.post(f"/orders/{order['id']}/payments",
                          data={"csrf_token": tokens[-1].pop(), "amount": "", "method": "card"})
        assert pay.status_code == 422  # the amount's error, not a CSRF refusal
        assert "Enter the amount you want to pay." in pay.get_data(as_text=True)
    assert len(renders) == 1 + 2  # one render kept for both sessions; each 422 re-rendered
    assert tokens[0].isdisjoint(tokens[1])


def test_a_page_kept_by_one_worker_process_works_when_another_serves_it(tmp_path, monkeypatch,
                                                                        owned_database):
    # Two processes in one: reloading page_cache makes every module-level value afresh, as a
    # second gunicorn worker's import does; the second app is that worker.
    config = {"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": True,
              "PAGE_CACHE_VERIFY": False, "BABEL_DEFAULT_LOCALE": "en_GB",
              "DATABASE": owned_database.address,
              "PAGE_CACHE_PATH": str(tmp_path / "workers-pages")}
    first = create_app(config)
    db = connect(first.config["DATABASE"])
    order = make_order(db, make_merchant(db)[0]["id"])
    renders = counted_renders(monkeypatch)
    client = first.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/").get_data(as_text=True))[1]
    client.post("/", data={"order_number": order["order_number"], "email": EMAIL,
                           "csrf_token": token})
    client.get(f"/orders/{order['id']}")
    importlib.reload(page_cache)
    second = create_app(config).test_client()
    second.set_cookie("session", client.get_cookie("session").value)
    page = second.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert len(renders) == 1  # the first worker's page, served by the second
    tokens = set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page))
    (token,) = tokens  # one session, one token, on every form
    assert not token.startswith("csrf-")
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    # Both forms get past the CSRF check (400): the amount's error, and the switch's redirect.
    for path, data, status in (
            (f"/orders/{order['id']}/payments", {"amount": "", "method": "card"}, 422),
            ("/language", {"language": "sv", "next": f"/orders/{order['id']}"}, 303)):
        assert second.post(path, data={**data, "csrf_token": token}).status_code == status


def test_a_change_to_the_order_shows_at_once(client, db, opened, renders):
    client.get(f"/orders/{opened['id']}")
    make_return(db, opened)
    page = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    assert len(renders) == 2
    assert "1 × Shirt" in page


def test_linking_a_bank_account_and_new_instructions_show_at_once(client, db, opened, renders):
    client.get(f"/orders/{opened['id']}")
    link_bank_account(db, opened["customer_id"])
    client.get(f"/orders/{opened['id']}")
    merchants.publish_instructions(db, opened["merchant_id"], INSTRUCTIONS.replace(
        "return_window_days: 30", "return_window_days: 60"), published_by="test")
    page = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    assert len(renders) == 3
    assert "60-day return window" in page


def test_a_flash_message_is_shown_on_a_fresh_render(client, opened, renders):
    client.get(f"/orders/{opened['id']}")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Done and dusted.")]
    page = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    assert "Done and dusted." in page
    assert len(renders) == 2
    assert "Done and dusted." not in client.get(f"/orders/{opened['id']}").get_data(
        as_text=True)


def test_the_header_and_language_are_part_of_the_key(client, opened, renders):
    english = client.get(f"/orders/{opened['id']}").get_data(as_text=True)
    swedish = client.get(f"/orders/{opened['id']}",
                         headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert len(renders) == 2
    assert "What you owe" in english and "What you owe" not in swedish


@pytest.mark.sqlite_only(reason="drops one of SQLite's order-version triggers by its SQLite name")
def test_a_change_the_version_misses_fails_loudly_in_the_tests(client, db, opened):
    client.get(f"/orders/{opened['id']}")
    db.execute("DROP TRIGGER order_line_update_order_version")
    db.execute("UPDATE order_line SET name = 'Renamed shirt' WHERE order_id = ?",
               [opened["id"]])
    with pytest.raises(page_cache.StalePage):
        client.get(f"/orders/{opened['id']}")


def test_another_customer_never_gets_the_kept_page(app, client, opened):
    client.get(f"/orders/{opened['id']}")
    stranger = app.test_client()
    assert stranger.get(f"/orders/{opened['id']}").status_code == 404


def test_the_api_answer_is_kept_until_the_order_changes(client, db, order):
    token = client.post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": EMAIL}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get(f"/api/v1/orders/{order['id']}", headers=headers)
    assert first.get_data() == client.get(f"/api/v1/orders/{order['id']}",
                                          headers=headers).get_data()
    make_return(db, order)
    after = client.get(f"/api/v1/orders/{order['id']}", headers=headers).get_json()
    assert after["lines"][0]["returnable_quantity"] == (
        first.get_json()["lines"][0]["returnable_quantity"] - 1)
    assert first.headers["Content-Type"] == "application/json"


def test_a_size_of_zero_renders_every_view(app, client, opened, renders):
    app.config["PAGE_CACHE_SIZE"] = 0
    page_cache.init_app(app)
    for _ in range(2):
        assert client.get(f"/orders/{opened['id']}").status_code == 200
    assert len(renders) == 2


def test_a_kept_return_page_shows_the_return_moving_at_once(client, db, opened, renders):
    from returns_app.services import returns
    from tests.builders import viewer_for
    ret = make_return(db, opened)
    for _ in range(2):
        assert "TRACK-123" not in client.get(f"/returns/{ret['id']}").get_data(as_text=True)
    returns.mark_sent(db, viewer_for(opened), ret["id"], "TRACK-123")
    assert "TRACK-123" in client.get(f"/returns/{ret['id']}").get_data(as_text=True)


def test_worker_processes_share_what_they_kept(app, client, opened, renders):
    client.get(f"/orders/{opened['id']}")
    other = create_app({**app.config, "PAGE_CACHE_VERIFY": False})  # another worker
    other_client = other.test_client()
    other_client.set_cookie("session", client.get_cookie("session").value)
    page = other_client.get(f"/orders/{opened['id']}")
    assert page.status_code == 200 and opened["order_number"] in page.get_data(as_text=True)
    assert len(renders) == 1


def test_a_shelf_that_cannot_be_opened_means_rendering_every_view(app, client, opened,
                                                                  renders, caplog, tmp_path):
    app.config["PAGE_CACHE_PATH"] = str(tmp_path / "missing-directory" / "pages")
    page_cache.init_app(app)
    for _ in range(2):
        assert client.get(f"/orders/{opened['id']}").status_code == 200
    assert len(renders) == 2
    assert "kept pages unavailable" in caplog.text
