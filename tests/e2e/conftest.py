"""Browser tests against the real app: `python run.py` on a free port, driven by Debian's chromium.

The server runs as in production (CSRF on, gunicorn, demo data loaded by run.py) on its own
database file. One server serves the whole session, so each test works on its own demo order or
line (see test_customer_flow.py) and never depends on another test having run.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
START_TIMEOUT = 20.0
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
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # run.py leads a session of its own: only ours
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of `python run.py --port N` on a fresh database; stopped after the session."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    port = _free_port()
    env = {
        **os.environ,
        "RETURNS_DATABASE": str(workdir / "returns.sqlite3"),
        "RETURNS_SECRET_KEY": secrets.token_hex(32),
    }
    env.pop("PORT", None)
    log_path = workdir / "server.log"
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


@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} is missing: install Debian's chromium (make chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser, server):
    """`new_page(viewport, js=False)`: a page in a fresh context (own cookies) on the server.

    Customers' pages must work without JavaScript, so contexts have it off unless asked.
    """
    contexts = []

    def make(viewport=PHONE, js: bool = False):
        context = browser.new_context(viewport=viewport, base_url=server,
                                      java_script_enabled=js, locale="en-GB")
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
