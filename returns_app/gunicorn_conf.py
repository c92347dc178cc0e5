"""gunicorn's settings for the web app, the same for `make run` and production.

The top-level ``gunicorn.conf.py`` (which gunicorn reads from the working directory by itself)
imports this module, and an installed package names it as ``-c python:returns_app.gunicorn_conf``:
one set of settings whether the app runs from a checkout or from a wheel. Flags given on the
command line win over these.

Importing this module changes nothing (the tests import it); the hooks below act only in a
gunicorn master and its workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.glogging import Logger

from .domain.link_paths import hide_link_tokens
from .web.json_logs import GUNICORN_LOGGING


class AccessLog(Logger):
    """gunicorn's logger, with emailed links' tokens hidden in every part of an access-log line
    (the request line, the path, the referrer a page opened from a link sends, any header)."""

    def atoms(self, resp, req, environ, request_time):
        return {name: hide_link_tokens(value) if isinstance(value, str) else value
                for name, value in super().atoms(resp, req, environ, request_time).items()}


bind = os.environ.get("RETURNS_BIND", "127.0.0.1:8000")
# Sync workers: each request holds a SQLite connection of its own thread; 2 per core keeps the
# cores busy while one worker waits on the disk.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
backlog = 2048
# Forwarded headers are believed in one place, the app's ProxyFix, for exactly the number of
# proxies RETURNS_TRUSTED_PROXIES names (proxies.py); gunicorn would otherwise take
# X-Forwarded-Proto from any client connecting over loopback.
secure_scheme_headers: dict[str, str] = {}
# The app writes one JSON line per request itself (request_log.py: the route, never the path,
# which may hold a signed link's token); gunicorn's own lines are JSON too.
accesslog = None
logconfig_dict = GUNICORN_LOGGING
# Should an operator turn gunicorn's access log on, emailed links' tokens show as "[token]".
logger_class = AccessLog
# The app is loaded in each worker after the fork, never in the master: prometheus-client must
# first be imported once PROMETHEUS_MULTIPROC_DIR is set (on_starting), which preloading breaks.
preload_app = False
# gunicorn 25+ opens a control socket at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
# ~/.gunicorn/gunicorn.ctl): two instances on one host (a blue-green switch, several hosts'
# worth on a test machine) take it from each other, and the one stopping deletes it for both.
# Nothing here uses gunicornc; the master is driven by signals (HUP reloads, TERM stops).
control_socket_disable = True

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_made_metrics_dir: str | None = None


def on_starting(server) -> None:
    """Before any worker starts: refuse to run without the secret key (one line and exit,
    rather than a traceback from every worker that fails to boot); then the folder where every
    worker keeps its metrics, empty. Set by the operator it is emptied (counts of a previous run
    would be added to this one's); unset, a fresh one under the system's temporary folder,
    removed again when the master exits."""
    global _made_metrics_dir
    from .config import require_secret_key

    require_secret_key()
    folder = os.environ.get(METRICS_DIR)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        _made_metrics_dir = tempfile.mkdtemp(prefix="returns-metrics-")
        os.environ[METRICS_DIR] = _made_metrics_dir
    server.log.info("metrics of all workers kept in %s", os.environ[METRICS_DIR])


def child_exit(server, worker) -> None:
    # A dead worker's live gauges go; its counters stay in the totals (prometheus-client's rule).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _made_metrics_dir is not None:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
