"""Log lines as JSON objects, one a line: time, level, logger, message, the request id in force
and any structured fields a caller passed (``extra={"fields": {...}}``). The web processes get
it from gunicorn's logconfig_dict (gunicorn_conf.py), the worker from `configure`.

The message is taken after masking.install_log_masking's record factory has masked it; a
traceback, which the factory never sees, is masked here."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from ..domain import masking, request_ids


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = request_ids.current.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["error"] = masking.mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """A process's root logger writes JSON lines to stderr (the worker's `main`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# gunicorn's logconfig_dict (gunicorn_conf.py): its own error log and every logger of the app
# through the root, as JSON on stderr; its access log is off (request_log.py writes one line per
# request instead).
GUNICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
