"""Every password sign-in (customer /signin, merchant staff, support) goes through one guarded
check (services/sign_in.py): per-account and per-address limits before any hash, the attempt
recorded before the password is checked (so parallel guesses can't race past the limit), and
an unknown account costing one hash like a known one."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.security import generate_password_hash

from returns_app.domain import clock, passwords
from returns_app.services import customers, merchant_users, sign_in, support
from returns_app.store.db import insert
from tests.builders import make_merchant
from tests.deployed import gunicorn

PASSWORD = "the-right-password"  # noqa: S105  (test data)


def make_customer(db, email: str, password_hash: str) -> None:
    insert(db, "customer", {"email": email, "name": "Kund", "password_hash": password_hash,
                            "created_at": clock.now_iso()})


def make_staff(db, table: str, email: str, password_hash: str) -> None:
    row = {"email": email, "password_hash": password_hash, "created_at": clock.now_iso()}
    if table == "merchant_user":
        merchant, _key = make_merchant(db, f"Shop of {email}")
        row |= {"merchant_id": merchant["id"], "name": "Staff"}
    insert(db, table, row)


# door: (page, service call, how to make an account with a password hash)
DOORS = {
    "customer": ("/signin", lambda db, e, p, c: customers.sign_in(db, e, p, c),
                 lambda db, e, h: make_customer(db, e, h)),
    "merchant": ("/merchant/signin", lambda db, e, p, c: merchant_users.sign_in(db, e, p, c),
                 lambda db, e, h: make_staff(db, "merchant_user", e, h)),
    "support": ("/support/signin", lambda db, e, p, c: support.sign_in(db, e, p, c),
                lambda db, e, h: make_staff(db, "support_user", e, h)),
}


@pytest.fixture(params=sorted(DOORS))
def door(request, db, cheap_hashing):
    page, call, make = DOORS[request.param]
    email = f"{request.param}@example.se"
    make(db, email, passwords.hash_password(PASSWORD))
    return {"name": request.param, "page": page, "call": call, "email": email}


def post(client, door, email=None, password=PASSWORD, client_ip="10.0.0.1"):
    return client.post(door["page"], data={"email": email or door["email"],
                                           "password": password},
                       environ_base={"REMOTE_ADDR": client_ip})


def test_five_failures_lock_the_account_even_for_the_right_password(client, door):
    for _ in range(sign_in.LIMIT_PER_ACCOUNT):
        assert post(client, door, password="guess").status_code == 422
    response = post(client, door)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert f'value="{door["email"]}"' in response.get_data(as_text=True)
    # Another account from the same address is not affected.
    assert post(client, door, email="other@example.se", password="guess").status_code == 422


def test_one_address_trying_many_accounts_is_limited(db, door):
    for i in range(sign_in.LIMIT_PER_CLIENT):
        with pytest.raises(sign_in.Unauthorized):
            door["call"](db, f"guess{i}@example.se", "guess", "10.0.0.9")
    with pytest.raises(sign_in.RateLimited):
        door["call"](db, door["email"], PASSWORD, "10.0.0.9")
    assert door["call"](db, door["email"], PASSWORD, "10.0.0.10")


def test_the_attempt_is_counted_before_the_password_is_checked(db, door, monkeypatch):
    seen = []

    def verify(stored, password):
        seen.append(db.execute("SELECT count(*) FROM lookup_attempt").fetchone()[0])
        return False

    monkeypatch.setattr(sign_in, "verify_password", verify)
    with pytest.raises(sign_in.Unauthorized):
        door["call"](db, door["email"], "guess", "10.0.0.1")
    assert seen == [2]  # one per bucket: the account and the address


def test_past_the_limit_no_password_is_hashed(db, door, monkeypatch):
    hashed = []
    real = sign_in.verify_password
    monkeypatch.setattr(sign_in, "verify_password",
                        lambda stored, password: hashed.append(1) or real(stored, password))
    for _ in range(sign_in.LIMIT_PER_ACCOUNT + 10):
        with pytest.raises((sign_in.Unauthorized, sign_in.RateLimited)):
            door["call"](db, door["email"], "guess", "10.0.0.1")
    assert len(hashed) == sign_in.LIMIT_PER_ACCOUNT


def test_an_unknown_account_costs_one_hash_against_the_fixed_dummy(db, door, monkeypatch):
    checked = []
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda stored, password: checked.append(stored) or False)
    monkeypatch.setattr(passwords, "generate_password_hash", None)  # nothing made on the way
    for email in (door["email"], "nobody@example.se"):
        with pytest.raises(sign_in.Unauthorized):
            door["call"](db, email, "guess", "10.0.0.1")
    known_hash = checked[0]
    assert checked == [known_hash, passwords.DUMMY_HASH]
    # The same method and work factor as the account's own hash: the same cost.
    assert known_hash.split("$")[0] == passwords.DUMMY_HASH.split("$")[0]


def test_the_dummy_hash_uses_the_real_parameters():
    assert passwords.DUMMY_HASH.startswith(passwords.SCRYPT_METHOD + "$")


def test_a_success_clears_the_accounts_failures(db, door):
    for _ in range(sign_in.LIMIT_PER_ACCOUNT - 1):
        with pytest.raises(sign_in.Unauthorized):
            door["call"](db, door["email"], "guess", "10.0.0.1")
    assert door["call"](db, door["email"], PASSWORD, "10.0.0.1")
    for _ in range(sign_in.LIMIT_PER_ACCOUNT - 1):
        with pytest.raises(sign_in.Unauthorized):
            door["call"](db, door["email"], "guess", "10.0.0.1")
    assert door["call"](db, door["email"], PASSWORD, "10.0.0.1")


# --- parallel guesses -------------------------------------------------------------------------

# Slow enough (PBKDF2 releases the GIL) that every guess of a burst is in flight at once, as
# scrypt's would be; what a check-then-hash-then-record sign-in lets through.
SLOW_HASH = "pbkdf2:sha256:300000"


@pytest.mark.parametrize("name", sorted(DOORS))
def test_a_parallel_burst_of_wrong_guesses_gets_at_most_the_limit_evaluated(app, db, name):
    page, _call, make = DOORS[name]
    make(db, "target@example.se", generate_password_hash(PASSWORD, SLOW_HASH))
    start = threading.Barrier(16)

    def guess(i: int) -> int:
        client = app.test_client()
        start.wait()
        return client.post(page, data={"email": "target@example.se", "password": f"guess{i}"},
                           environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(guess, range(16)))
    assert statuses.count(422) == sign_in.LIMIT_PER_ACCOUNT, statuses
    assert statuses.count(429) == 16 - sign_in.LIMIT_PER_ACCOUNT


# --- the same across gunicorn workers ---------------------------------------------------------

@pytest.fixture
def gunicorn_app(tmp_path, owned_database):
    """The app as deployed: gunicorn with 3 workers on a database of its own, CSRF on."""
    db = owned_database.connect()
    make_staff(db, "support_user", "agent@example.se", passwords.hash_password(PASSWORD))
    db.conn.close()
    with gunicorn(owned_database, tmp_path / "gunicorn.log", workers=3) as url:
        yield url


def test_a_burst_across_gunicorn_workers_gets_at_most_the_limit_evaluated(gunicorn_app):
    http = requests.Session()
    page = http.get(gunicorn_app + "/support/signin", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]

    def guess(i: int) -> int:
        return http.post(gunicorn_app + "/support/signin", timeout=120, data={
            "csrf_token": token, "email": "agent@example.se", "password": f"guess{i}"},
            allow_redirects=False).status_code

    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(guess, range(32)))
    assert statuses.count(422) <= support.SIGN_IN_LIMIT_PER_EMAIL, statuses
    assert statuses.count(422) + statuses.count(429) == 32, statuses
