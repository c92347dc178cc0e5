"""The operations endpoints as deployed: gunicorn with 3 workers, started the way run.py and the
README's production command start it (`-c python:returns_app.gunicorn_conf`), from a folder
outside the checkout and without PROMETHEUS_MULTIPROC_DIR. Requests spread over the workers,
and a scrape answered by any one of them counts every worker's requests; a worker that dies
keeps its counts in the totals; the log is JSON lines, one per request, naming the worker."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

PORTS = range(18200, 18300)  # this test's own range on a shared machine
WORKERS = 3
START_TIMEOUT = 30.0
HEALTHZ = ("operations.healthz", "GET", "200")


def a_free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    pytest.skip(f"no free port in {PORTS}")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path, env: dict, cwd: Path):
        self.proc, self.url, self.log, self.env, self.cwd = proc, url, log, env, cwd

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def access(self, endpoint: str) -> list[dict]:
        return [line for line in self.lines()
                if line["logger"] == "returns_app.access" and line["endpoint"] == endpoint]

    def requests_counted(self) -> tuple[float, int]:
        """(healthz requests the scrape reports, pid of the worker that answered the scrape)."""
        answered = len(self.access("operations.prometheus_metrics"))
        response = requests.get(self.url + "/metrics", timeout=10)
        assert response.status_code == 200, response.text
        count = 0.0
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name == "returns_http_requests_total" and (
                        labels["endpoint"], labels["method"], labels["status"]) == HEALTHZ:
                    count = sample.value
        scrapes = wait_for(lambda: self.access("operations.prometheus_metrics")[answered:],
                           10, "the scrape's log line")
        return count, scrapes[0]["pid"]

    def worker_pids(self) -> set[int]:
        return {line["pid"] for line in self.lines() if line["logger"] == "gunicorn.error"
                and line["message"].startswith("Booting worker")}


@pytest.fixture
def served(tmp_path, owned_database):
    elsewhere = tmp_path / "serve-from-here"  # not the checkout: no gunicorn.conf.py to find
    elsewhere.mkdir()
    env = {**os.environ, **owned_database.env, "RETURNS_ENV": "development",
           "RETURNS_SECRET_KEY": "gunicorn-metrics-test", "PYTHONUNBUFFERED": "1"}
    for name in ("PROMETHEUS_MULTIPROC_DIR", "RETURNS_METRICS_TOKEN"):
        env.pop(name, None)
    port = a_free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:returns_app.gunicorn_conf",
             "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
             "returns_app:create_app()"],
            cwd=elsewhere, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Served(proc, f"http://127.0.0.1:{port}", log, env, elsewhere)
    try:
        def answering():
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(requests.RequestException):
                return requests.get(server.url + "/healthz", timeout=1).ok
            return False

        wait_for(answering, START_TIMEOUT, "gunicorn to answer")
        wait_for(lambda: len(server.worker_pids()) >= WORKERS, START_TIMEOUT, "3 workers")
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def test_metrics_add_up_every_workers_requests(served):
    # Concurrent requests on fresh connections, until every worker has answered some.
    sent = 0
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(10):
            answers = list(pool.map(
                lambda _: requests.get(served.url + "/healthz", timeout=10).status_code,
                range(60)))
            assert answers == [200] * 60
            sent += 60
            if len({line["pid"] for line in served.access("operations.healthz")}) == WORKERS:
                break
    # Each worker's own log lines say what it answered (the fixture's polls included).
    per_worker = Counter(line["pid"] for line in served.access("operations.healthz"))
    total = sum(per_worker.values())
    assert total >= sent and len(per_worker) == WORKERS, per_worker
    assert max(per_worker.values()) < sent  # no one worker saw them all...

    # ...yet whichever worker answers a scrape reports them all. Which worker accepts a
    # connection is the kernel's choice: on a busy machine one idle worker can win a dozen in a
    # row, so scrape 12 times (each one checked) and on until a second worker has answered, at
    # most 60 times.
    answered_by = set()
    for scrape in range(1, 61):
        count, pid = served.requests_counted()
        assert count == total, (count, pid, per_worker)
        answered_by.add(pid)
        if scrape >= 12 and len(answered_by) >= 2:
            break
    assert len(answered_by) >= 2, answered_by  # the sums came from more than one worker

    # A worker that dies takes none of its counts along (gunicorn's child_exit tells the
    # library), and the worker gunicorn starts in its place counts on.
    victim = max(per_worker, key=per_worker.get)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(served.worker_pids()) > WORKERS, START_TIMEOUT, "a new worker")
    assert served.requests_counted()[0] == total
    assert requests.get(served.url + "/healthz", timeout=10).ok
    assert served.requests_counted()[0] == total + 1


def test_readiness_logs_and_metrics_folder_as_deployed(served):
    # No worker has run yet: not ready, and the answer says why.
    response = requests.get(served.url + "/readyz", timeout=10)
    assert response.status_code == 503 and response.json()["failed"] == ["worker"]

    worker = subprocess.run([sys.executable, "-m", "returns_app.worker", "--once"],
                            cwd=served.cwd, env=served.env, capture_output=True, text=True,
                            timeout=60)
    assert worker.returncode == 0, worker.stderr
    response = requests.get(served.url + "/readyz", timeout=10,
                            headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == "probe-1"

    # One JSON line per request (gunicorn's plain access log is off), gunicorn's own lines JSON.
    lines = served.lines()  # json.loads of every line: a plain line fails here
    (probe,) = [line for line in lines if line.get("request_id") == "probe-1"]
    assert (probe["route"], probe["status"], probe["client"]) == ("/readyz", 200,
                                                                       "127.0.0.1")
    assert {line["logger"] for line in lines} <= {"gunicorn.error", "returns_app.access"}
    for line in worker.stderr.splitlines():
        parsed = json.loads(line)
        assert parsed["time"] and parsed["level"] in ("INFO", "WARNING", "ERROR")

    # The metrics folder gunicorn made for itself goes when it stops.
    (made,) = [line["message"].rsplit(" ", 1)[1] for line in lines
               if line["message"].startswith("metrics of all workers kept in")]
    assert Path(made).is_dir() and list(Path(made).glob("*.db"))
    served.proc.send_signal(signal.SIGTERM)
    served.proc.wait(timeout=15)
    assert not Path(made).exists()


class _Server:
    class log:  # noqa: N801  (gunicorn's server.log, as the hooks use it)
        @staticmethod
        def info(*_args):
            pass


def test_an_operators_metrics_folder_is_emptied_at_start(tmp_path, monkeypatch):
    from returns_app import gunicorn_conf

    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"counts of the previous run")
    (folder / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    gunicorn_conf.on_starting(_Server())
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    gunicorn_conf.on_exit(_Server())
    assert folder.is_dir()  # the operator's folder stays


def test_importing_the_settings_changes_nothing(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    import importlib

    from returns_app import gunicorn_conf

    importlib.reload(gunicorn_conf)
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert gunicorn_conf.accesslog is None and gunicorn_conf.preload_app is False
