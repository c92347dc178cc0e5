"""`python -m returns_app.provider.sandbox [--host H] [--port N] [--database PATH]`: serve the
sandbox provider until SIGTERM or SIGINT (Ctrl-C). Its records are kept in the SQLite file
PATH (default: RETURNS_SANDBOX_DATABASE, else beside RETURNS_DATABASE, else
instance/sandbox-provider.sqlite3), so a restart forgets nothing."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from werkzeug.serving import make_server

from . import create_sandbox_app
from .state import Sandbox
from .store import default_path


def _stop(signum, frame):
    raise KeyboardInterrupt  # werkzeug's serve_forever ends on it and closes the socket


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    parser.add_argument("--database", type=Path, default=None,
                        help="the SQLite file of its records")
    args = parser.parse_args(argv)
    database = args.database or default_path()
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(args.host, args.port, create_sandbox_app(Sandbox(database)),
                         threaded=True)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host, port = server.server_address[:2]
    print(f"sandbox provider listening on http://{host}:{port}, records in {database}",
          flush=True)
    server.serve_forever()  # returns on KeyboardInterrupt, socket closed
    print("sandbox provider stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
