"""Two app hosts against one PostgreSQL, as the README's production commands run them.

Each "host" is a folder of its own (its working directory, so its own `instance/` and kept-pages
shelf), its own gunicorn master on its own port with several workers, and its own worker
process (`python -m returns_app.worker`), all from the wheel installed by tests/system's
`installed` fixture. Both share what hosts share in production: the database (a database of
their own on RETURNS_DATABASE_URL's server, dropped afterwards), the secret key, the payment
provider (the sandbox) and the SMTP relay (the mail catcher). The schema is migrated and the
demo loaded once, from host a, through the product's own commands.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from tests.system.conftest import (
    Deployment,
    _start,
    _stop,
    _wait_for,
    free_port,
    production_command,
    run,
)

POSTGRES_URL = os.environ.get("RETURNS_DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgresql://", "postgres://"))
SKIP_REASON = ("several hosts share one database only on PostgreSQL: RETURNS_DATABASE_URL is not a"
               " postgresql:// address (`make test-postgres` starts a throwaway server and sets"
               " it)")
HOSTS = ("a", "b")
WEB_WORKERS = 3  # gunicorn workers per host
# Shorter than the default (store/outbox.py, 158 s) so a dead worker's row is taken over within
# the test, yet longer than a payout held by the sandbox (HANG_SECONDS) plus its two write
# transactions: a live worker never loses its row to the other host.
LEASE_SECONDS = 8
SHOP = "Nordic Outfitters"
TIMEOUT = 60


@dataclass
class Answer:
    host: str
    status: int
    body: bytes


@dataclass
class Burst:
    """What a burst of concurrent requests got back: per host, how many answered what."""
    what: str
    answers: list[Answer]
    seconds: float

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.answers)

    def line(self) -> str:
        per_host = "; ".join(
            f"host {h}: " + ", ".join(f"{n} x {s}" for s, n in sorted(Counter(
                a.status for a in self.answers if a.host == h).items()))
            for h in HOSTS)
        return (f"{self.what}: {len(self.answers)} requests in {self.seconds:.2f} s "
                f"({per_host})")


@dataclass
class Cluster:
    database_url: str
    provider_url: str
    hosts: dict[str, Deployment]
    services: Deployment
    api_keys: dict[str, str]
    flask_command: list[str]
    numbers: list[str] = field(default_factory=list)
    demo_refunds: dict[int, str] = field(default_factory=dict)  # id: status, as loaded
    bursts: list[Burst] = field(default_factory=list)

    def summary(self) -> str:
        answered = Counter(a.status for b in self.bursts for a in b.answers)
        return (f"in all: {sum(len(b.answers) for b in self.bursts)} concurrent requests in"
                f" {len(self.bursts)} bursts, {sum(b.seconds for b in self.bursts):.1f} s of"
                f" bursts; answered {dict(sorted(answered.items()))}")

    def flask(self, host: str, *args: str) -> str:
        """The installed product's command, run on that host: its output."""
        where = self.hosts[host]
        return run([*self.flask_command, *args], cwd=where.folder, env=where.env)

    def url(self, i: int) -> tuple[str, str]:
        """The i-th request's host, taking turns: its name and address."""
        name = HOSTS[i % len(HOSTS)]
        return name, self.hosts[name].base_url

    def worker_owner(self, host: str) -> str:
        """The lease owner that host's worker writes (worker/rounds.worker_name)."""
        return f"{socket.gethostname()}:{self.hosts[host].procs['worker'].pid}"

    def rows(self, sql: str, params=()) -> list[dict]:
        with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, params=()):
        return next(iter(self.rows(sql, params)[0].values()))

    def ledger(self) -> dict:
        return requests.get(self.provider_url + "/_sandbox/ledger", timeout=10).json()

    def sandbox_mode(self, mode: str, delay: float | None = None) -> None:
        requests.post(self.provider_url + "/_sandbox/mode", timeout=10,
                      json={"mode": mode, "times": None, "delay": delay}).raise_for_status()

    def record(self, line: str) -> None:
        self.numbers.append(line)
        print(f"\n{line}")

    # -- through the JSON API ---------------------------------------------------------------

    def new_order(self, n: int, payment_method: str, label: str) -> dict:
        """An order as the shop's checkout sends it, through host (n)'s API."""
        now = datetime.now(UTC)
        _, base = self.url(n)
        response = requests.post(
            base + "/api/v1/orders", timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {self.api_keys[SHOP]}"},
            json={"merchant_reference": f"HOSTS-{label}-{n}", "currency": "SEK",
                  "payment_method": payment_method,
                  "customer": {"email": f"hosts-{label}-{n}@example.se",
                               "name": f"Kund {label} {n}"},
                  "purchased_at": (now - timedelta(days=4)).isoformat(timespec="seconds"),
                  "delivered_at": (now - timedelta(days=2)).isoformat(timespec="seconds"),
                  "lines": [{"sku": "JEANS", "name": "Jeans", "quantity": 1,
                             "unit_price": 79900},
                            {"sku": "TEE", "name": "T-shirt", "quantity": 2,
                             "unit_price": 19900}]})
        assert response.status_code == 201, response.text
        return response.json()

    def customer_token(self, order: dict, host: int = 0) -> str:
        response = requests.post(self.url(host)[1] + "/api/v1/customer/session",
                                 timeout=TIMEOUT,
                                 json={"order_number": order["order_number"],
                                       "email": order["customer"]["email"]})
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def report_jeans(self, order: dict, token: str, host: int = 0) -> requests.Response:
        return requests.post(
            f"{self.url(host)[1]}/api/v1/orders/{order['id']}/returns", timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}"},
            json={"items": [{"line_id": order["lines"][0]["id"], "quantity": 1,
                             "reason": "too_small"}]})

    def register(self, return_id: int, item_id: int, key: str, host: int) -> requests.Response:
        return requests.post(
            f"{self.url(host)[1]}/api/v1/returns/{return_id}/registration", timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {self.api_keys[SHOP]}", "Idempotency-Key": key},
            json={"items": [{"return_item_id": item_id, "accepted_quantity": 1}]})

    def burst(self, what: str, send, n: int) -> Burst:
        """`send(i, host_url)` from n threads released together, turn about over the hosts."""
        barrier = threading.Barrier(n)
        starts, ends = [0.0] * n, [0.0] * n

        def one(i: int) -> Answer:
            host, base = self.url(i)
            barrier.wait(timeout=30)
            starts[i] = time.monotonic()
            response = send(i, base)
            ends[i] = time.monotonic()
            return Answer(host, response.status_code, response.content)

        with ThreadPoolExecutor(max_workers=n) as pool:
            answers = list(pool.map(one, range(n)))
        done = Burst(what, answers, max(ends) - min(starts))
        self.bursts.append(done)
        self.record(done.line())
        return done


