"""`python run.py --port N` end to end: it migrates, loads the demo, serves, and Ctrl-C stops
every process it started."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from returns_app.demo import CUSTOMERS, sign_in_help

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20
STOP_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str, body: dict | None = None) -> tuple[int, str, str]:
    """(status, content type, text) of a GET on loopback, or a JSON POST when body is given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        if body is None:
            conn.request("GET", path)
        else:
            conn.request("POST", path, json.dumps(body),
                         headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rpartition(")")[2].split()[1])


def alive(pid: int) -> bool:
    """Running (a zombie has exited, it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {int(p.name) for p in Path("/proc").iterdir()
                    if p.name.isdigit() and parent_of(int(p.name)) in frontier}
        frontier = children - found
        found |= children
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"run.py exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            if fetch(port, "/")[0] == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"run.py did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def stop_group(proc: subprocess.Popen) -> None:
    """Clean-up whatever happened: the run.py started here leads its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@pytest.mark.parametrize("ctrl_c", ["run.py", "process group"], ids=[
    "sigint to run.py", "sigint to the group, as a terminal's Ctrl-C"])
def test_run_serves_the_demo_and_ctrl_c_stops_every_process(tmp_path, empty_database, ctrl_c):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    env = {**os.environ, **empty_database.env,
           "RETURNS_SECRET_KEY": "run-test-secret", "RETURNS_ENV": "development"}
    env.pop("PYTHONUNBUFFERED", None)  # the sign-in help must be flushed by run.py itself
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "run.py", "--port", str(port)],
                                cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_serving(proc, port, log)

        status, content_type, page = fetch(port, "/")
        assert (status, content_type.split(";")[0]) == (200, "text/html")
        assert "<form" in page
        status, content_type, text = fetch(port, "/api/v1/openapi.json")
        assert (status, content_type) == (200, "application/json")
        assert json.loads(text)["openapi"].startswith("3")
        # The demo order printed in the sign-in help can be found (the API needs no CSRF token).
        status, _, text = fetch(port, "/api/v1/customer/session", {
            "order_number": "482-913-057", "email": CUSTOMERS["anna"]["email"]})
        assert status == 201, text
        assert json.loads(text)["token"]
        assert not empty_database.is_empty()  # RETURNS_DATABASE (or _URL) was used
        assert sign_in_help(base) in log.read_text()
        assert "API key: rk_" in log.read_text()

        processes = descendants(proc.pid)
        assert len(processes) >= 2, processes  # gunicorn's master and its workers

        if ctrl_c == "run.py":
            proc.send_signal(signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=STOP_TIMEOUT)
        left = wait_until_gone(processes, STOP_TIMEOUT - (time.monotonic() - started))
        assert left == set(), f"still running after Ctrl-C: {left}"
        assert proc.returncode == 0, log.read_text()
        assert not listening(port)
    finally:
        stop_group(proc)


@pytest.mark.parametrize("env", ["production", "staging", ""])
def test_run_refuses_demo_data_outside_development_with_one_line(tmp_path, empty_database, env):
    done = subprocess.run(
        [sys.executable, "run.py", "--port", "1"], cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=60,
        env={**os.environ, "RETURNS_ENV": env, **empty_database.env,
             "RETURNS_SECRET_KEY": "k", "RETURNS_INSTANCE_PATH": str(tmp_path)})
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "RETURNS_ENV=development" in line and "demo" in line
    assert empty_database.is_empty()  # nothing migrated, no demo passwords loaded
