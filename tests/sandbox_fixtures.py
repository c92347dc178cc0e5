"""The real sandbox provider as a subprocess, for any test that talks to the provider.

One server per test session (it starts in well under a second, but once is enough); the
`sandbox` fixture resets its memory and mode before and after each test. Register with
`pytest_plugins = ["tests.sandbox_fixtures"]` in conftest.py, or import `sandbox`.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 15.0


def free_port() -> int:
    """A port nothing listens on: one the system picks, or, when TEST_PORTS is set (e.g.
    "18100-18199", on a machine shared by several test runs), a free one in that range."""
    low, _, high = os.environ.get("TEST_PORTS", "").partition("-")
    candidates = random.sample(range(int(low), int(high) + 1), int(high) - int(low) + 1) \
        if low and high else [0]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in TEST_PORTS={os.environ['TEST_PORTS']}")


class SandboxServer:
    """A handle on the running sandbox: its URL and its test controls."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log
        self.http = requests.Session()

    def _post(self, path: str, body: dict | None = None) -> dict:
        response = self.http.post(self.url + path, json=body or {}, timeout=5)
        response.raise_for_status()
        return response.json()

    def mode(self, mode: str, times: int | None = None, delay: float | None = None) -> dict:
        return self._post("/_sandbox/mode", {"mode": mode, "times": times, "delay": delay})

    def reset(self) -> None:
        self._post("/_sandbox/reset")

    def advance_clock(self, seconds: float) -> dict:
        """Move the sandbox's clock on (checkout sessions expire by it); reset puts it back."""
        return self._post("/_sandbox/clock", {"advance_seconds": seconds})

    def ledger(self) -> dict:
        response = self.http.get(self.url + "/_sandbox/ledger", timeout=5)
        response.raise_for_status()
        return response.json()


def start_sandbox(log: Path, port: int | None = None,
                  database: Path | None = None) -> tuple[subprocess.Popen, SandboxServer]:
    """Start `python -m returns_app.provider.sandbox` on a free port (or `port`), its records
    in `database` (default: beside the log); wait (bounded) until it answers. The caller stops
    it with `stop_sandbox`."""
    port = port or free_port()
    database = database or log.with_suffix(".sqlite3")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "returns_app.provider.sandbox",
             "--host", "127.0.0.1", "--port", str(port), "--database", str(database)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = SandboxServer(f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if server.http.get(server.url + "/_sandbox/mode", timeout=1).ok:
                return proc, server
        time.sleep(0.05)
    stop_sandbox(proc)
    raise RuntimeError(f"sandbox did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


def stop_sandbox(proc: subprocess.Popen) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    proc, server = start_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.log")
    try:
        yield server
    finally:
        server.http.close()
        stop_sandbox(proc)


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    try:
        yield sandbox_server
    finally:
        sandbox_server.reset()
