"""gunicorn reads this file from the working directory; the settings live in the package, so
that an installed wheel serves with the same ones (``-c python:returns_app.gunicorn_conf``)."""

from returns_app.gunicorn_conf import *  # noqa: F403
