"""Several hosts (issue #19): two app hosts (two gunicorn masters on their own ports, several
workers each, each with its own instance folder and kept pages) and two workers against one
PostgreSQL, as tests/system/two_hosts.py deploys them. The concurrency proofs of
tests/store/test_concurrency.py again, every burst split turn about over both hosts, through the
JSON API and the customer's forms: each effect happens once, whichever host took which request.
Then one host's worker is killed with SIGKILL in the middle of a payout the sandbox provider
holds, and the other host's worker finishes it: nothing is paid out twice, neither in the
ledger nor at the provider (its own record of what it executed).

Each burst prints how many requests each host answered with what, and how long it took; the
module ends with all of them together, to be quoted. Skipped unless RETURNS_DATABASE_URL is
PostgreSQL; run it with
`make test-postgres PYTEST_ARGS="tests/system/test_several_hosts.py -q -s"`."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest
import requests

from returns_app.worker.deliveries import payout_key
from tests.system.forms import Tally, Visitor
from tests.system.two_hosts import (
    LEASE_SECONDS,
    ON_POSTGRES,
    SKIP_REASON,
    TIMEOUT,
    deployed,
    wait_for,
)

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason=SKIP_REASON)

CONCURRENCY = 50
FORM_CONCURRENCY = 30
JEANS_PRICE = 79900
ORDER_TOTAL = 79900 + 2 * 19900
ERIK = ("290-117-664", "erik.lind@example.se")  # demo: invoice, his bank account linked
ANNA_WAITING = ("371-526-804", "anna.svensson@example.se")  # demo: a refund waiting for details
BANK_ACCOUNT = {"clearing_number": "8327-9", "account_number": "1234567897"}
HANG_SECONDS = 3.0  # the sandbox holds each payout this long, then executes it
KILL_REFUNDS = 6


@pytest.fixture(scope="module")
def cluster(installed, tmp_path_factory):
    with deployed(installed, tmp_path_factory.mktemp("several-hosts")) as running:
        running.demo_refunds = {r["id"]: r["status"]
                                for r in running.rows("SELECT id, status FROM refund")}
        yield running
        print("\n\nSeveral hosts, the numbers:\n  "
              + "\n  ".join([*running.numbers, running.summary()]))


def identical(burst, status: int) -> dict:
    assert burst.statuses() == {status: len(burst.answers)}, burst.line()
    assert len({a.body for a in burst.answers}) == 1, {a.body for a in burst.answers}
    return json.loads(burst.answers[0].body)


def form_burst(cluster, what: str, visitor: Visitor, action: str, data: dict, n: int):
    """The form as posted by a browser, n times at once (a storm of double clicks, some on
    each host): the visitor's cookies, the fields it was served, no redirects followed."""
    cookies = {c.name: c.value for c in visitor.http.cookies}
    return cluster.burst(what, lambda i, base: requests.post(
        base + action, data=data, cookies=cookies, allow_redirects=False, timeout=TIMEOUT,
        headers={"Referer": visitor.last_url}), n)


SHELF_REFUSED = ("kept pages unavailable", "could not keep a page")


def test_each_host_keeps_the_pages_it_renders_on_its_own_shelf(cluster):
    order = cluster.new_order(0, "invoice", "shelf")
    for host in cluster.hosts.values():
        visitor = Visitor(host.base_url, Tally())
        visitor.get("/")
        visitor.submit("/", {"order_number": order["order_number"],
                             "email": order["customer"]["email"]})
        for _ in range(3):
            assert order["order_number"] in visitor.get(f"/orders/{order['id']}")
    refused = {name: sum(host.log("web").count(text) for text in SHELF_REFUSED)
               for name, host in cluster.hosts.items()}
    cluster.record(f"kept pages: shelf refusals logged per host {refused}")
    assert refused == dict.fromkeys(cluster.hosts, 0)


# --- payments -------------------------------------------------------------------------------

