"""Schemathesis against the app as it is served: gunicorn's workers on a loopback port, requests
over real HTTP (issue #17, item 5). The in-process run (tests/api/test_schemathesis.py) goes through
WSGI; this one also crosses what only a server does: a body read off a socket, headers as they
arrive, Content-Length and chunked bodies, several worker processes on one database.

Self-contained: its own database, server and credentials. Bounded (a few dozen cases per
operation, the same cases every run) to stay within a few minutes on a busy machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from returns_app import create_app
from returns_app.services import payments, support
from tests.builders import decide, make_merchant, make_order, make_return
from tests.databases import Owned, own_database
from tests.openapi_contract import routed_operations

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PORTS = range(18400, 18500)
MAX_EXAMPLES = int(os.environ.get("RETURNS_SCHEMATHESIS_SERVED_EXAMPLES", "25"))
EMAIL = "kund@example.se"
SCHEMA_VALID_BUT_REFUSED = ["2xx", "401", "403", "404", "409", "422", "429"]
INVALID_AND_REFUSED = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18400-18499")


def build_world(database: Owned, home: Path) -> None:
    """A merchant with an API key, an order paid in full with a refund owed and an open
    return, another merchant, and a support user: every operation has something to act on."""
    db = database.connect()
    shop, key = make_merchant(db)
    make_merchant(db, "Other Shop")
    order = make_order(db, shop["id"], merchant_reference="A-1")
    payments.record_transfer(db, order["id"], 149700, "OCR-1", actor="test")
    decide(db, shop["id"], make_return(db, order, {1: 1}), (0, 1, 0))
    make_return(db, order, {0: 1})
    support.create_support_user(db, "api-agent@example.se", actor="test")
    token = support.create_token(db, "api-agent@example.se", actor="test")
    (home / "credentials").write_text(f"{key}\n{token}\n{order['order_number']}\n")
    db.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app under gunicorn with two workers, as `make run` serves it; stopped afterwards."""
    home = tmp_path_factory.mktemp("served")
    with own_database(home) as database:
        yield from serve(home, database)


def serve(home: Path, database: Owned):
    build_world(database, home)
    merchant_key, support_token, order_number = (home / "credentials").read_text().split()
    port = free_port()
    # A file, not a pipe: the app logs a JSON line per request on stderr, and an unread pipe
    # fills up and stalls the server.
    log = (home / "gunicorn.log").open("wb")
    env = {**os.environ, **database.env, "RETURNS_SECRET_KEY": "served",
           # Nothing listens on the discard port: a card payment is a quick 503.
           "RETURNS_PROVIDER_URL": "http://127.0.0.1:9", "RETURNS_PAGE_CACHE_SIZE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:returns_app.gunicorn_conf",
         "--workers", "2", "--bind", f"{HOST}:{port}", "--access-logfile", "/dev/null",
         "returns_app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited: "
                                   f"{(home / 'gunicorn.log').read_text(errors='replace')}")
            try:
                requests.get(base + "/api/v1/openapi.json", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        session = requests.post(base + "/api/v1/customer/session", timeout=10, json={
            "order_number": order_number, "email": EMAIL})
        assert session.status_code == 201, session.text
        yield {"base": base, "credentials": {"merchantKey": merchant_key,
                                             "customerToken": session.json()["token"],
                                             "supportToken": support_token}}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


ROUTED = routed_operations(create_app({"TESTING": True, "SECRET_KEY": "x",
                                       "DATABASE": ":memory:"}))


@pytest.fixture(scope="module")
def served_schema(served):
    config = SchemathesisConfig.from_dict({
        "base-url": served["base"] + "/api/v1",
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "allow-extra-parameters": False},
        "checks": {
            "positive_data_acceptance": {"expected-statuses": SCHEMA_VALID_BUT_REFUSED},
            "negative_data_rejection": {"expected-statuses": INVALID_AND_REFUSED},
        },
    })
    schema = schemathesis.openapi.from_url(served["base"] + "/api/v1/openapi.json",
                                           config=config)
    return schema.include(
        lambda ctx: (ctx.operation.method.lower(), ctx.operation.path) in ROUTED)


def cases_of(operation, mode: GenerationMode, served, failures: list[str], ran: list) -> None:
    """Every case Hypothesis draws for `operation` in `mode`, sent to the server and checked;
    a failure is noted and the next operation still runs."""
    headers = {}
    for requirement in operation.definition.raw["security"][:1]:
        (scheme,) = requirement
        headers["Authorization"] = f"Bearer {served['credentials'][scheme]}"

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        ran.append(1)
        case.call_and_validate(headers=headers, timeout=30)

    try:
        check()
    except Exception as exc:  # noqa: BLE001  (each operation's failure is reported at the end)
        failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): "
                        f"{str(exc)[:2000]}")


def test_the_served_api_keeps_its_document(served_schema, served):
    failures: list[str] = []
    ran: list = []
    operations = [result.ok() for result in served_schema.get_all_operations()]
    assert {(op.method.lower(), op.path) for op in operations} == ROUTED
    for operation in operations:
        for mode in GenerationMode:
            cases_of(operation, mode, served, failures, ran)
    print(f"Schemathesis against the served app: {len(ran)} cases, {len(operations)} "
          f"operations, {len(failures)} failing")
    assert failures == [], "\n\n".join(failures)
