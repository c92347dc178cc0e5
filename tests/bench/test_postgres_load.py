"""bench/postgres_load.py, which `python -m bench.run --engine postgresql` serves from: a small
generated database loaded into PostgreSQL holds the same rows per table, generates ids past
the loaded ones, and the app serves an order page from it. Needs PostgreSQL (`make
test-postgres`): skips without a postgresql:// RETURNS_DATABASE_URL."""

from __future__ import annotations

import os
import sqlite3

import psycopg
import pytest

from bench import generate, postgres_load
from returns_app import create_app
from returns_app.store.postgres import POOLS, is_url

SERVER = os.environ.get("RETURNS_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not is_url(SERVER), reason="needs PostgreSQL: RETURNS_DATABASE_URL is not a postgresql://"
    " address (`make test-postgres` starts a throwaway server and sets it)")
ORDERS = 300


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / f"orders-{ORDERS}.sqlite3"
    generate.build(path, ORDERS, log=lambda *_: None)
    return path


@pytest.fixture(scope="module")
def template(generated):
    name = f"bench_load_{os.getpid()}_template"
    try:
        counts = postgres_load.make_template(SERVER, name, generated, log=lambda *_: None)
        yield name, counts
    finally:
        postgres_load.drop(SERVER, name)


@pytest.fixture
def copy(template):
    name = f"bench_load_{os.getpid()}"
    try:
        yield postgres_load.copy_of(SERVER, template[0], name)
    finally:
        POOLS.close_all()
        postgres_load.drop(SERVER, name)


def test_every_table_holds_as_many_rows_as_the_sqlite_file(generated, template, copy):
    source = sqlite3.connect(generated)
    lite = {name: source.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                          " AND name NOT LIKE 'sqlite_%'")}
    source.close()
    with psycopg.connect(copy) as pg:
        served = {name: pg.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                  for name in postgres_load.postgres_tables(pg)}
    assert served == lite == template[1]
    assert lite["orders"] == ORDERS and lite["order_line"] > ORDERS
    assert min(lite[name] for name in ("returns", "refund", "ledger_entry", "audit_event",
                                       "order_version", "return_status_count")) > 0


def test_ids_are_generated_past_the_loaded_ones(copy):
    with psycopg.connect(copy) as pg:
        for table in ("orders", "returns", "refund", "audit_event"):
            top = pg.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
            following = pg.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
                                   [table]).fetchone()[0]
            assert following == top + 1, table


def test_a_missing_row_fails_the_check_loudly(generated, copy):
    with psycopg.connect(copy) as pg:
        pg.execute("SET session_replication_role = replica")  # past the append-only guard
        pg.execute("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
    source = sqlite3.connect(generated)
    try:
        with pytest.raises(postgres_load.LoadMismatch, match="audit_event: .* in SQLite"):
            postgres_load.check_counts(source, copy)
    finally:
        source.close()


def test_the_app_serves_an_order_page_from_the_loaded_database(generated, copy, tmp_path):
    source = sqlite3.connect(generated)
    customer_id, order_id, number = source.execute(
        "SELECT customer_id, id, order_number FROM orders WHERE customer_id <= ?"
        " ORDER BY id LIMIT 1", [generate.SIGN_IN_CUSTOMERS]).fetchone()
    source.close()
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE": copy,
                      "PAGE_CACHE_PATH": str(tmp_path / "pages"), "WTF_CSRF_ENABLED": False,
                      "BABEL_DEFAULT_LOCALE": "en_GB"})
    client = app.test_client()
    signed_in = client.post("/signin", data={"email": generate.customer_email(customer_id),
                                             "password": generate.BENCH_PASSWORD})
    assert signed_in.status_code == 302
    page = client.get(f"/orders/{order_id}")
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)
