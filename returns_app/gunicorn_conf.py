"""gunicorn's settings for the web app, the same for `make run` and production.

The top-level ``gunicorn.conf.py`` (which gunicorn reads from the working directory by itself)
imports this module, and an installed package names it as ``-c python:returns_app.gunicorn_conf``:
one set of settings whether the app runs from a checkout or from a wheel. Flags given on the
command line win over these.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from returns_app.link_paths import hide_link_tokens


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
accesslog = "-"
# Emailed links carry their token in the path: the access log shows "[token]" instead.
logger_class = AccessLog
# Forwarded headers are believed in one place, the app's ProxyFix, for exactly the number of
# proxies RETURNS_TRUSTED_PROXIES names (proxies.py); gunicorn would otherwise take
# X-Forwarded-Proto from any client connecting over loopback.
secure_scheme_headers: dict[str, str] = {}


def on_starting(server):
    # In the arbiter, before any worker forks: one line and exit, rather than a traceback from
    # every worker that fails to boot.
    from returns_app.config import require_secret_key

    require_secret_key()