def test_fifty_identical_card_payments_over_both_hosts_open_one_checkout(cluster):
    order = cluster.new_order(0, "invoice", "card-pay")
    token = cluster.customer_token(order)
    body = {"amount": 12345, "method": "card"}

    burst = cluster.burst("API, 50 identical card payments (one Idempotency-Key)",
                          lambda i, base: requests.post(
                              f"{base}/api/v1/orders/{order['id']}/payments", json=body,
                              timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}",
                                                        "Idempotency-Key": "hosts-card-1"}),
                          CONCURRENCY)

    first = identical(burst, 201)
    payments = cluster.rows("SELECT id, status FROM payment WHERE order_id = %s", [order["id"]])
    assert payments == [{"id": first["id"], "status": "pending"}]
    assert cluster.ledger()["requests_per_key"][f"order-{order['id']}-hosts-card-1"] == 1


def test_fifty_identical_bank_payments_over_both_hosts_schedule_one_debit(cluster):
    number, email = ERIK
    order_id = cluster.value("SELECT id FROM orders WHERE order_number = %s", [number])
    token = cluster.customer_token({"order_number": number, "customer": {"email": email}})
    body = {"amount": 10000, "method": "bank_account"}

    burst = cluster.burst("API, 50 identical bank payments (one Idempotency-Key)",
                          lambda i, base: requests.post(
                              f"{base}/api/v1/orders/{order_id}/payments", json=body,
                              timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}",
                                                        "Idempotency-Key": "hosts-bank-1"}),
                          CONCURRENCY)

    first = identical(burst, 201)
    assert first["status"] == "scheduled"
    payments = cluster.rows("SELECT id FROM payment WHERE order_id = %s", [order_id])
    assert payments == [{"id": first["id"]}]
    assert cluster.value("SELECT count(*) FROM outbox WHERE kind = 'debit' AND subject_id = %s",
                         [first["id"]]) == 1
    assert cluster.value("SELECT count(*) FROM idempotency_record WHERE key = 'hosts-bank-1'") == 1


def test_one_payment_form_posted_thirty_times_over_both_hosts_pays_once(cluster):
    order = cluster.new_order(1, "invoice", "form-pay")
    visitor = Visitor(cluster.hosts["a"].base_url, Tally())
    visitor.get("/")
    visitor.submit("/", {"order_number": order["order_number"],
                         "email": order["customer"]["email"]})
    visitor.get(f"/orders/{order['id']}")
    form = visitor.form(f"/orders/{order['id']}/payments")
    data = {**form.fields, "amount": "100", "method": "card"}

    burst = form_burst(cluster, "forms, 30 posts of one payment form (card)", visitor,
                       f"/orders/{order['id']}/payments", data, FORM_CONCURRENCY)

    assert burst.statuses() == {303: FORM_CONCURRENCY}, burst.line()
    payments = cluster.rows("SELECT amount_minor, idempotency_key FROM payment"
                            " WHERE order_id = %s", [order["id"]])
    assert payments == [{"amount_minor": 10000, "idempotency_key": form.fields["idempotency_key"]}]
    assert cluster.ledger()["requests_per_key"][
        f"order-{order['id']}-{form.fields['idempotency_key']}"] == 1


# --- the merchant's registrations -----------------------------------------------------------

def reported_card_order(cluster, n: int, label: str) -> tuple[dict, dict]:
    """A card order (paid at purchase) with its jeans reported through the API."""
    order = cluster.new_order(n, "card", label)
    reported = cluster.report_jeans(order, cluster.customer_token(order, n), n)
    assert reported.status_code == 201, reported.text
    return order, reported.json()


def refund_effects(cluster, order_id: int) -> dict:
    return {
        "refunds": cluster.rows("SELECT amount_minor FROM refund WHERE order_id = %s",
                                [order_id]),
        "ledger": cluster.value("SELECT count(*) FROM ledger_entry WHERE order_id = %s"
                                " AND kind = 'refund'", [order_id]),
        "payouts": cluster.value("SELECT count(*) FROM outbox WHERE kind = 'payout' AND"
                                 " subject_id IN (SELECT id FROM refund WHERE order_id = %s)",
                                 [order_id]),
    }


