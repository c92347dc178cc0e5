"""Schemathesis over the OpenAPI document, in-process through WSGI, with every check it has.

The app runs on a test database with a merchant and its API key, orders, a return and a
refund, so generated requests reach the code behind authentication; each operation gets the
credentials its security scheme names. Operations the document lists but the app doesn't route
yet (built in other branches) are left out and printed; they join by themselves once routed.
Bounded and derandomized: the same cases every run, within the suite's time.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from returns_app import create_app
from returns_app.services import payments
from returns_app.store.db import connect
from tests.builders import decide, make_merchant, make_order, make_return
from tests.databases import own_database
from tests.openapi_contract import documented_operations, routed_operations, support_token

MAX_EXAMPLES = int(os.environ.get("RETURNS_SCHEMATHESIS_EXAMPLES", "100"))
EMAIL = "kund@example.se"
# Statuses a request the document allows may still get: it names no resource of its caller
# (404), breaks a rule only the database knows (409, 422), or is refused for repeated guessing.
SCHEMA_VALID_BUT_REFUSED = ["2xx", "401", "403", "404", "409", "422", "429"]
# A body too large is refused before it is read.
INVALID_AND_REFUSED = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]


def fuzz_app():
    """The app on a database of its own, with someone to be: built once, when pytest collects
    this module, because Schemathesis makes one test per operation from the document."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "BABEL_DEFAULT_LOCALE": "en_GB",
                      "DATABASE": DATABASE.address,
                      # Nothing listens on the discard port: a card payment is a quick 503.
                      "PROVIDER_URL": "http://127.0.0.1:9"})
    db = connect(app.config["DATABASE"])
    shop, key = make_merchant(db)
    make_merchant(db, "Other Shop")
    order = make_order(db, shop["id"], merchant_reference="A-1")
    payments.record_transfer(db, order["id"], 149700, "OCR-1", actor="test")
    decide(db, shop["id"], make_return(db, order, {1: 1}), (0, 1, 0))  # a refund owed
    make_return(db, order, {0: 1})
    token = app.test_client().post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": EMAIL}).get_json()["token"]
    credentials = {"merchantKey": key, "customerToken": token}
    if ("get", "/support/stuck-refunds") in routed_operations(app):
        credentials["supportToken"] = support_token(db)
    db.close()
    app.extensions["fuzz_credentials"] = credentials
    return app


DATABASE_DIR = tempfile.TemporaryDirectory(prefix="returns-fuzz-")
# The engine under test's, migrated (a file in DATABASE_DIR, or a database of its own on
# PostgreSQL), made while pytest collects this module and dropped when the process ends.
_OWNED = own_database(Path(DATABASE_DIR.name))
DATABASE = _OWNED.__enter__()
atexit.register(_OWNED.__exit__, None, None, None)
APP = fuzz_app()
ROUTED = routed_operations(APP)
# Every check is on unless switched off; max_response_time only measures time, and
# timing belongs to the benchmark, not to the tests.
CONFIG = SchemathesisConfig.from_dict({
    # The API ignores query parameters and body properties it doesn't know (the document
    # says so): a request that adds one is not invalid.
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                   "allow-extra-parameters": False},
    "checks": {
        "positive_data_acceptance": {"expected-statuses": SCHEMA_VALID_BUT_REFUSED},
        "negative_data_rejection": {"expected-statuses": INVALID_AND_REFUSED},
    },
})
FULL_SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP, config=CONFIG)
schema = FULL_SCHEMA.include(
    lambda ctx: (ctx.operation.method.lower(), ctx.operation.path) in ROUTED)


def test_only_operations_the_app_doesnt_route_are_left_out():
    left_out = documented_operations(FULL_SCHEMA.raw_schema) - ROUTED
    print("Left out, not routed in this branch:",
          ", ".join(f"{m.upper()} {p}" for m, p in sorted(left_out, key=lambda o: o[1]))
          or "none")
    assert left_out <= {("get", "/returns"), ("put", "/instructions"),
                        ("get", "/support/stuck-refunds")}


@schema.parametrize()
# No example database: the same cases every run, here and in CI.
@settings(suppress_health_check=list(HealthCheck), deadline=None, database=None)
def test_the_api_keeps_its_document(case):
    headers = {}
    for requirement in case.operation.definition.raw["security"][:1]:
        (scheme,) = requirement
        headers["Authorization"] = f"Bearer {APP.extensions['fuzz_credentials'][scheme]}"
    case.call_and_validate(headers=headers)
