"""The admin commands on Flask's CLI, run through app.test_cli_runner()."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from returns_app.demo import DEMO_MERCHANTS
from returns_app.domain import clock
from returns_app.domain.passwords import verify_password
from returns_app.services import orders
from tests.api_helpers import bearer, count
from tests.builders import checkout_payload, make_merchant, make_order, make_return
from tests.rows import all_rows, by_id, every_value

API_KEY = re.compile(r"\brk_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def run(cli, *args):
    return cli.invoke(args=list(args), catch_exceptions=False)


def succeeded(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def the_key(output: str) -> str:
    keys = API_KEY.findall(output)
    assert len(keys) == 1, output
    return keys[0]


# --- create-merchant ------------------------------------------------------------------------

def test_create_merchant_prints_its_api_key_once(cli, db):
    output = succeeded(run(cli, "create-merchant", "Shop AB"))
    key = the_key(output)
    assert output.count(key) == 1
    assert "Shop AB" in output
    assert [m["name"] for m in all_rows(db, "merchant")] == ["Shop AB"]


def test_only_the_keys_hash_is_stored(cli, db):
    key = the_key(succeeded(run(cli, "create-merchant", "Shop AB")))
    rows = all_rows(db, "merchant_api_key")
    assert len(rows) == 1
    assert rows[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    for row in rows:
        for column, value in row.items():
            assert key not in str(value), column
    # ...nor anywhere else in the database (audit trail included).
    assert key not in every_value(db)


def test_the_printed_key_authenticates_the_orders_api(cli, client, db):
    key = the_key(succeeded(run(cli, "create-merchant", "Shop AB")))
    response = client.post("/api/v1/orders", json=checkout_payload(), headers=bearer(key))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["merchant"]["name"] == "Shop AB"


@pytest.mark.parametrize("second", ["Shop AB", "shop ab", "  Shop AB "])
def test_duplicate_merchant_name_fails_clearly(cli, db, second):
    succeeded(run(cli, "create-merchant", "Shop AB"))
    result = run(cli, "create-merchant", second)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert not API_KEY.search(result.output)
    assert count(db, "merchant") == count(db, "merchant_api_key") == 1


def test_merchant_needs_a_name(cli, db):
    result = run(cli, "create-merchant", "   ")
    assert result.exit_code != 0
    assert "name" in result.output.lower()
    assert count(db, "merchant") == 0


# --- create-support-user --------------------------------------------------------------------

def test_create_support_user_prints_a_password_that_verifies_against_the_stored_hash(cli, db):
    output = succeeded(run(cli, "create-support-user", "a@b.se"))
    match = re.search(r"Password[^:]*:\s*(\S+)", output)
    assert match, output
    password = match.group(1)
    assert len(password) >= 12

    (user,) = all_rows(db, "support_user")
    assert user["email"] == "a@b.se"
    assert user["password_hash"] != password
    assert password not in user["password_hash"]
    assert verify_password(user["password_hash"], password)
    assert not verify_password(user["password_hash"], password + "x")


def test_support_user_twice_or_with_a_bad_email_fails(cli, db):
    succeeded(run(cli, "create-support-user", "a@b.se"))
    again = run(cli, "create-support-user", "A@B.se")
    assert again.exit_code != 0 and "already exists" in again.output
    bad = run(cli, "create-support-user", "not-an-email")
    assert bad.exit_code != 0 and "email" in bad.output.lower()
    assert count(db, "support_user") == 1


# --- load-demo ------------------------------------------------------------------------------

def test_load_demo_loads_three_merchants_once(cli, db):
    output = succeeded(run(cli, "load-demo"))
    names = [name for name, _ in DEMO_MERCHANTS]
    assert sorted(m["name"] for m in all_rows(db, "merchant")) == sorted(names)
    assert len(names) == 3
    assert len(API_KEY.findall(output)) == 3
    orders_loaded = count(db, "orders")
    assert orders_loaded > 0

    again = succeeded(run(cli, "load-demo"))
    assert "demo data not loaded" in again
    assert not API_KEY.search(again)
    assert count(db, "merchant") == 3
    assert count(db, "orders") == orders_loaded


# --- expire-returns -------------------------------------------------------------------------

def noon(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_expire_returns_ends_a_reported_return_after_its_send_by_date(cli, db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"], merchant_reference="E-1")
    kept_open = make_return(db, order, {0: 1})
    sent = make_return(db, order, {1: 1})
    db.execute("UPDATE returns SET status = 'sent' WHERE id = ?", [sent["id"]])
    send_by = datetime.fromisoformat(kept_open["send_by"]).date()

    with time_machine.travel(noon(send_by), tick=False):
        assert "Expired 0 return(s)" in succeeded(run(cli, "expire-returns"))
    assert by_id(db, "returns", kept_open["id"])["status"] == "reported"

    with time_machine.travel(noon(send_by + timedelta(days=1)), tick=False):
        assert "Expired 1 return(s)" in succeeded(run(cli, "expire-returns"))
        expired_at = clock.now_iso()
    row = by_id(db, "returns", kept_open["id"])
    assert (row["status"], row["expired_at"]) == ("expired", expired_at)
    assert by_id(db, "returns", sent["id"])["status"] == "sent"
    # The pause on the expired item ended; the sent one (jeans, 79900) is still paused.
    details = orders.order_details(db, order["id"])
    assert details["amounts"].paused == 79900
    assert details["lines"][0]["returnable_quantity"] == 2
