"""What happens to one generated order, as rows: bought, delivered, maybe returned, paid, refunded.

Each order's history is drawn from a seeded random generator and written the way the services
would have written it (services/orders.create_order, returns.report_return, decisions.register,
payments._settle, refunds.settle_refund_owed), so every page reads it as real data and every
money rule holds: the ledger's charge is the order total, each accepted item has its credit,
nobody pays more than was payable, and an overpayment has exactly one refund.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from returns_app.domain import clock
from returns_app.services import merchants as merchant_service

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HISTORY_DAYS = 365
# Order ages lean recent (a growing shop): age = HISTORY_DAYS * u ** AGE_SKEW.
AGE_SKEW = 1.6
RETURN_SHARE = 0.165  # some draws fall outside the return window: 15 % end up returned
CARD_SHARE = 0.4
# Invoice customers who pay the whole invoice at once, before deciding to return anything.
EARLY_PAYER_SHARE = 0.25
REFUND_DUE_DAYS = 14
INVOICE_DAYS = 14
# From about this many orders the story's stuck cases fill several of support's queue pages
# (25 cases each). A smaller database gets its stuck cases (declined or unanswered payouts, refunds
# waiting for details, returns never registered) that many times more often, so the queue it
# serves shows as many cases as a big one's and the benchmark compares like with like (at most
# MAX_STUCK_ODDS times: most payouts of a tiny one still go through).
FULL_QUEUE_ORDERS = 250_000
MAX_STUCK_ODDS = 25.0

# (prefix, name, lowest, highest unit price in öre)
PRODUCTS = (
    ("TEE", "Organic T-shirt", 14900, 29900),
    ("JEANS", "Straight jeans", 59900, 119900),
    ("JKT", "Rain jacket", 99900, 249900),
    ("SOCK", "Wool socks", 6900, 14900),
    ("UW", "Cotton briefs, 3-pack", 12900, 19900),
    ("LAMP", "Table lamp", 49900, 149900),
    ("CUSH", "Linen cushion cover", 19900, 34900),
    ("MTM", "Made-to-measure curtain", 149900, 399900),
    ("HP", "Wireless headphones", 79900, 299900),
    ("KB", "Mechanical keyboard", 89900, 199900),
    ("SW", "Office software licence", 49900, 129900),
    ("GC", "Gift card", 20000, 100000),
)
REASONS = ("changed_mind", "too_small", "too_large", "not_as_described", "damaged",
           "wrong_item", "arrived_late")
FIRST_NAMES = ("Anna", "Erik", "Maja", "Lars", "Sofia", "Per", "Elin", "Oskar", "Karin",
               "Johan", "Emma", "Nils", "Sara", "Olof", "Ida", "Anders", "Linnea", "Gustav")
LAST_NAMES = ("Svensson", "Lind", "Ek", "Holm", "Nyberg", "Sandberg", "Strand", "Lund",
              "Berg", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson")


@dataclass
class Merchant:
    id: int
    slug: str
    instructions: dict  # services.merchants.instructions_by_id
    catalog: list[tuple[str, str, int, str | None]] = field(default_factory=list)


@dataclass
class Customer:
    id: int
    email: str
    name: str
    language: str
    bank_json: str | None  # linked bank account, as the provider destination
    bank_masked: str | None


@dataclass
class Ids:
    """Next primary key per table: rows are inserted with their ids, so they can refer to each
    other without a round trip."""

    line: int = 1
    ret: int = 1
    item: int = 1
    payment: int = 1
    refund: int = 1


@dataclass
class Rows:
    """One batch of rows per table, as tuples in the column order of `COLUMNS`."""

    orders: list = field(default_factory=list)
    order_line: list = field(default_factory=list)
    ledger_entry: list = field(default_factory=list)
    payment: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    return_item: list = field(default_factory=list)
    refund: list = field(default_factory=list)
    outbox: list = field(default_factory=list)
    audit_event: list = field(default_factory=list)


COLUMNS = {
    "orders": ("id", "merchant_id", "customer_id", "order_number", "merchant_reference",
               "currency", "payment_method", "purchased_at", "delivered_at", "due_date",
               "created_at"),
    "order_line": ("id", "order_id", "position", "sku", "name", "quantity", "unit_price_minor",
                   "returnable", "non_returnable_reason"),
    "ledger_entry": ("order_id", "kind", "amount_minor", "idempotency_key", "memo",
                     "created_at"),
    "payment": ("id", "order_id", "amount_minor", "method", "status", "idempotency_key",
                "provider_ref", "provider_payment_id", "card_last4", "settled_amount_minor",
                "created_at", "settled_at"),
    "returns": ("id", "order_id", "merchant_id", "status", "instructions_version_id",
                "reported_at", "send_by", "refund_due_by", "sent_at", "tracking_number",
                "received_at", "resolved_at", "cancelled_at", "expired_at"),
    "return_item": ("id", "return_id", "order_line_id", "quantity", "reason", "comment",
                    "received_quantity", "accepted_quantity", "rejected_quantity",
                    "decision_reason", "decided_at"),
    "refund": ("id", "order_id", "return_id", "amount_minor", "status", "destination_kind",
               "destination_json", "destination_masked", "reason", "attempts",
               "provider_payout_id", "last_error", "created_at", "status_changed_at",
               "succeeded_at", "unknown_since"),
    "outbox": ("kind", "subject_id", "payload", "status", "attempts", "available_at",
               "created_at", "done_at"),
    "audit_event": ("at", "actor", "action", "subject_kind", "subject_id", "before_json",
                    "after_json", "why"),
}


def iso(moment: datetime) -> str:
    return clock.iso(moment)


def order_number(order_id: int) -> str:
    """Unique and scattered: 3^18 is coprime to 10^9, so i -> i * 3^18 mod 10^9 is a bijection."""
    digits = f"{(order_id * 387_420_489 + 104_729) % 10**9:09d}"
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"


def make_catalog(rng: random.Random, merchant: Merchant) -> None:
    for prefix, name, low, high in PRODUCTS:
        for variant in range(5):
            sku = f"{prefix}-{variant + 1:02d}"
            price = rng.randrange(low // 100, high // 100 + 1) * 100
            reason = merchant_service.non_returnable_reason(merchant.instructions, sku)
            merchant.catalog.append((sku, f"{name} {variant + 1}", price, reason))


def audit(rows: Rows, at: datetime, actor: str, action: str, kind: str, subject_id: int,
          before: dict | None = None, after: dict | None = None) -> None:
    rows.audit_event.append((
        iso(at), actor, action, kind, subject_id,
        json.dumps(before, sort_keys=True) if before is not None else None,
        json.dumps(after, sort_keys=True) if after is not None else None, ""))


class Story:
    """Draws and writes the life of each order up to `now`."""

    def __init__(self, rng: random.Random, now: datetime, merchants: list[Merchant],
                 weights: list[float], customers: int, customer_row, orders: int):
        self.rng = rng
        self.stuck_odds = min(MAX_STUCK_ODDS, max(1.0, FULL_QUEUE_ORDERS / orders))
        self.now = now
        self.today = clock.local_date(now)
        self.merchants = merchants
        self.cumulative = self._cumulative(weights)
        self.customers = customers
        self.customer_row = customer_row  # id -> Customer
        self.ids = Ids()

    @staticmethod
    def _cumulative(weights: list[float]) -> list[float]:
        total, out = 0.0, []
        for weight in weights:
            total += weight
            out.append(total)
        return [c / total for c in out]

    def _merchant(self) -> Merchant:
        u = self.rng.random()
        lo, hi = 0, len(self.cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cumulative[mid] < u:
                lo = mid + 1
            else:
                hi = mid
        return self.merchants[lo]

    def order(self, rows: Rows, order_id: int) -> None:
        rng = self.rng
        merchant = self._merchant()
        customer = self.customer_row(rng.randrange(self.customers) + 1)
        age = timedelta(days=HISTORY_DAYS * rng.random() ** AGE_SKEW)
        purchased = (self.now - age).replace(microsecond=0)
        delivered = purchased + timedelta(hours=rng.uniform(20, 96))
        delivered = delivered if delivered < self.now else None
        method = "card" if rng.random() < CARD_SHARE else "invoice"
        due = (clock.days_after(delivered, INVOICE_DAYS).isoformat()
               if method == "invoice" and delivered else None)
        lines = []
        for position in range(1, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6)) + 1):
            sku, name, price, reason = rng.choice(merchant.catalog)
            quantity = 1 if rng.random() < 0.8 else rng.randint(2, 3)
            line_id = self.ids.line
            self.ids.line += 1
            lines.append((line_id, quantity, price, reason, name))
            rows.order_line.append((line_id, order_id, position, sku, name, quantity, price,
                                    0 if reason else 1, reason))
        total = sum(q * p for _, q, p, _, _ in lines)
        ret = None
        returnable = [line for line in lines if line[3] is None]
        if delivered and returnable and rng.random() < RETURN_SHARE:
            ret = self._return(rows, order_id, merchant, customer, delivered, returnable)
        if due and ret and ret["rejected_value"]:
            # decisions._new_due_date: a rejected item is payable again, with 14 new days.
            due = max(due, clock.days_after(ret["resolved_at"], INVOICE_DAYS).isoformat())
        rows.orders.append((
            order_id, merchant.id, customer.id, order_number(order_id),
            f"{merchant.slug[:4].upper()}-{order_id}", "SEK", method, iso(purchased),
            iso(delivered) if delivered else None, due, iso(purchased)))
        rows.ledger_entry.append((order_id, "charge", total, "order", "Order total at purchase",
                                  iso(purchased)))
        paid, card_payment = 0, None
        if method == "card":
            rows.ledger_entry.append((order_id, "payment", total, "card-at-purchase",
                                      "Paid by card", iso(purchased)))
            paid = total
        audit(rows, purchased, f"merchant:{merchant.id}", "order.created", "order", order_id,
              after={"total": total, "payment_method": method})
        if method == "invoice" and delivered:
            paid, card_payment = self._invoice_payment(rows, order_id, customer, delivered,
                                                      due, total, ret)
        if ret and ret["accepted_value"]:
            owed = paid - (total - ret["accepted_value"])
            if owed > 0:
                self._refund(rows, order_id, method, customer, ret, owed, card_payment)

    # --- returns ---------------------------------------------------------------------------

    def _return(self, rows: Rows, order_id: int, merchant: Merchant, customer: Customer,
                delivered: datetime, returnable: list) -> dict | None:
        rng = self.rng
        instructions = merchant.instructions
        window = timedelta(days=instructions["return_window_days"])
        latest = min(delivered + window - DAY, self.now - HOUR)
        if latest <= delivered + HOUR:
            return None
        reported = delivered + (latest - delivered) * rng.random() ** 2
        reported = max(reported, delivered + HOUR).replace(microsecond=0)
        return_id = self.ids.ret
        self.ids.ret += 1
        send_by = clock.days_after(reported, instructions["days_to_send"])
        chosen = rng.sample(returnable, min(len(returnable), rng.choice((1, 1, 1, 2))))
        items = []
        for line_id, quantity, price, _reason, name in chosen:
            items.append({"id": self.ids.item, "line_id": line_id, "price": price, "name": name,
                          "quantity": quantity if rng.random() < 0.7 else 1,
                          "reason": rng.choice(REASONS)})
            self.ids.item += 1

        # When each step happens (if it does): the status is where `now` falls.
        roll = rng.random()
        cancelled = reported + timedelta(hours=rng.uniform(1, 48)) if roll < 0.04 else None
        never_sent = 0.04 <= roll < 0.07
        sent = reported + timedelta(hours=rng.uniform(2, 24 * instructions["days_to_send"] * 0.5))
        stalls = rng.random() < 0.003 * self.stuck_odds  # a merchant who never registers it
        received = sent + timedelta(hours=rng.uniform(24, 120))
        resolved = received + timedelta(hours=rng.uniform(1, 72))
        expired_at = datetime.combine(send_by + DAY, datetime.min.time(),
                                      tzinfo=clock.LOCAL_ZONE).replace(hour=3)
        row = {"status": "reported", "sent_at": None, "tracking": None, "received_at": None,
               "resolved_at": None, "cancelled_at": None, "expired_at": None}
        if cancelled and cancelled < self.now:
            row.update(status="cancelled", cancelled_at=cancelled)
        elif never_sent:
            if expired_at < self.now:
                row.update(status="expired", expired_at=expired_at)
        elif sent < self.now:
            row.update(status="sent", sent_at=sent, tracking=f"JJSE{return_id:010d}")
            if received < self.now and not stalls:
                row.update(status="received", received_at=received)
                if resolved < self.now:
                    row.update(status="resolved", resolved_at=resolved)

        accepted_value = 0
        for item in items:
            decided = row["status"] == "resolved"
            accept = decided and rng.random() < 0.88
            item["received"] = item["quantity"] if row["received_at"] else 0
            item["accepted"] = item["quantity"] if accept else 0
            item["rejected"] = item["quantity"] if decided and not accept else 0
            accepted_value += item["accepted"] * item["price"]
            rows.return_item.append((
                item["id"], return_id, item["line_id"], item["quantity"], item["reason"], "",
                item["received"], item["accepted"], item["rejected"],
                "Used and washed" if item["rejected"] else None,
                iso(resolved) if decided else None))
        rows.returns.append((
            return_id, order_id, merchant.id, row["status"], instructions["id"], iso(reported),
            send_by.isoformat(), clock.days_after(reported, REFUND_DUE_DAYS).isoformat(),
            iso(row["sent_at"]) if row["sent_at"] else None, row["tracking"],
            iso(row["received_at"]) if row["received_at"] else None,
            iso(row["resolved_at"]) if row["resolved_at"] else None,
            iso(row["cancelled_at"]) if row["cancelled_at"] else None,
            iso(row["expired_at"]) if row["expired_at"] else None))
        actor = f"customer:{customer.id}"
        audit(rows, reported, actor, "return.reported", "return", return_id,
              after={"order_id": order_id, "items": [
                  {"line_id": i["line_id"], "quantity": i["quantity"], "reason": i["reason"],
                   "comment": ""} for i in items]})
        if row["cancelled_at"]:
            audit(rows, row["cancelled_at"], actor, "return.cancelled", "return", return_id,
                  {"status": "reported"}, {"status": "cancelled"})
        if row["expired_at"]:
            audit(rows, row["expired_at"], "system", "return.expired", "return", return_id,
                  {"status": "reported"}, {"status": "expired"})
        if row["sent_at"]:
            audit(rows, row["sent_at"], actor, "return.sent", "return", return_id,
                  {"status": "reported"}, {"status": "sent", "tracking_number": row["tracking"]})
        if row["received_at"]:
            audit(rows, row["received_at"], f"merchant:{merchant.id}:api", "return.registered",
                  "return", return_id, {"status": "sent"},
                  {"items": [{"return_item_id": i["id"], "received": i["received"]}
                             for i in items], "credited": 0, "rejected_value": 0})
        if row["resolved_at"]:
            for item in items:
                if item["accepted"]:
                    rows.ledger_entry.append((
                        order_id, "credit", item["accepted"] * item["price"],
                        f"return_item:{item['id']}:accepted:{item['accepted']}",
                        f"{item['accepted']} × {item['name']} accepted", iso(resolved)))
            audit(rows, resolved, f"merchant:{merchant.id}:api", "return.registered", "return",
                  return_id, {"status": "received"},
                  {"items": [{"return_item_id": i["id"], "accepted": i["accepted"],
                              "rejected": i["rejected"]} for i in items],
                   "credited": accepted_value,
                   "rejected_value": sum(i["rejected"] * i["price"] for i in items)})
        is_open = row["status"] in ("reported", "sent", "received")
        return {"id": return_id, "merchant_id": merchant.id, "reported_at": reported,
                "resolved_at": row["resolved_at"], "accepted_value": accepted_value,
                "rejected_value": sum(i["rejected"] * i["price"] for i in items),
                "open_value": sum(i["quantity"] * i["price"] for i in items) if is_open else 0}

    # --- money -----------------------------------------------------------------------------

    def _invoice_payment(self, rows: Rows, order_id: int, customer: Customer,
                         delivered: datetime, due: str, total: int, ret: dict | None
                         ) -> tuple[int, int | None]:
        """(what was paid, the card payment's id if paid by card). An early payer pays
        everything before reporting a return; the others pay what is payable once the due date
        has passed."""
        rng = self.rng
        if rng.random() < EARLY_PAYER_SHARE:
            before = ret["reported_at"] if ret else self.now
            at = delivered + (before - delivered) * rng.uniform(0.1, 0.9)
            if at < self.now:
                method = "card" if rng.random() < 0.5 else "bank_transfer"
                payment_id = self._payment(rows, order_id, customer, total, at, method)
                return total, payment_id if method == "card" else None
            return 0, None
        if due >= self.today.isoformat():
            return 0, None
        accepted = ret["accepted_value"] if ret else 0
        open_value = ret["open_value"] if ret else 0
        amount = total - accepted - open_value
        at = datetime.combine(datetime.fromisoformat(due).date(), datetime.min.time(),
                              tzinfo=clock.LOCAL_ZONE).replace(hour=8)
        if ret and ret["resolved_at"]:
            at = max(at, ret["resolved_at"] + HOUR)
        if amount <= 0 or at >= self.now:
            return 0, None
        method = "bank_account" if customer.bank_json else "bank_transfer"
        self._payment(rows, order_id, customer, amount, at, method)
        return amount, None

    def _payment(self, rows: Rows, order_id: int, customer: Customer, amount: int,
                 at: datetime, method: str) -> int:
        payment_id = self.ids.payment
        self.ids.payment += 1
        card = method == "card"
        rows.payment.append((
            payment_id, order_id, amount, method, "succeeded", f"bench-{payment_id}",
            f"cs_bench_{payment_id}" if card else f"OCR {order_id:09d}",
            f"pay_bench_{payment_id}" if card else None, "4242" if card else None, amount,
            iso(at), iso(at)))
        rows.ledger_entry.append((order_id, "payment", amount, f"payment:{payment_id}",
                                  f"Paid by {method.replace('_', ' ')}", iso(at)))
        audit(rows, at, "system", "payment.succeeded", "payment", payment_id,
              {"status": "pending"}, {"status": "succeeded", "settled_amount_minor": amount})
        return payment_id

    def _refund(self, rows: Rows, order_id: int, method: str, customer: Customer, ret: dict,
                amount: int, card_payment: int | None) -> None:
        rng = self.rng
        refund_id = self.ids.refund
        self.ids.refund += 1
        created = ret["resolved_at"]
        if card_payment is not None:
            destination = ("card", {"type": "card", "payment_id": f"pay_bench_{card_payment}"},
                           "Card •••• 4242")
        elif method == "card":
            destination = ("card", {"type": "card",
                                    "payment_id": f"checkout:{order_number(order_id)}"},
                           "The card you paid with")
        elif customer.bank_json:
            destination = ("bank_account", json.loads(customer.bank_json), customer.bank_masked)
        else:
            destination = None
        age = self.now - created
        roll = rng.random()
        odds = self.stuck_odds
        old = age > timedelta(days=REFUND_DUE_DAYS)
        # Old refunds were long since paid out or handled by support; a few are still stuck.
        if destination is None:
            if (old and roll < 0.002 * odds) or (not old and roll < 0.35):
                status = "needs_details"
            else:
                status = "succeeded"
                destination = ("iban", {"type": "iban", "iban": "SE4550000000058398257466"},
                               "SE45 •••• •••• •••• 7466")
        elif old:
            status = ("failed" if roll < 0.001 * odds else
                      "unknown" if roll < 0.0015 * odds else "succeeded")
        else:
            status = ("ready" if roll < 0.08 else "sending" if roll < 0.10 else
                      "failed" if roll < 0.10 + 0.015 * odds else
                      "unknown" if roll < 0.10 + 0.03 * odds else "succeeded")
        changed = created if status in ("needs_details", "ready") else \
            min(created + timedelta(minutes=rng.uniform(1, 60 * 24)), self.now)
        kind, provider, masked = destination if destination else (None, None, None)
        reason = f"Return {ret['id']}: items accepted"
        rows.refund.append((
            refund_id, order_id, ret["id"], amount, status, kind,
            json.dumps(provider) if provider else None, masked, reason,
            0 if status in ("needs_details", "ready") else 1,
            f"po_bench_{refund_id}" if status in ("succeeded", "failed") else None,
            {"failed": "account_closed", "unknown": "ReadTimeout: the provider did not answer"}
            .get(status), iso(created), iso(changed),
            iso(changed) if status == "succeeded" else None,
            iso(changed) if status == "unknown" else None))
        rows.ledger_entry.append((order_id, "refund", amount, f"refund:{refund_id}", reason,
                                  iso(created)))
        if destination:
            done = status in ("succeeded", "failed")
            rows.outbox.append(("payout", refund_id, "{}", "done" if done else "pending",
                                1 if status != "ready" else 0, iso(created), iso(created),
                                iso(changed) if done else None))
        audit(rows, created, f"merchant:{ret['merchant_id']}:api", "refund.created", "refund",
              refund_id,
              after={"amount": amount, "status": "ready" if destination else "needs_details",
                     "destination": masked})
        if status not in ("needs_details", "ready"):
            audit(rows, changed, "worker", f"refund.{status}", "refund", refund_id,
                  {"status": "sending"}, {"status": status})
