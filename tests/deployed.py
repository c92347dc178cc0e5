"""The web app as deployed, for tests of what crosses processes: gunicorn with several workers
on a database of the test's own (tests/databases.py: a file, or one on PostgreSQL), CSRF on,
started on a free port and stopped at the end."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.databases import Owned
from tests.sandbox_fixtures import free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


@contextlib.contextmanager
def gunicorn(database: Owned, log: Path, workers: int = 3, **env: str) -> Iterator[str]:
    """Serve `returns_app:create_app()` on `database` (already migrated); yields its URL."""
    port = free_port()
    environment = {"PATH": "/usr/bin:/bin", "RETURNS_ENV": "development",
                   "RETURNS_SECRET_KEY": "deployed-test-secret", **database.env,
                   "RETURNS_PAGE_CACHE_SIZE": "0", **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:returns_app.gunicorn_conf",
             "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "returns_app:create_app()"],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/", timeout=2).ok:
                    break
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