ONE_REFUND = {"refunds": [{"amount_minor": JEANS_PRICE}], "ledger": 1, "payouts": 1}


def test_fifty_identical_registrations_over_both_hosts_refund_once(cluster):
    order, ret = reported_card_order(cluster, 0, "register-one")
    item = ret["items"][0]["id"]

    burst = cluster.burst("API, 50 identical registrations (one Idempotency-Key)",
                          lambda i, base: cluster.register(ret["id"], item, "hosts-reg-1", i),
                          CONCURRENCY)

    assert identical(burst, 200)["status"] == "resolved"
    assert refund_effects(cluster, order["id"]) == ONE_REFUND


def test_fifty_registrations_with_their_own_keys_accept_the_item_once(cluster):
    order, ret = reported_card_order(cluster, 1, "register-many")
    item = ret["items"][0]["id"]

    burst = cluster.burst("API, 50 registrations of one item (50 keys)",
                          lambda i, base: cluster.register(ret["id"], item, f"hosts-reg-{i}", i),
                          CONCURRENCY)

    statuses = burst.statuses()
    assert statuses[200] == 1 and set(statuses) <= {200, 409, 422}, burst.line()
    assert refund_effects(cluster, order["id"]) == ONE_REFUND
    assert cluster.value("SELECT accepted_quantity FROM return_item WHERE id = %s", [item]) == 1


# --- the customer's reports -----------------------------------------------------------------

def returns_of(cluster, order_id: int) -> list[dict]:
    return cluster.rows("SELECT return_item.quantity FROM returns JOIN return_item"
                        " ON return_item.return_id = returns.id WHERE returns.order_id = %s",
                        [order_id])


def test_fifty_reports_of_one_item_over_both_hosts_make_one_return(cluster):
    order = cluster.new_order(0, "invoice", "report-api")
    token = cluster.customer_token(order)

    burst = cluster.burst("API, 50 reports of the same item",
                          lambda i, base: cluster.report_jeans(order, token, i), CONCURRENCY)

    statuses = burst.statuses()
    assert statuses[201] == 1 and set(statuses) <= {201, 409, 422}, burst.line()
    assert returns_of(cluster, order["id"]) == [{"quantity": 1}]


def test_one_report_form_posted_thirty_times_over_both_hosts_makes_one_return(cluster):
    order = cluster.new_order(1, "invoice", "report-form")
    visitor = Visitor(cluster.hosts["b"].base_url, Tally())
    visitor.get("/")
    visitor.submit("/", {"order_number": order["order_number"],
                         "email": order["customer"]["email"]})
    action = f"/orders/{order['id']}/returns/new"
    visitor.get(action)
    line = order["lines"][0]["id"]
    data = {**visitor.form(action).fields, f"qty_{line}": "1", f"reason_{line}": "too_small"}

    burst = form_burst(cluster, "forms, 30 posts of one return report", visitor, action, data,
                       FORM_CONCURRENCY)

    statuses = burst.statuses()
    assert statuses[302] == 1 and set(statuses) <= {302, 422}, burst.line()
    assert returns_of(cluster, order["id"]) == [{"quantity": 1}]


# --- payout details -------------------------------------------------------------------------

