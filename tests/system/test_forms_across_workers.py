"""Customers, merchant staff and support staff use their pages over HTTP against three gunicorn
workers sharing kept pages: every form a page offers goes through, whichever worker rendered the
page and whichever serves the submit, before and after gunicorn is restarted (the kept pages
outlive the workers), and does what it says.

Measured on the page cache that made its placeholders per process: 26 submits tried, 5 refused
when each worker imported the app itself (gunicorn without `-c python:...`), 37 tried, 4 refused
with the README's command (its workers share the master's import: the restart breaks them)."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from tests.e2e.staff_sign_in import LAST_STEP, SECRETS, next_code
from tests.system.forms import CsrfRefused, Tally, Visitor

CUSTOMERS = 4  # new orders, each walked through ten submits
SHOP = "Nordic Outfitters"
DEMO_PASSWORD = "returns-demo"  # noqa: S105 (the demo data's, printed by `make run`)
STUCK_UNREGISTERED = "581-200-304"  # demo: sent 16 days ago, not registered by the merchant
ANNA_INVOICE = "733-204-118"  # demo: Techbolaget, on invoice
ERIK_INVOICE = "290-117-664"  # demo: on invoice, Erik's bank account linked


def new_order(deployment, n: int) -> dict:
    """An order as the shop's checkout sends it, through the API."""
    now = datetime.now(UTC)
    response = requests.post(
        deployment.base_url + "/api/v1/orders", timeout=30,
        headers={"Authorization": f"Bearer {deployment.api_keys[SHOP]}"},
        json={"merchant_reference": f"SYS-{n}", "currency": "SEK", "payment_method": "invoice",
              "customer": {"email": f"system{n}@example.se", "name": f"System Kund {n}"},
              "purchased_at": (now - timedelta(days=4)).isoformat(timespec="seconds"),
              "delivered_at": (now - timedelta(days=2)).isoformat(timespec="seconds"),
              "lines": [{"sku": "TEE", "name": "T-shirt", "quantity": 2, "unit_price": 19900},
                        {"sku": "CAP", "name": "Cap", "quantity": 1, "unit_price": 24900}]})
    assert response.status_code == 201, response.text
    return response.json()


def html_lang(page: str) -> str:
    return re.search(r'<html lang="(\w+)"', page)[1]


def views(visitor: Visitor, path: str, times: int = 3) -> str:
    """A page viewed a few times, as people reload: kept after the first view, each view served
    by whichever worker takes it."""
    for _ in range(times):
        page = visitor.get(path)
    return page


def switch_language(visitor: Visitor, path: str) -> None:
    for language in ("sv", "en"):
        views(visitor, path)
        back = visitor.submit("/language", button=language)
        assert html_lang(visitor.follow(back)) == language


def report_return(visitor: Visitor, order: dict, line: int, reason: str) -> int:
    visitor.get(f"/orders/{order['id']}/returns/new")
    line_id = order["lines"][line]["id"]
    created = visitor.submit(f"/orders/{order['id']}/returns/new",
                             {f"qty_{line_id}": "1", f"reason_{line_id}": reason})
    return_id = int(re.search(r"/returns/(\d+)$", created.headers["Location"])[1])
    assert "Your return is registered" in visitor.follow(created)
    return return_id


def pay_by_card(deployment, visitor: Visitor, order: dict) -> None:
    views(visitor, f"/orders/{order['id']}")
    checkout = visitor.submit(f"/orders/{order['id']}/payments", {"amount": "100"},
                              button="card")
    url = checkout.headers["Location"]
    assert url.startswith(deployment.provider_url + "/checkout/")
    paid = requests.post(url, timeout=30, allow_redirects=False, data={
        "card_number": "4242 4242 4242 4242", "expiry": "08/29", "cvc": "123"})
    assert paid.status_code == 303, paid.text
    assert "Thank you: 100,00" in visitor.get(paid.headers["Location"])


def customer_walk_before_a_restart(deployment, visitor: Visitor, order: dict) -> None:
    visitor.get("/")
    found = visitor.submit("/", {"order_number": order["order_number"],
                                 "email": order["customer"]["email"]})
    assert found.headers["Location"].endswith(f"/orders/{order['id']}")
    switch_language(visitor, f"/orders/{order['id']}")
    pay_by_card(deployment, visitor, order)
    views(visitor, f"/orders/{order['id']}")  # kept by this run of gunicorn's workers


