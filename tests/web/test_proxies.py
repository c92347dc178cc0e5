"""Behind a reverse proxy: RETURNS_TRUSTED_PROXIES=N believes N proxies' X-Forwarded-* headers,
so per-address limits count each visitor, not the proxy; with 0 (the default) the headers are
ignored, so nobody dodges a limit by sending them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from flask import request

from returns_app import create_app
from returns_app.services import customers
from tests.builders import make_merchant, make_order
from tests.deployed import gunicorn
from tests.merchant_fixtures import STAFF_PASSWORD, make_shop

EMAIL = "kund@example.se"
PROXY = "10.0.0.2"  # the proxy's own address: what the app's socket sees
PACKAGE = Path(__file__).resolve().parents[2] / "returns_app"


@pytest.fixture
def make(owned_database):
    def make(trusted: int):
        app = create_app({
            "TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
            "DATABASE": owned_database.address, "BABEL_DEFAULT_LOCALE": "en_GB",
            "TRUSTED_PROXIES": trusted,
        })

        @app.get("/_probe")
        def probe():
            return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

        return app
    return make


@pytest.fixture
def order(owned_database, make):
    db = owned_database.connect()
    merchant, _ = make_merchant(db)
    found = make_order(db, merchant["id"])
    db.conn.close()
    return found


def via_proxy(forwarded_for: str | None) -> dict:
    """What a request looks like when the proxy passes it on: from the proxy's address, with the
    X-Forwarded-For the proxy wrote (the client's own entries, then the address it saw)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": headers}


def look_up(client, number: str, email: str, forwarded_for: str | None, api: bool):
    if api:
        return client.post("/api/v1/customer/session", json={"order_number": number,
                                                             "email": email},
                           **via_proxy(forwarded_for))
    return client.post("/", data={"order_number": number, "email": email},
                       **via_proxy(forwarded_for))


def fail_from_twenty_clients(client, api: bool, forwarded_for=lambda i: f"203.0.113.{i}"):
    for i in range(customers.LOOKUP_LIMIT_PER_CLIENT):
        response = look_up(client, f"100-000-{i:03d}", f"c{i}@example.se", forwarded_for(i), api)
        assert response.status_code in (404, 422), response.status_code


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_behind_a_trusted_proxy_twenty_failing_customers_dont_lock_out_the_next(make, order,
                                                                                 api):
    client = make(1).test_client()
    fail_from_twenty_clients(client, api)
    response = look_up(client, order["order_number"], EMAIL, "198.51.100.7", api)
    assert response.status_code == (201 if api else 302)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_without_trusted_proxies_a_spoofed_forwarded_for_does_not_dodge_the_limit(make, order,
                                                                                   api):
    client = make(0).test_client()
    fail_from_twenty_clients(client, api)  # one client, a made-up address per guess
    response = look_up(client, order["order_number"], EMAIL, "198.51.100.7", api)
    assert response.status_code == 429


def test_a_client_cant_put_a_made_up_address_in_front_of_the_proxys(make, order):
    """The trusted proxy appends the address it saw; what the client sent before it is not
    believed, so a guesser behind the proxy is still one address."""
    client = make(1).test_client()
    fail_from_twenty_clients(client, True, lambda i: f"203.0.113.{i}, 198.51.100.66")
    assert look_up(client, order["order_number"], EMAIL, "192.0.2.1, 198.51.100.66",
                   True).status_code == 429
    assert look_up(client, order["order_number"], EMAIL, "198.51.100.7", True).status_code == 201


@pytest.mark.parametrize("trusted, seen", [
    (0, {"addr": PROXY, "scheme": "http", "host": "localhost"}),
    (1, {"addr": "198.51.100.7", "scheme": "https", "host": "returns.example.se"}),
])
def test_forwarded_address_scheme_and_host_are_believed_only_from_trusted_proxies(make, trusted,
                                                                                  seen):
    response = make(trusted).test_client().get("/_probe", environ_base={"REMOTE_ADDR": PROXY},
                                               headers={"X-Forwarded-For": "198.51.100.7",
                                                        "X-Forwarded-Proto": "https",
                                                        "X-Forwarded-Host": "returns.example.se"})
    assert response.get_json() == seen


def test_two_trusted_proxies_take_the_address_the_outer_one_saw(make):
    response = make(2).test_client().get(
        "/_probe", environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7, 10.0.0.1"})
    assert response.get_json()["addr"] == "198.51.100.7"


def test_staff_sign_in_limits_count_each_client_behind_the_proxy(make, owned_database,
                                                                 cheap_hashing):
    db = owned_database.connect()
    shop = make_shop(db, "Test Shop", "staff@testshop.se")
    db.conn.close()
    client = make(1).test_client()
    for i in range(20):
        response = client.post("/merchant/signin", data={"email": f"guess{i}@shop.se",
                                                          "password": "guess"},
                               **via_proxy(f"203.0.113.{i}"))
        assert response.status_code == 422
    response = client.post("/merchant/signin", data={"email": shop["user"]["email"],
                                                      "password": STAFF_PASSWORD},
                           **via_proxy("198.51.100.7"))
    assert response.status_code == 302


def test_the_setting_comes_from_the_environment_and_must_be_a_count(monkeypatch, tmp_path):
    monkeypatch.setenv("RETURNS_TRUSTED_PROXIES", "2")
    assert create_app({"SECRET_KEY": "x"}).config["TRUSTED_PROXIES"] == 2
    monkeypatch.delenv("RETURNS_TRUSTED_PROXIES")
    assert create_app({"SECRET_KEY": "x"}).config["TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("RETURNS_TRUSTED_PROXIES", "yes")
    with pytest.raises(SystemExit, match="RETURNS_TRUSTED_PROXIES must be a whole number"):
        create_app({"SECRET_KEY": "x"})


def test_only_proxies_py_reads_the_client_address():
    """Every per-address limit keys on proxies.client_address(): no view reads the socket's
    address (the proxy's, behind one) or a forwarded header itself."""
    readers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if path.name != "proxies.py" and "sandbox" not in path.parts
                     and re.search(r"remote_addr|[\"']X[-_]FORWARDED|HTTP_X_FORWARDED",
                                   path.read_text(), re.IGNORECASE))
    assert readers == []


def test_gunicorn_leaves_forwarded_headers_to_the_app():
    from returns_app import gunicorn_conf

    assert gunicorn_conf.secure_scheme_headers == {}


@pytest.mark.parametrize("trusted, last", [("1", 201), ("0", 429)])
def test_the_lock_out_through_gunicorn_workers(tmp_path, owned_database, trusted, last):
    """The experiment as deployed (3 gunicorn workers): 20 customers behind one proxy fail an
    order look-up each; a 21st gets in only when the proxy is trusted. Untrusted, the made-up
    addresses are ignored and all 21 count against the proxy's one."""
    db = owned_database.connect()
    merchant, _ = make_merchant(db)
    found = make_order(db, merchant["id"])
    db.conn.close()
    log = tmp_path / "gunicorn.log"
    with gunicorn(owned_database, log, RETURNS_TRUSTED_PROXIES=trusted) as url:
        session = url + "/api/v1/customer/session"
        for i in range(customers.LOOKUP_LIMIT_PER_CLIENT):
            response = requests.post(session, timeout=30, headers={
                "X-Forwarded-For": f"203.0.113.{i}"}, json={
                "order_number": f"100-000-{i:03d}", "email": f"c{i}@example.se"})
            assert response.status_code == 404
        response = requests.post(session, timeout=30, headers={"X-Forwarded-For": "198.51.100.7"},
                                 json={"order_number": found["order_number"], "email": EMAIL})
        assert response.status_code == last
