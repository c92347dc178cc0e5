"""The real sandbox provider as a subprocess, for any test that talks to the provider.

One server per test session (it starts in well under a second, but once is enough); the
`sandbox` fixture resets its memory and mode before and after each test. Register with
`pytest_plugins = ["tests.sandbox_fixtures"]` in conftest.py, or import `sandbox`.
"""

from __future__ import annotations

import contextlib
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
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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

    def ledger(self) -> dict:
        response = self.http.get(self.url + "/_sandbox/ledger", timeout=5)
        response.raise_for_status()
        return response.json()


def start_sandbox(log: Path) -> tuple[subprocess.Popen, SandboxServer]:
    """Start `python -m returns_app.sandbox_provider` on a free port; wait (bounded) until it
    answers. The caller stops it with `stop_sandbox`."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "returns_app.sandbox_provider",
             "--host", "127.0.0.1", "--port", str(port)],
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