def customer_walk_after_a_restart(deployment, visitor: Visitor, order: dict, n: int) -> None:
    switch_language(visitor, f"/orders/{order['id']}")  # the page kept before the restart
    sent_id = report_return(visitor, order, 0, "too_small")
    views(visitor, f"/returns/{sent_id}")
    sent = visitor.submit(f"/returns/{sent_id}/sent", {"tracking_number": f"SYS{n}TRACK"})
    assert "noted that your return is on its way" in visitor.follow(sent)
    assert f"SYS{n}TRACK" in views(visitor, f"/returns/{sent_id}")
    switch_language(visitor, f"/returns/{sent_id}")

    cancelled_id = report_return(visitor, order, 1, "changed_mind")
    views(visitor, f"/returns/{cancelled_id}")
    cancelled = visitor.submit(f"/returns/{cancelled_id}/cancel")
    assert "Your return is cancelled" in visitor.follow(cancelled)
    order["sent_return_id"] = sent_id


def bank_customer_walk(visitor: Visitor) -> None:
    """Erik, signed in with his password, schedules a payment from his linked bank account."""
    visitor.get("/signin")
    signed_in = visitor.submit("/signin", {"email": "erik.lind@example.se",
                                           "password": DEMO_PASSWORD})
    listed = visitor.follow(signed_in)
    order_id = next(i for i in re.findall(r'href="/orders/(\d+)"', listed)
                    if ERIK_INVOICE in visitor.get(f"/orders/{i}"))
    views(visitor, f"/orders/{order_id}")
    scheduled = visitor.submit(f"/orders/{order_id}/payments", {"amount": "50"},
                               button="bank_account")
    assert "will be paid from your bank account on" in visitor.follow(scheduled)
    views(visitor, f"/orders/{order_id}")
    visitor.submit("/signout")
    assert "Sign in" in visitor.get("/")


def merchant_walk(visitor: Visitor, orders: list[dict]) -> None:
    visitor.get("/merchant/signin")
    visitor.submit("/merchant/signin", {"email": "nordic-outfitters@example.se",
                                        "password": DEMO_PASSWORD})
    # Staff read Swedish until they choose: this one chooses English on the account page.
    visitor.get("/merchant/account")
    chosen = visitor.follow(visitor.submit("/merchant/account", {"language": "en"}))
    assert "the portal and your emails are now in English" in chosen
    for order in orders:
        path = f"/merchant/returns/{order['sent_return_id']}"
        page = views(visitor, path, 2)
        (item_id,) = set(re.findall(r'name="accepted_(\d+)"', page))
        registered = visitor.submit(f"{path}/registration",
                                    {f"received_{item_id}": "1", f"accepted_{item_id}": "1"})
        assert "Registered. The customer sees it" in visitor.follow(registered)
    visitor.get("/merchant/api-keys")
    made = visitor.submit("/merchant/api-keys", {"label": "System tier"}, expect=(200, 303))
    shown = made.text if made.status_code == 200 else visitor.follow(made)
    assert "System tier" in shown
    visitor.get("/merchant/webhooks")
    saved = visitor.submit("/merchant/webhooks", {"url": "https://hooks.example.com/returns"},
                           expect=(200,))
    assert "Your signing secret" in saved.text
    assert 'value="https://hooks.example.com/returns"' in views(visitor, "/merchant/webhooks")
    rotated = visitor.submit("/merchant/webhooks/secret", expect=(200,))
    assert "Your new signing secret" in rotated.text
    switch_language(visitor, "/merchant/returns")
    visitor.submit("/merchant/signout")
    assert "You are signed out" in visitor.get("/merchant/signin")