def _database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def _drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def deployed(installed, folder: Path):
    """Both hosts serving, the sandbox provider and the mail relay beside them."""
    name = f"returns_hosts_{os.getpid()}"
    database_url = _database(POSTGRES_URL, name)
    provider, mail = free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("RETURNS_", "FLASK_", "PYTHON", "VIRTUAL_ENV", "WEB_"))}
    base_env.update({
        "PATH": f"{installed.venv / 'bin'}{os.pathsep}{base_env.get('PATH', '')}",
        # What every host is given alike (README, "Serving it in production").
        "RETURNS_SECRET_KEY": secrets.token_hex(32),
        "RETURNS_DATABASE_URL": database_url,
        "WEB_CONCURRENCY": str(WEB_WORKERS),
        "RETURNS_PROVIDER_URL": f"http://127.0.0.1:{provider}",
        "RETURNS_SMTP_HOST": "127.0.0.1",
        "RETURNS_SMTP_PORT": str(mail),
        "RETURNS_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    })
    services = _deployment(folder / "services", "", base_env)
    hosts: dict[str, Deployment] = {}
    for host in HOSTS:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        hosts[host] = _deployment(folder / f"host-{host}", base_url, {
            **base_env, "RETURNS_BIND": f"127.0.0.1:{port}", "RETURNS_PUBLIC_URL": base_url})
    python = installed.bin("python")
    try:
        _start(services, "sandbox-provider", [
            python, "-m", "returns_app.provider.sandbox", "--port", str(provider), "--quiet",
            "--database", str(services.folder / "sandbox-provider.sqlite3")])
        _start(services, "mail-relay", [python, "-m", "returns_app.mailcatcher",
                                        "--port", str(mail)])
        first = hosts[HOSTS[0]]
        migrate = production_command("flask")
        run([installed.bin(migrate[0]), *migrate[1:]], cwd=first.folder, env=first.env)
        demo = run([installed.bin("flask"), "--app", "returns_app", "load-demo"],
                   cwd=first.folder, env=first.env)
        api_keys = dict(re.findall(r"^\s+(.+?)\s+API key: (\S+)$", demo, re.M))
        for host in hosts.values():
            for command, role in ((production_command("gunicorn"), "web"),
                                  (production_command("python"), "worker")):
                _start(host, role, [installed.bin(command[0]), *command[1:]])
        _wait_for(services, base_env["RETURNS_PROVIDER_URL"] + "/checkout/none",
                  "sandbox-provider")
        for host in hosts.values():
            _wait_for(host, host.base_url + "/", "web")
        yield Cluster(database_url, base_env["RETURNS_PROVIDER_URL"], hosts, services, api_keys,
                      [installed.bin("flask"), "--app", "returns_app"])
    finally:
        for deployment in (*hosts.values(), services):
            for proc in reversed(deployment.procs.values()):
                _stop(proc)
        _drop(POSTGRES_URL, name)


def _deployment(folder: Path, base_url: str, env: dict[str, str]) -> Deployment:
    logs = folder / "logs"
    logs.mkdir(parents=True)
    return Deployment(base_url, env.get("RETURNS_PROVIDER_URL", ""), folder, {}, env, logs)


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
