"""`python run.py [--port N]`: migrate, load demo data on first start, and run every process the
app needs (the sandbox payment provider, the development mail catcher, the web app under gunicorn
and the background worker), stopping them all on Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from returns_app import create_app
from returns_app.demo import load_demo, sign_in_help
from returns_app.store.db import is_server_address
from returns_app.store.migrations import migrate
from returns_app.web.database_session import get_db


def prepare(app) -> None:
    with app.app_context():
        db = get_db()
        applied = migrate(db)
        if applied:
            print(f"Database {app.config['DATABASE']}: applied {', '.join(applied)}")
        loaded = load_demo(db, app.config["BANKGIRO"])
        if loaded:
            print(loaded)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def children(host: str, port: int, provider_port: int | None,
             mail_port: int | None = None) -> dict[str, list[str]]:
    sandbox = {} if provider_port is None else {
        "sandbox-provider": [sys.executable, "-m", "returns_app.provider.sandbox",
                             "--host", host, "--port", str(provider_port)],
    }
    catcher = {} if mail_port is None else {
        "mail-catcher": [sys.executable, "-m", "returns_app.mailcatcher",
                         "--host", host, "--port", str(mail_port)],
    }
    return sandbox | catcher | {
        "web": [sys.executable, "-m", "gunicorn", "--config", "python:returns_app.gunicorn_conf",
                "--workers", "2", "--bind", f"{host}:{port}", "returns_app:create_app()"],
        "worker": [sys.executable, "-m", "returns_app.worker"],
    }


def supervise(commands: dict[str, list[str]]) -> int:
    procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping everything.")
                code = proc.returncode or 1
                stopping = True
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


REFUSAL_OUTSIDE_DEVELOPMENT = (
    "run.py loads demo data with published demo passwords: it runs only with"
    " RETURNS_ENV=development (RETURNS_ENV is {env!r}); serve production as the README's"
    " \"Serving it in production\" says")


def main(argv: list[str] | None = None) -> int:
    # A developer's machine: a kept secret key, /dev/mail, plain http (config.py).
    os.environ.setdefault("RETURNS_ENV", "development")
    if os.environ["RETURNS_ENV"] != "development":
        raise SystemExit(REFUSAL_OUTSIDE_DEVELOPMENT.format(env=os.environ["RETURNS_ENV"]))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    # The sandbox payout provider runs beside the app unless a real provider is configured.
    provider_port = None
    if "RETURNS_PROVIDER_URL" not in os.environ:
        provider_port = free_port(args.host)
        os.environ["RETURNS_PROVIDER_URL"] = f"http://{args.host}:{provider_port}"
    # In development emails go to a mail catcher beside the app, unless SMTP is configured.
    mail_port = None
    if os.environ["RETURNS_ENV"] == "development" and \
            "RETURNS_SMTP_HOST" not in os.environ:
        mail_port = free_port(args.host)
        os.environ["RETURNS_SMTP_HOST"] = args.host
        os.environ["RETURNS_SMTP_PORT"] = str(mail_port)
    os.environ.setdefault("RETURNS_PUBLIC_URL", f"http://{args.host}:{args.port}")
    app = create_app()
    prepare(app)
    # The sandbox keeps its payouts beside the app's database (in the instance folder when that
    # is on a PostgreSQL server), so a restart forgets none.
    database = app.config["DATABASE"]
    beside = Path(app.instance_path) if is_server_address(database) else Path(database).parent
    os.environ.setdefault("RETURNS_SANDBOX_DATABASE", str(beside / "sandbox-provider.sqlite3"))
    print(sign_in_help(f"http://{args.host}:{args.port}"), flush=True)
    print(f"  Payment provider: {os.environ['RETURNS_PROVIDER_URL']}", flush=True)
    if mail_port is not None:
        print(f"  Emails: http://{args.host}:{args.port}/dev/mail (caught on port {mail_port},"
              " never sent to anyone)", flush=True)
    return supervise(children(args.host, args.port, provider_port, mail_port))


if __name__ == "__main__":
    sys.exit(main())
