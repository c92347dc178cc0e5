"""Browser tests against the real app: `python run.py` on a free port, driven by Debian's chromium.

The server runs as in production (CSRF on, gunicorn, demo data loaded by run.py) on a database
of its own (a SQLite file, or one on PostgreSQL under `make test-postgres`: tests/databases.py)
and its own instance folder. One server serves the whole session, so each test that changes
anything works on a demo order nobody else changes, or on an order of its own (`make_order`),
and never depends on another test having run (see test_customer_flow.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tests.databases import env_for, own_database

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# run.py loads the demo data first: 16 s on a busy 2-core machine; E2E_START_TIMEOUT to change.
START_TIMEOUT = float(os.environ.get("E2E_START_TIMEOUT", "60"))
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own http URL)
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT to run.py (it stops its children), then kill its whole process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    # run.py leads a session of its own: its group is only our processes (gunicorn and workers).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server_folder(tmp_path_factory) -> Path:
    """The server's instance folder: its log, the sandbox provider's records, the kept pages."""
    return tmp_path_factory.mktemp("e2e-server")


@pytest.fixture(scope="session")
def server_database(server_folder) -> str:
    """The address of the database the server runs on (a fresh one per test session), which
    run.py migrates and fills with the demo data."""
    with own_database(server_folder, migrated=False) as owned:
        yield owned.address


@pytest.fixture(scope="session")
def server(server_folder, server_database):
    """Base URL of `python run.py --port N` on a fresh database; stopped after the session."""
    # E2E_PORT: a port of one's own where several people share the machine.
    port = int(os.environ.get("E2E_PORT") or _free_port())
    env = {
        **os.environ,
        **env_for(server_database),
        "RETURNS_INSTANCE_PATH": str(server_folder),
        "RETURNS_SANDBOX_DATABASE": str(server_folder / "sandbox-provider.sqlite3"),
        "RETURNS_SECRET_KEY": secrets.token_hex(32),
    }
    env.pop("PORT", None)
    log_path = server_folder / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "run.py", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(base_url + "/"):
                if proc.poll() is not None:
                    pytest.fail(f"run.py exited with {proc.returncode}:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"run.py did not answer on {base_url} within {START_TIMEOUT:.0f}"
                                f" s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base_url
        finally:
            _stop(proc)


@pytest.fixture(scope="session", autouse=True)
def subscribers_wired(server_database):
    """The services a test calls in this process (make_order, decisions.register, ...) tell
    their events to the subscribers create_app wires (emails, webhooks), as in the server:
    without an app made here, whether such a test's email is queued would depend on whether
    another test module made one first (test_webhooks.py does, at collection)."""
    from returns_app import create_app

    create_app({"SECRET_KEY": secrets.token_hex(16), "DATABASE": server_database})


@pytest.fixture
def make_order(server, server_database):
    """A new order of our own, as a checkout would send it: `make_order()` -> its details plus
    `email`. Tests that change an order's state use one, so no test depends on another's runs.

    Lines like demo order 482-913-057: jeans, two T-shirts, and briefs that can't be returned.
    """
    from returns_app.domain import clock
    from returns_app.services import orders
    from returns_app.store.db import connect

    db = connect(server_database)

    def make(merchant: str = "Nordic Outfitters", payment_method: str = "invoice") -> dict:
        (merchant_id,) = db.execute("SELECT id FROM merchant WHERE name = ?",
                                    [merchant]).fetchone()
        tag = secrets.token_hex(4)
        email = f"kund-{tag}@example.se"
        now = clock.now()
        order = orders.create_order(db, merchant_id, {
            "merchant_reference": f"E2E-{tag}",
            "customer": {"email": email, "name": "Kim Kund"},
            "currency": "SEK",
            "payment_method": payment_method,
            "purchased_at": clock.iso(now - timedelta(days=5)),
            "delivered_at": clock.iso(now - timedelta(days=3)),
            "lines": [
                {"sku": "JEANS-32-BLU", "name": "Straight jeans, blue, W32", "quantity": 1,
                 "unit_price": 79900},
                {"sku": "TEE-M-WHT", "name": "Organic T-shirt, white, M", "quantity": 2,
                 "unit_price": 19900},
                {"sku": "UW-BRIEF-M", "name": "Cotton briefs, 3-pack", "quantity": 1,
                 "unit_price": 14900},
            ],
        })
        return {**order, "email": email}

    yield make
    db.close()


@pytest.fixture
def new_page(browser, server):
    """`new_page(viewport, js=False, locale="en-GB")`: a page in a fresh context (own cookies)
    on the server, its browser asking for `locale`.

    Customers' pages must work without JavaScript, so contexts have it off unless asked.
    """
    contexts = []

    def make(viewport=PHONE, js: bool = False, locale: str = "en-GB"):
        context = browser.new_context(viewport=viewport, base_url=server,
                                      java_script_enabled=js, locale=locale)
        # A staff sign-in hashes with scrypt at 128 MiB: on a busy 2-core machine a click that
        # signs in took over 5 s. A wait only ends early, so a generous bound costs nothing.
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