def refund_waiting_for_details(cluster) -> tuple[dict, str, int]:
    """An invoice order paid from the bank (the bank's file booked with the product's own
    commands), its jeans returned and accepted: no card, no account, so its refund waits."""
    order = cluster.new_order(0, "invoice", "details")
    bank_file = cluster.hosts["a"].folder / "bank.xml"
    for command in (["sandbox-bank-file", "--pay", order["order_number"],
                     str(ORDER_TOTAL // 100), "--out", str(bank_file)],
                    ["import-bank-file", str(bank_file)]):
        done = cluster.flask("a", *command)
    assert "Booked 1" in done, done
    token = cluster.customer_token(order)
    reported = cluster.report_jeans(order, token)
    assert reported.status_code == 201, reported.text
    ret = reported.json()
    registered = cluster.register(ret["id"], ret["items"][0]["id"], "details-reg", 1)
    assert registered.status_code == 200, registered.text
    (refund,) = cluster.rows("SELECT id, status FROM refund WHERE order_id = %s", [order["id"]])
    assert refund["status"] == "needs_details"
    return order, token, refund["id"]


def destination_effects(cluster, refund_id: int) -> dict:
    return {
        "set": cluster.value("SELECT count(*) FROM audit_event WHERE action ="
                             " 'refund.destination_set' AND subject_id = %s", [refund_id]),
        "payouts": cluster.value("SELECT count(*) FROM outbox WHERE kind = 'payout'"
                                 " AND subject_id = %s", [refund_id]),
    }


def test_fifty_payout_details_over_both_hosts_set_the_destination_once(cluster):
    order, token, refund_id = refund_waiting_for_details(cluster)

    burst = cluster.burst("API, 50 payout details for one refund (50 keys)",
                          lambda i, base: requests.post(
                              f"{base}/api/v1/refunds/{refund_id}/payout-details",
                              json=BANK_ACCOUNT, timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {token}",
                                       "Idempotency-Key": f"hosts-details-{i}"}),
                          CONCURRENCY)

    statuses = burst.statuses()
    assert statuses[200] == 1 and set(statuses) <= {200, 409}, burst.line()
    assert destination_effects(cluster, refund_id) == {"set": 1, "payouts": 1}


def test_one_payout_details_form_posted_thirty_times_sets_the_destination_once(cluster):
    number, email = ANNA_WAITING
    visitor = Visitor(cluster.hosts["a"].base_url, Tally())
    visitor.get("/")
    visitor.submit("/", {"order_number": number, "email": email})
    order_id = cluster.value("SELECT id FROM orders WHERE order_number = %s", [number])
    link = re.search(r'href="[^"]*(/refunds/[^"]+)"', visitor.get(f"/orders/{order_id}"))[1]
    visitor.get(link)
    data = {**visitor.form(link).fields, "choice": "bank_account", **BANK_ACCOUNT}
    (refund_id,) = [r["id"] for r in cluster.rows("SELECT id FROM refund WHERE order_id = %s",
                                                   [order_id])]

    burst = form_burst(cluster, "forms, 30 posts of one payout details form", visitor, link,
                       data, FORM_CONCURRENCY)

    statuses = burst.statuses()
    assert statuses[303] == 1 and set(statuses) <= {200, 303}, burst.line()
    assert destination_effects(cluster, refund_id) == {"set": 1, "payouts": 1}


# --- a worker killed mid-payout ---------------------------------------------------------------

def in_flight(cluster, owner: str) -> int | None:
    """The refund `owner` is paying out right now: its outbox row leased to it, the refund
    sending, and its payout asked of the provider and not yet executed there."""
    rows = cluster.rows(
        "SELECT refund.* FROM outbox JOIN refund ON refund.id = outbox.subject_id"
        " WHERE outbox.kind = 'payout' AND outbox.status = 'pending'"
        " AND outbox.lease_owner = %s AND refund.status = 'sending'", [owner])
    ledger = cluster.ledger() if rows else {}
    for refund in rows:
        key = payout_key(refund)
        if ledger["requests_per_key"].get(key) and key not in ledger["executions_per_key"]:
            return refund["id"]
    return None


def pending_payouts(cluster) -> int:
    return cluster.value("SELECT count(*) FROM outbox WHERE kind = 'payout'"
                         " AND status = 'pending'")


def test_a_worker_killed_mid_payout_on_one_host_is_finished_by_the_other(cluster):
    wait_for(lambda: pending_payouts(cluster) == 0, 60, "the earlier payouts to go out")
    cluster.sandbox_mode("timeout", delay=HANG_SECONDS)
    refunds = []
    for n in range(KILL_REFUNDS):
        order, ret = reported_card_order(cluster, n, "kill")
        registered = cluster.register(ret["id"], ret["items"][0]["id"], f"kill-{n}", n)
        assert registered.status_code == 200, registered.text
        refunds.append(cluster.value("SELECT id FROM refund WHERE order_id = %s", [order["id"]]))
    victim = cluster.hosts["a"]
    began = time.monotonic()
    killed = wait_for(lambda: in_flight(cluster, cluster.worker_owner("a")), 60,
                      "host a's worker to have a payout in flight\n" + victim.log("worker"))
    os.kill(victim.procs["worker"].pid, signal.SIGKILL)
    victim.procs["worker"].wait(timeout=10)
    killed_at = time.monotonic()
    cluster.sandbox_mode("normal")

    def finished():
        return cluster.rows("SELECT status FROM outbox WHERE kind = 'payout'"
                            " AND subject_id = %s", [killed]) == [{"status": "done"}]

    wait_for(finished, 60, "host b's worker to take the payout over and finish it")
    taken = time.monotonic() - killed_at
    wait_for(lambda: pending_payouts(cluster) == 0, 90,
             "host b's worker to pay everything out\n" + cluster.hosts["b"].log("worker"))
    drained = time.monotonic() - killed_at

    statuses = {r["id"]: r["status"] for r in cluster.rows(
        "SELECT id, status FROM refund WHERE id = ANY(%s)", [refunds])}
    assert statuses == dict.fromkeys(refunds, "succeeded")
    # Host b's worker recorded its outcome: host a's was dead by then.
    assert f"refund {killed}: " in cluster.hosts["b"].log("worker")
    # Nothing doubled, over the whole run: one refund entry in the ledger per refund, one
    # execution per key at the provider, and one payout that moved money per refund.
    per_order = cluster.rows("SELECT order_id, count(*) AS n FROM ledger_entry"
                             " WHERE kind = 'refund' GROUP BY order_id")
    assert {r["n"] for r in per_order} == {1}, per_order
    ledger = cluster.ledger()
    assert set(ledger["executions_per_key"].values()) == {1}, ledger["executions_per_key"]
    # Every refund this run made or moved (the demo's refund whose details a form gave): the
    # support demo's others are as it loaded them, settled, failed or waiting.
    refund_rows = [r for r in cluster.rows("SELECT * FROM refund")
                   if cluster.demo_refunds.get(r["id"]) != r["status"]]
    assert {r["status"] for r in refund_rows} == {"succeeded"}, refund_rows
    for refund in refund_rows:
        assert ledger["money_moved_per_key"].get(payout_key(refund)) == 1, refund
    attempts = cluster.value("SELECT attempts FROM outbox WHERE kind = 'payout'"
                             " AND subject_id = %s", [killed])
    payout_requests = sum(n for key, n in ledger["requests_per_key"].items()
                          if key.startswith("refund-"))
    cluster.record(
        f"worker killed: host a's worker SIGKILLed {killed_at - began:.1f} s after the"
        f" {KILL_REFUNDS} payouts were queued, holding refund {killed}'s payout (the sandbox"
        f" holding each payout {HANG_SECONDS:.0f} s, lease {LEASE_SECONDS} s); host b's worker"
        f" had taken it over and finished it {taken:.1f} s after the kill, and paid out"
        f" everything {drained:.1f} s after it; that payout's outbox attempts: {attempts};"
        f" over the whole run"
        f" {len(refund_rows)} refunds succeeded, {len(ledger['executions'])} payouts executed"
        f" at the provider ({payout_requests} payout requests,"
        f" {sum(ledger['lookups_per_key'].values())} look-ups), none twice")

