"""What each benchmarked endpoint is loaded with: requests spread over many orders, each with a
real session (signed in through the forms, CSRF tokens included) or a real API token.

A target file has one request per line (method, path, cookie, authorization, form body; tab
separated), which bench/load.lua replays round robin.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyotp

from returns_app.domain import clock
from returns_app.store.db import Database
from returns_app.web.auth import MAX_REMEMBERED_ORDERS

from .browser import Browser
from .generate import (
    BENCH_PASSWORD,
    SIGN_IN_CUSTOMERS,
    SUPPORT_EMAIL,
    SUPPORT_TOTP_SECRET,
    customer_email,
    staff_email,
)

# Every sample merchant gives at least 14 days to return: an order delivered less than this
# long ago can still be returned.
RETURNABLE_FOR = timedelta(days=13)
INBOX_FILTERS = ("all", "overdue", "reported", "sent", "received", "resolved")
MERCHANT_RANKS = (1, 2, 5, 20)  # the biggest shop, and smaller ones down the long tail


@dataclass
class Endpoint:
    name: str
    key: str
    lines: list[str] = field(default_factory=list)
    writes: bool = False  # each request uses its target up: never warmed up, never wrapped
    # What each line asks for, where the same page is asked for differently at each scale
    # (another cookie, another cursor): see only_pages.
    pages: list = field(default_factory=list)

    def add(self, method: str, path: str, cookie: str = "", authorization: str = "",
            body: str = "", page=None) -> None:
        self.lines.append("\t".join((method, path, cookie, authorization, body)))
        self.pages.append(page)

    def only_pages(self, wanted: set) -> None:
        kept = [(line, page) for line, page in zip(self.lines, self.pages, strict=True)
                if page in wanted]
        self.lines, self.pages = [line for line, _ in kept], [page for _, page in kept]

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.key}.tsv"
        path.write_text("\n".join(self.lines) + "\n")
        return path


def _lookup(browser: Browser, token: str, number: str, email: str) -> None:
    browser.submit("/", {"order_number": number, "email": email}, token)


def customer_pages(db: Database, host: str, port: int, rng: random.Random
                   ) -> tuple[Endpoint, Endpoint]:
    """Signed-in customers; each also opened orders with returns by number + email (as one
    does from an email), so the pages are spread over many orders."""
    order_page = Endpoint("customer order page (signed in)", "order_page")
    return_page = Endpoint("customer return page", "return_page")
    with_returns = [tuple(row) for row in db.execute(
        "SELECT orders.id, order_number, customer.email FROM returns"
        " JOIN orders ON orders.id = returns.order_id"
        " JOIN customer ON customer.id = orders.customer_id"
        " WHERE returns.id % 7 = 0 LIMIT 5000").fetchall()]
    rng.shuffle(with_returns)
    for customer_id in range(1, SIGN_IN_CUSTOMERS + 1):
        browser = Browser(host, port)
        browser.submit("/signin", {"email": customer_email(customer_id),
                                   "password": BENCH_PASSWORD})
        token = browser.csrf_token("/")
        opened = [with_returns.pop() for _ in range(MAX_REMEMBERED_ORDERS)
                  if with_returns]
        for _order_id, number, email in opened:
            _lookup(browser, token, number, email)
        own = [r[0] for r in db.execute("SELECT id FROM orders WHERE customer_id = ?",
                                        [customer_id]).fetchall()]
        order_ids = own + [o[0] for o in opened]
        for order_id in order_ids:
            order_page.add("GET", f"/orders/{order_id}", browser.cookie)
        for (return_id,) in db.execute(
                f"SELECT id FROM returns WHERE order_id IN ({', '.join('?' * len(order_ids))})",
                order_ids).fetchall():
            return_page.add("GET", f"/returns/{return_id}", browser.cookie)
    rng.shuffle(order_page.lines)
    rng.shuffle(return_page.lines)
    return order_page, return_page


def report_return(db: Database, host: str, port: int, rng: random.Random,
                  count: int) -> Endpoint:
    """One POST per returnable line of recently delivered orders without a return, from
    email-only customers' sessions (orders found by number + email, 20 per session)."""
    endpoint = Endpoint("report-return POST", "report_return", writes=True)
    since = clock.iso(clock.now() - RETURNABLE_FOR)
    rows = db.execute(
        "SELECT orders.id, order_number, customer.email, order_line.id FROM orders"
        " JOIN customer ON customer.id = orders.customer_id"
        " JOIN order_line ON order_line.order_id = orders.id"
        " WHERE orders.delivered_at > ? AND order_line.returnable = 1"
        " AND NOT EXISTS (SELECT 1 FROM returns WHERE returns.order_id = orders.id)"
        " ORDER BY orders.id", [since]).fetchall()
    by_order: dict[int, tuple[str, str, list[int]]] = {}
    for order_id, number, email, line_id in rows:
        by_order.setdefault(order_id, (number, email, []))[2].append(line_id)
    order_ids = list(by_order)
    rng.shuffle(order_ids)
    targets = []
    for first in range(0, len(order_ids), MAX_REMEMBERED_ORDERS):
        if len(targets) >= count:
            break
        browser = Browser(host, port)
        token = browser.csrf_token("/")
        for order_id in order_ids[first:first + MAX_REMEMBERED_ORDERS]:
            number, email, lines = by_order[order_id]
            _lookup(browser, token, number, email)
            for line_id in lines:
                targets.append((browser, token, order_id, line_id))
    rng.shuffle(targets)
    for browser, token, order_id, line_id in targets[:count]:
        endpoint.add("POST", f"/orders/{order_id}/returns/new", browser.cookie,
                     body=f"csrf_token={token}&qty_{line_id}=1&reason_{line_id}=too_small")
    return endpoint


