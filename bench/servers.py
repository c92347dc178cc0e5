"""The processes the benchmark loads: gunicorn serving an app with the production settings
(README, "Serving it in production"), each on a free loopback port of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def gunicorn_command(app: str, port: int, workers: int) -> list[str]:
    """The production serving command (README, "Serving it in production"), on `port`."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:returns_app.gunicorn_conf",
            "--workers", str(workers), "--bind", f"{HOST}:{port}", app]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, app: str, workers: int, env: dict):
        self.port = free_port()
        # A file, not a pipe: the app logs a line per request on stderr, and a pipe nobody
        # reads fills up and stops the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop)
        # Only the engine the run asked for: a RETURNS_DATABASE_URL left in the caller's shell
        # would otherwise serve a SQLite run from PostgreSQL.
        inherited = {k: v for k, v in os.environ.items() if k != "RETURNS_DATABASE_URL"}
        self.proc = subprocess.Popen(gunicorn_command(app, self.port, workers), cwd=ROOT,
                                     env={**inherited, **env},
                                     stdout=subprocess.DEVNULL, stderr=self.log)

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn exited: {self.log.read().decode()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
