"""/healthz, /readyz and /metrics in-process: what each answers, what makes readiness fail and
say which part, and who may read the metrics. (tests/web/test_gunicorn_metrics.py serves them from
several gunicorn workers.)"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from returns_app import create_app
from returns_app.domain import clock, states
from returns_app.store import heartbeat, migrations, outbox
from returns_app.store.db import write_transaction
from returns_app.worker import rounds as worker
from tests.builders import make_merchant, make_order, make_return
from tests.databases import POSTGRES_URL
from tests.rows import all_rows

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def beating(app, db):
    """A worker that has just finished a round."""
    worker.run_once(app, "test-worker")


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a /metrics answer."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


# --- /healthz -----------------------------------------------------------------------------------

def test_healthz_answers_ok_without_touching_the_database(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE": str(tmp_path / "no" / "such" / "folder" / "db.sqlite3")})
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"
    assert not (tmp_path / "no").exists()


# --- /readyz ------------------------------------------------------------------------------------

def test_readyz_is_200_with_every_check_when_all_pass(client, beating):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready" and body["failed"] == []
    checks = body["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["migrations"] == {"ok": True, "pending": []}
    assert checks["worker"]["ok"] is True
    assert 0 <= checks["worker"]["heartbeat_age_seconds"] < 60


@pytest.fixture
def unreachable(tmp_path):
    """A database address nothing answers for: a file in a folder that isn't there, or on
    PostgreSQL a database its server doesn't have (its pool gives up after its wait)."""
    if not POSTGRES_URL:
        yield str(tmp_path / "gone" / "returns.sqlite3")
        return
    from returns_app.store.postgres import POOLS

    url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/returns_gone"))
    yield url
    POOLS.close(url)


def test_readyz_says_the_database_is_unreachable(tmp_path, unreachable):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": unreachable})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["failed"] == ["database"]
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["worker"]["ok"] is None  # not checked: no database to ask
    assert str(tmp_path) not in response.get_data(as_text=True)  # no path, no error text


@pytest.mark.sqlite_only(reason="a SQLite file holding something else than a database")
def test_readyz_says_a_file_that_is_not_a_database_is_unreachable(tmp_path):
    path = tmp_path / "returns.sqlite3"
    path.write_bytes(b"this is not a database, it is a text file " * 100)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(path)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]


def test_readyz_names_the_migrations_not_applied(client, beating, monkeypatch):
    def m999_next_version(db):
        db.execute("CREATE TABLE next_version (id INTEGER PRIMARY KEY)")

    # This code has a migration the database lacks: deployed before `flask migrate` ran.
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m999_next_version])
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == {"ok": False, "pending": ["m999_next_version"]}
    assert body["checks"]["database"]["ok"] and body["checks"]["worker"]["ok"]


