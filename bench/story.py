"""What happens to one generated order, as rows: bought, delivered, maybe returned, paid, refunded.

Each order's history is drawn from a seeded random generator and written the way the services
would have written it (services/orders.create_order, returns.report_return, decisions.register,
payments._settle, refunds.settle_refund_owed), so every page reads it as real data and every
money rule holds: the ledger's charge is the order total, each accepted item has its credit,
nobody pays more than was payable, and an overpayment has exactly one refund. The shops'
catalogs and the customers are in catalog.py, the rows in rows.py, the payments and refunds in
story_money.py.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from returns_app.domain import clock

from .catalog import REASONS, Customer, Merchant
from .rows import Ids, Rows, audit, iso, order_number
from .story_money import HOUR, REFUND_DUE_DAYS, Money

DAY = timedelta(days=1)
HISTORY_DAYS = 365
# Order ages lean recent (a growing shop): age = HISTORY_DAYS * u ** AGE_SKEW.
AGE_SKEW = 1.6
RETURN_SHARE = 0.165  # some draws fall outside the return window: 15 % end up returned
CARD_SHARE = 0.4
INVOICE_DAYS = 14
# From about this many orders the story's stuck cases fill several of support's queue pages
# (25 cases each). A smaller database gets its stuck cases (declined or unanswered payouts, refunds
# waiting for details, returns never registered) that many times more often, so the queue it
# serves shows as many cases as a big one's and the benchmark compares like with like (at most
# MAX_STUCK_ODDS times: most payouts of a tiny one still go through).
FULL_QUEUE_ORDERS = 250_000
MAX_STUCK_ODDS = 25.0

class Story(Money):
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