def support_sign_in(visitor: Visitor, email: str = "support@example.se") -> None:
    """The password, then the second factor: enrolled on the first sign-in (the key read from
    the page, the code computed as an authenticator app would), a code after that."""
    visitor.get("/support/signin")
    page = visitor.follow(visitor.submit("/support/signin", {"email": email,
                                                             "password": DEMO_PASSWORD}))
    if visitor.last_url.endswith("/support/security/second-factor"):
        SECRETS[email] = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
        LAST_STEP.pop(email, None)
        codes = visitor.submit("/support/security/second-factor", {"code": next_code(email)},
                               expect=(200,))
        assert codes.text.count('<li><code translate="no">') == 10
    elif visitor.last_url.endswith("/support/signin/code"):
        visitor.follow(visitor.submit("/support/signin/code", {"code": next_code(email)}))


def support_walk(visitor: Visitor) -> None:
    support_sign_in(visitor)
    stuck = visitor.get(f"/support/search?q={STUCK_UNREGISTERED}")
    order_id = re.search(r'href="/support/orders/(\d+)"', stuck)[1]
    return_id = re.search(r'href="/support/returns/(\d+)"',
                          views(visitor, f"/support/orders/{order_id}", 1))[1]
    views(visitor, f"/support/returns/{return_id}", 2)
    reminded = visitor.submit(f"/support/returns/{return_id}/remind",
                              {"remind-why": "Customer called: the parcel arrived long ago."})
    assert "staff are reminded by email" in visitor.follow(reminded)

    found = visitor.get(f"/support/search?q={ANNA_INVOICE}")
    order_path = "/support/orders/" + re.search(r'href="/support/orders/(\d+)"', found)[1]
    until = (date.today() + timedelta(days=7)).isoformat()
    views(visitor, order_path, 2)
    held = visitor.submit(f"{order_path}/hold", {"hold-until": until,
                                                  "hold-why": "Waiting for the courier."})
    assert "The invoice is paused until" in visitor.follow(held)
    due = (date.today() + timedelta(days=20)).isoformat()
    views(visitor, order_path, 2)
    moved = visitor.submit(f"{order_path}/due-date", {"due-due_date": due,
                                                       "due-why": "Agreed on the phone."})
    assert "The invoice is now due on" in visitor.follow(moved)
    switch_language(visitor, order_path)
    visitor.submit("/support/signout")


@pytest.fixture(scope="session")
def walked(deployment, tally):
    """Every walk, each on its own session, with gunicorn restarted halfway (kept pages stay).
    One refused submit ends that walk (the next step depends on it) and the others go on, so
    the tally counts the whole run."""
    orders = [new_order(deployment, n) for n in range(CUSTOMERS)]
    visitors = [Visitor(deployment.base_url, tally) for _ in orders]

    def walk(steps, *args) -> bool:
        try:
            steps(*args)
        except CsrfRefused:
            return False
        return True

    started = [walk(customer_walk_before_a_restart, deployment, v, o)
               for v, o in zip(visitors, orders, strict=True)]
    deployment.restart_web()
    done = [o for n, (v, o, ok) in enumerate(zip(visitors, orders, started, strict=True))
            if ok and walk(customer_walk_after_a_restart, deployment, v, o, n)]
    walk(bank_customer_walk, Visitor(deployment.base_url, tally))
    walk(merchant_walk, Visitor(deployment.base_url, tally), done)
    walk(support_walk, Visitor(deployment.base_url, tally))
    return done


def test_at_least_fifty_submits_and_none_refused_by_the_csrf_check(walked, tally):
    assert tally.tried >= 50
    assert tally.csrf_failed == 0, tally.refused


def test_what_the_merchant_registered_shows_on_the_customers_return_page(walked, deployment):
    customer = Visitor(deployment.base_url, Tally())
    for order in walked:
        customer.get("/")
        customer.submit("/", {"order_number": order["order_number"],
                              "email": order["customer"]["email"]})
        assert "1 accepted." in views(customer, f"/returns/{order['sent_return_id']}", 2)


def test_the_worker_delivers_what_the_app_queued(deployment, walked):
    """Emails about the walks' returns go out through the worker to the mail relay."""
    db = deployment.database.connect()
    deadline = time.monotonic() + 60
    while True:
        (sent,) = db.execute("SELECT count(*) FROM notification WHERE status = 'sent'"
                             " AND recipient LIKE 'system%@example.se'").fetchone()
        if sent or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    db.close()
    assert sent, deployment.log("worker")