def test_readyz_on_an_empty_database_names_every_migration(empty_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": empty_database.address})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["migrations", "worker"]
    assert body["checks"]["migrations"]["pending"] == [fn.__name__ for fn in
                                                       migrations.MIGRATIONS]


def test_readyz_fails_when_no_worker_ever_beat(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age_seconds"] is None


def test_readyz_fails_when_the_worker_stopped_beating_a_minute_ago(client, db):
    started = clock.now().replace(microsecond=0)  # beats are kept to the second
    heartbeat.beat(db, "w1", started)
    with time_machine.travel(started + timedelta(seconds=59), tick=False):
        assert client.get("/readyz").status_code == 200
    with time_machine.travel(started + timedelta(seconds=61), tick=False):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["failed"] == ["worker"]
        assert response.get_json()["checks"]["worker"]["heartbeat_age_seconds"] == 61
        # Another worker beating is enough.
        heartbeat.beat(db, "w2", clock.now())
        assert client.get("/readyz").status_code == 200


def test_the_worker_beats_every_round_and_forgets_workers_gone_for_a_day(app, db):
    worker.run_once(app, "host:1")
    with time_machine.travel(clock.now() + timedelta(days=2), tick=False):
        worker.run_once(app, "host:2")
        beats = {row["worker"]: row["beat_at"]
                 for row in all_rows(db, "worker_heartbeat", order_by="worker")}
        assert beats == {"host:2": clock.now_iso()}


def test_health_answers_need_no_sign_in_and_show_no_secret(app, client, beating):
    for url in ("/healthz", "/readyz"):
        text = client.get(url).get_data(as_text=True)
        assert app.config["DATABASE"] not in text and app.secret_key not in text
        assert "Set-Cookie" not in client.get(url).headers


# --- /metrics: who may read it ------------------------------------------------------------------

def test_metrics_are_served_to_loopback(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


@pytest.mark.parametrize("peer", ["203.0.113.7", "10.0.0.5", "192.168.1.20", "2001:db8::1"])
def test_metrics_are_404_to_any_other_address(client, peer):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == 404
    assert "returns_http" not in response.get_data(as_text=True)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_metrics_through_a_proxy_on_this_machine_are_404(client, header):
    # A proxy on loopback forwards the world's requests from 127.0.0.1: its header gives it away.
    response = client.get("/metrics", headers={header: "203.0.113.7"})
    assert response.status_code == 404


def test_metrics_with_the_token_are_served_to_any_address(app, client):
    app.config["METRICS_TOKEN"] = METRICS_TOKEN

    def from_elsewhere(authorization: str):
        return client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"},
                          headers={"Authorization": authorization,
                                   "X-Forwarded-For": "198.51.100.1"})

    ok = from_elsewhere(f"Bearer {METRICS_TOKEN}")
    assert ok.status_code == 200 and b"returns_http_requests_total" in ok.data
    assert from_elsewhere(f"bearer  {METRICS_TOKEN} ").status_code == 200
    for wrong in (f"Bearer {METRICS_TOKEN[:-1]}", f"Bearer {METRICS_TOKEN}x", "Bearer ",
                  f"Basic {METRICS_TOKEN}", METRICS_TOKEN):
        assert from_elsewhere(wrong).status_code == 404, wrong


def test_without_a_configured_token_no_bearer_opens_the_metrics(app, client):
    assert app.config["METRICS_TOKEN"] == ""
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"},
                          headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_the_token_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RETURNS_METRICS_TOKEN", METRICS_TOKEN)
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE": str(tmp_path / "x.sqlite3")})
    assert app.config["METRICS_TOKEN"] == METRICS_TOKEN


# --- /metrics: what it says ---------------------------------------------------------------------

def test_requests_are_counted_by_endpoint_and_status_with_their_latency(client):
    def requests_of(samples, endpoint, status):
        return samples.get(("returns_http_requests_total", (
            ("endpoint", endpoint), ("method", "GET"), ("status", status))), 0)

    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")
    after = scrape(client)
    assert requests_of(after, "operations.healthz", "200") - \
        requests_of(before, "operations.healthz", "200") == 2
    assert requests_of(after, "(no route)", "404") - requests_of(before, "(no route)", "404") == 1
    count = ("returns_http_request_duration_seconds_count", (("endpoint", "operations.healthz"),))
    assert after[count] - before.get(count, 0) == 2
    inf = ("returns_http_request_duration_seconds_bucket",
           (("endpoint", "operations.healthz"), ("le", "+Inf")))
    assert after[inf] == after[count]


def test_made_up_methods_share_one_label(client):
    for method in ("BREW", "WHEN", "PROPFIND"):
        client.open("/healthz", method=method)
    methods = {dict(labels)["method"] for name, labels in scrape(client)
               if name == "returns_http_requests_total"}
    assert "other" in methods and not methods & {"BREW", "WHEN", "PROPFIND"}


def test_outbox_refunds_and_stuck_gauges_come_from_the_database(client, db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    ret = make_return(db, order)  # writes an email of its own
    before = scrape(client)
    written = clock.now() - timedelta(minutes=10)
    with time_machine.travel(written, tick=False), write_transaction(db):
        outbox.enqueue(db, "email", 1)
        outbox.enqueue(db, "email", 2)
    with write_transaction(db):
        outbox.enqueue(db, "webhook", 3)
        outbox.enqueue(db, "payout", 4)
    failed = outbox.claim(db, "test-worker", ("payout",))
    with write_transaction(db):
        outbox.give_up(db, failed, "destination gone")
        db.execute("INSERT INTO refund (order_id, return_id, amount_minor, status, reason,"
                   " created_at, status_changed_at) VALUES (?, ?, 100, 'failed', 'return', ?, ?)",
                   [order["id"], ret["id"], clock.now_iso(), clock.now_iso()])
    samples = scrape(client)

    def gauge(name, **labels):
        return samples[(name, tuple(sorted(labels.items())))]

    def added(name, **labels):
        return gauge(name, **labels) - before[(name, tuple(sorted(labels.items())))]

    assert added("returns_outbox_pending", kind="email") == 2
    assert added("returns_outbox_pending", kind="webhook") == 1
    assert gauge("returns_outbox_pending", kind="payout") == 0
    assert gauge("returns_outbox_pending", kind="debit") == 0
    assert 600 <= gauge("returns_outbox_oldest_pending_age_seconds", kind="email") < 660
    assert gauge("returns_outbox_oldest_pending_age_seconds", kind="payout") == 0
    assert gauge("returns_outbox_failed", kind="payout") == 1
    assert gauge("returns_refunds", state="failed") == 1
    assert gauge("returns_refunds", state="succeeded") == 0
    assert {labels[0][1] for name, labels in samples if name == "returns_refunds"} == set(
        states.REFUND_STATUSES)  # every state, those with no refund at 0
    assert gauge("returns_stuck") >= 1
    assert gauge("returns_stuck_by_reason", reason="failed") == 1
    assert ("returns_worker_heartbeat_age_seconds", ()) not in samples  # no worker yet


def test_the_worker_heartbeat_age_is_a_gauge(app, client, beating):
    assert 0 <= scrape(client)[("returns_worker_heartbeat_age_seconds", ())] < 60


def test_a_long_round_of_deliveries_keeps_beating(app, db, monkeypatch):
    monkeypatch.setattr(worker, "BEAT_DURING_ROUND_SECONDS", 0)
    beats = []
    monkeypatch.setattr(heartbeat, "beat", lambda db, owner, now: beats.append(owner))
    with write_transaction(db):
        for n in range(3):
            outbox.enqueue(db, "webhook", 10_000 + n)  # no such event: each is given up on
    worker.deliver_outbox(app, "slow-worker", kinds=("webhook",))
    assert beats == ["slow-worker"] * 3
