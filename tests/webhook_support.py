"""Webhook test support: a merchant's webhook set up, a merchant user signed in, and a real HTTP
receiver (http.server on a free loopback port, in a thread).

Each POST is recorded (path, headers, raw body) and answered with the next queued answer, or
200 when none is queued. Answers: `status(code, body)`, `hang(seconds)` (no answer at all for
that long), `redirect(location)`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from requests.structures import CaseInsensitiveDict

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.services import webhook_settings
from returns_app.store.db import insert
from tests.session_helpers import session_keys


def set_webhook(db, merchant_id: int, url: str) -> str:
    """The merchant's URL, as its staff would save it; returns the signing secret."""
    return webhook_settings.set_url(db, merchant_id, url, "test", allow_local=True)


def make_merchant_user(db, merchant_id: int, email: str | None = None,
                       password: str | None = None, language: str = "en") -> int:
    """Without a password the account can't sign in with one (and no slow hash is computed).
    English unless asked: most tests read English pages and emails."""
    return insert(db, "merchant_user", {
        "merchant_id": merchant_id, "email": email or f"staff-{merchant_id}@shop.example",
        "name": "Shop Staff", "password_hash": hash_password(password) if password else "!",
        "created_at": clock.now_iso(), "language": language})


def sign_in_merchant(client, db, merchant_id: int) -> int:
    """Sign a new merchant user of `merchant_id` in, through the Flask-Login session."""
    user_id = make_merchant_user(db, merchant_id)
    with client.session_transaction() as session:
        session.update(session_keys(client.application, f"merchant_user:{user_id}"))
    return user_id


@dataclass(frozen=True)
class Received:
    path: str
    headers: CaseInsensitiveDict  # HTTP header names are case-insensitive
    body: bytes


def status(code: int, body: bytes = b"") -> tuple:
    return ("status", code, body)


def hang(seconds: float) -> tuple:
    return ("hang", seconds)


def redirect(location: str) -> tuple:
    return ("redirect", location)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[tuple] = deque()
        self.on_request = None  # called with each Received before it is answered
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def do_POST(self):  # noqa: N802  (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received = Received(self.path, CaseInsensitiveDict(self.headers.items()), body)
                receiver.received.append(received)
                if receiver.on_request:
                    receiver.on_request(received)
                answer = receiver.answers.popleft() if receiver.answers else status(200, b"ok")
                if answer[0] == "hang":
                    receiver._stopping.wait(answer[1])
                    answer = status(200, b"too late")
                try:
                    if answer[0] == "redirect":
                        self.send_response(302)
                        self.send_header("Location", answer[1])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(answer[1])
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer[2])))
                    self.end_headers()
                    self.wfile.write(answer[2])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker gave up waiting, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def answer(self, *answers: tuple) -> None:
        self.answers.extend(answers)