def api_order(db: Database, host: str, port: int, rng: random.Random, count: int) -> Endpoint:
    """The app's `GET /api/v1/orders/{id}`, each with the token its session call gave."""
    endpoint = Endpoint("GET /api/v1/orders/{id}", "api_order")
    top = db.execute("SELECT max(id) FROM orders").fetchone()[0]
    browser = Browser(host, port)
    for order_id in rng.sample(range(1, top + 1), min(count, top)):
        number, email = db.execute(
            "SELECT order_number, customer.email FROM orders JOIN customer"
            " ON customer.id = orders.customer_id WHERE orders.id = ?", [order_id]).fetchone()
        status, _headers, text = browser.request(
            "POST", "/api/v1/customer/session", json_body={"order_number": number,
                                                          "email": email})
        if status != 201:
            raise RuntimeError(f"customer session for order {order_id}: {status} {text[:200]}")
        token = re.search(r'"token":\s*"([^"]+)"', text)[1]
        endpoint.add("GET", f"/api/v1/orders/{order_id}", authorization=f"Bearer {token}")
    return endpoint


def merchant_inbox(db: Database, host: str, port: int) -> Endpoint:
    """Staff of the biggest shop and of smaller ones, every filter, and the second page: each
    page that is full (a next page exists). Each line's page is (merchant rank, filter, which
    page), for bench/run.py to keep only the pages full at every scale."""
    endpoint = Endpoint("merchant returns inbox", "merchant_inbox")
    for rank in MERCHANT_RANKS:
        row = db.execute("SELECT slug FROM merchant WHERE id = ?", [rank]).fetchone()
        if row is None:
            continue
        browser = Browser(host, port)
        browser.submit("/merchant/signin", {"email": staff_email(row[0]),
                                            "password": BENCH_PASSWORD})
        for status in INBOX_FILTERS:
            path = f"/merchant/returns?status={status}"
            _status, _headers, page = browser.request("GET", path)
            if after := re.search(r"after=([\w-]+)", page):
                endpoint.add("GET", path, browser.cookie, page=(rank, status, 1))
                if status == "all":
                    endpoint.add("GET", f"{path}&after={after[1]}", browser.cookie,
                                 page=(rank, status, 2))
    if not endpoint.lines:
        raise RuntimeError("no merchant has a full page of returns")
    return endpoint


def support_queue(host: str, port: int) -> Endpoint:
    """Signed in just before the run: the console ends a session idle for 15 minutes."""
    endpoint = Endpoint("support stuck queue", "support_queue")
    browser = Browser(host, port)
    browser.submit("/support/signin", {"email": SUPPORT_EMAIL, "password": BENCH_PASSWORD})
    # A code is accepted once: a run started within 30 s of the last one waits for the next.
    code_form = {"code": pyotp.TOTP(SUPPORT_TOTP_SECRET).now()}
    token = browser.csrf_token("/support/signin/code")
    status, _headers, _page = browser.request("POST", "/support/signin/code",
                                              form={**code_form, "csrf_token": token})
    if status != 302:
        time.sleep(31)
        browser.submit("/support/signin/code", {"code": pyotp.TOTP(SUPPORT_TOTP_SECRET).now()})
    endpoint.add("GET", "/support/", browser.cookie)
    _status, _headers, page = browser.request("GET", "/support/")
    if "page=2" in page:
        endpoint.add("GET", "/support/?page=2", browser.cookie)
    return endpoint
