"""The money rules under any sequence of what customers, merchants, banks and the payout provider
do: a Hypothesis state machine over the real services, each example on a fresh database of the
engine under test (conftest's example_databases).

After every step the order's ledger must balance. With T the order total, A the accepted value,
P the value of undecided items in open returns and net_paid = payments - refunds, the ledger's
kinds give charge = T, credit = A, payment and refund, and for this code

    charge - credit - payment + refund == payable_now + paused - refund_owed

holds exactly: with owed = T - A - net_paid, payable_now = max(0, owed - P) and paused =
max(0, min(P, owed)) add up to max(0, owed), and refund_owed is max(0, -owed). Because a refund
is created the moment money is owed back, refund_owed (as the ledger counts it) is 0 after every
step, so the refunds always equal max(0, payments - (T - A)): never twice for the same money.
"""

from __future__ import annotations

import time
from datetime import timedelta

import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from returns_app.domain import clock
from returns_app.domain.errors import Conflict
from returns_app.domain.payout_details import parse_payout_details
from returns_app.domain.states import REFUND_STATUSES
from returns_app.services import decisions, orders, payments, refunds, returns
from returns_app.store.db import select, write_transaction
from tests.builders import checkout_payload, link_bank_account, make_merchant, viewer_for

MACHINE_SETTINGS = settings(
    max_examples=200, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
OPEN = ("reported", "sent", "received")
DECIDABLE = (*OPEN, "expired")  # an expired return's parcel may still arrive
IBAN = parse_payout_details({"iban": "SE4550000000058398257466"})


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self, databases) -> None:
        super().__init__()
        self._open = databases.fresh()
        self.db = self._open.__enter__()
        self.order: dict | None = None
        self.paid = 0  # the model: money that arrived, each bank statement line once
        self.references: dict[str, int] = {}

    def teardown(self) -> None:
        self._open.__exit__(None, None, None)

    # --- reading ----------------------------------------------------------------------------
    @property
    def order_id(self) -> int:
        return self.order["id"]

    def returns_in(self, statuses: tuple[str, ...]) -> list[dict]:
        marks = ", ".join("?" for _ in statuses)
        return list(select(self.db,
            f"SELECT id, status FROM returns WHERE order_id = ? AND status IN ({marks})"
            " ORDER BY id", [self.order_id, *statuses]))

    def undecided_returns(self) -> list[dict]:
        return [r for r in self.returns_in(DECIDABLE) if self.undecided(r["id"])]

    def undecided(self, return_id: int) -> list[dict]:
        return list(select(self.db,
            "SELECT id, quantity - accepted_quantity - rejected_quantity AS left FROM return_item"
            " WHERE return_id = ? AND accepted_quantity + rejected_quantity < quantity ORDER BY id",
            [return_id]))

    def refunds_in(self, statuses: tuple[str, ...]) -> list[dict]:
        return [r for r in refunds.refunds_of_order(self.db, self.order_id)
                if r["status"] in statuses]

    # --- the order ----------------------------------------------------------------------------
    @initialize(
        lines=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 150_000)), min_size=1,
                       max_size=3),
        method=st.sampled_from(["invoice", "card"]),
        linked=st.booleans())
    def buy(self, lines, method, linked):
        payload = checkout_payload(payment_method=method, lines=[
            {"sku": f"SKU-{i}", "name": f"Item {i}", "quantity": q, "unit_price": price}
            for i, (q, price) in enumerate(lines)])
        self.order = orders.create_order(self.db, 1, payload)
        if linked:
            link_bank_account(self.db, self.order["customer_id"])
        if method == "card":
            self.paid = sum(q * price for q, price in lines)

    # --- the customer -------------------------------------------------------------------------
    def returnable(self) -> list[dict]:
        return [line for line in orders.lines_with_returnable(self.db, self.order_id)
                if line["returnable_quantity"] > 0]

    @precondition(lambda self: self.returnable())
    @rule(data=st.data())
    def report_return(self, data):
        lines = data.draw(st.lists(st.sampled_from(self.returnable()), min_size=1,
                                   unique_by=lambda line: line["id"]), label="lines")
        items = [{"line_id": line["id"], "reason": "changed_mind",
                  "quantity": data.draw(st.integers(1, line["returnable_quantity"]),
                                        label="quantity")} for line in lines]
        returns.report_return(self.db, viewer_for(self.order), self.order_id, {"items": items})

    @rule()
    def customer_looks_at_the_order(self):
        shown = orders.as_api(orders.order_details(self.db, self.order_id))["amounts"]
        assert shown == orders.amounts(self.db, self.order_id).as_api()

    @precondition(lambda self: self.returns_in(("reported",)))
    @rule(data=st.data())
    def cancel_return(self, data):
        ret = data.draw(st.sampled_from(self.returns_in(("reported",))), label="return")
        returns.cancel_return(self.db, viewer_for(self.order), ret["id"])

    @precondition(lambda self: self.returns_in(("reported",)))
    @rule(data=st.data())
    def send_return(self, data):
        ret = data.draw(st.sampled_from(self.returns_in(("reported",))), label="return")
        returns.mark_sent(self.db, viewer_for(self.order), ret["id"], "RR123456785SE")

    @precondition(lambda self: self.returns_in(("reported",)))
    @rule()
    def send_by_date_passes(self):
        with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
            assert returns.expire_overdue(self.db)

    @precondition(lambda self: payments.allowed_now(self.db, self.order_id) > 0)
    @rule(data=st.data())
    def money_arrives(self, data):
        allowed = payments.allowed_now(self.db, self.order_id)
        amount = data.draw(st.one_of(st.just(allowed), st.integers(1, allowed)), label="amount")
        reference = f"OCR {len(self.references) + 1}"
        payments.record_transfer(self.db, self.order_id, amount, reference, actor="bank")
        self.references[reference] = amount
        self.paid += amount

    @rule(data=st.data())
    def more_money_arrives_than_was_asked_for(self, data):
        """People round up, or pay an invoice twice: what is too much goes back at once."""
        allowed = payments.allowed_now(self.db, self.order_id)
        amount = data.draw(st.integers(allowed + 1, allowed + 100_000), label="amount")
        reference = f"OCR {len(self.references) + 1}"
        payments.record_transfer(self.db, self.order_id, amount, reference, actor="bank")
        self.references[reference] = amount
        self.paid += amount

    @precondition(lambda self: self.references)
    @rule(data=st.data())
    def bank_statement_read_again(self, data):
        reference = data.draw(st.sampled_from(sorted(self.references)), label="reference")
        payments.record_transfer(self.db, self.order_id, self.references[reference], reference,
                                 actor="bank")

    @precondition(lambda self: self.refunds_in(("needs_details", "failed")))
    @rule(data=st.data())
    def customer_chooses_where_the_refund_goes(self, data):
        refund = data.draw(st.sampled_from(self.refunds_in(("needs_details", "failed"))),
                           label="refund")
        refunds.set_destination(self.db, refund["id"], IBAN, actor="customer")

    # --- the merchant -------------------------------------------------------------------------
    def register(self, data, accept: bool, reject: bool) -> None:
        ret = data.draw(st.sampled_from(self.undecided_returns()), label="return")
        open_items = self.undecided(ret["id"])
        chosen = data.draw(st.lists(st.sampled_from(open_items), min_size=1,
                                    unique_by=lambda i: i["id"]), label="items")
        items = []
        for item in chosen:
            accepted = data.draw(st.integers(1 if not reject else 0,
                                             item["left"] if accept else 0), label="accepted")
            rejected = (data.draw(st.integers(1 if accepted == 0 else 0,
                                              item["left"] - accepted), label="rejected")
                        if reject else 0)
            items.append({"return_item_id": item["id"], "accepted_quantity": accepted,
                          "rejected_quantity": rejected, "reason": "Worn"})
        payload = {"items": items}
        try:
            decisions.register(self.db, 1, ret["id"], payload, actor="merchant")
        except Conflict as exc:
            # Only the parcel of an expired return whose items were reported again.
            assert ret["status"] == "expired" and exc.details.get("other_return_id"), exc

    @precondition(lambda self: self.undecided_returns())
    @rule(data=st.data())
    def merchant_accepts(self, data):
        self.register(data, accept=True, reject=False)

    @precondition(lambda self: self.undecided_returns())
    @rule(data=st.data())
    def merchant_rejects(self, data):
        self.register(data, accept=False, reject=True)

    @precondition(lambda self: self.undecided_returns())
    @rule(data=st.data())
    def merchant_accepts_some_and_rejects_some(self, data):
        self.register(data, accept=True, reject=True)

    # --- the payout provider, simulated -------------------------------------------------------
    def payout(self, data, outcome: str) -> None:
        refund = data.draw(st.sampled_from(self.refunds_in(("ready", "unknown"))),
                           label="refund")
        with write_transaction(self.db):
            refunds.start_sending(self.db, refund["id"])
            refunds.record_outcome(self.db, refund["id"], outcome, "po_sim", f"sandbox {outcome}")

    @precondition(lambda self: self.refunds_in(("ready", "unknown")))
    @rule(data=st.data())
    def payout_succeeds(self, data):
        self.payout(data, "succeeded")

    @precondition(lambda self: self.refunds_in(("ready", "unknown")))
    @rule(data=st.data())
    def payout_fails(self, data):
        self.payout(data, "declined")

    @precondition(lambda self: self.refunds_in(("ready", "unknown")))
    @rule(data=st.data())
    def payout_outcome_unknown(self, data):
        self.payout(data, "unknown")

    # --- after every step ---------------------------------------------------------------------
    @invariant()
    def the_money_adds_up(self):
        if self.order is None:
            return
        db, order_id = self.db, self.order_id
        ledger = dict(db.execute("SELECT kind, sum(amount_minor) FROM ledger_entry"
                                 " WHERE order_id = ? GROUP BY kind", [order_id]).fetchall())
        charge, credit = ledger.get("charge", 0), ledger.get("credit", 0)
        paid, refunded = ledger.get("payment", 0), ledger.get("refund", 0)
        total = db.execute("SELECT coalesce(sum(quantity * unit_price_minor), 0) FROM order_line"
                           " WHERE order_id = ?", [order_id]).fetchone()[0]
        accepted, pending = db.execute(
            "SELECT coalesce(sum(accepted_quantity * unit_price_minor), 0),"
            " coalesce(sum(CASE WHEN returns.status IN ('reported', 'sent', 'received') THEN"
            " (return_item.quantity - accepted_quantity - rejected_quantity) * unit_price_minor"
            " ELSE 0 END), 0) FROM return_item JOIN returns ON returns.id = return_id"
            " JOIN order_line ON order_line.id = order_line_id WHERE returns.order_id = ?",
            [order_id]).fetchone()
        settled = db.execute("SELECT coalesce(sum(settled_amount_minor), 0) FROM payment"
                             " WHERE order_id = ? AND status = 'succeeded'",
                             [order_id]).fetchone()[0]
        refund_rows = refunds.refunds_of_order(db, order_id)
        booked = orders.ledger_amounts(db, order_id)
        seen = orders.amounts(db, order_id)

        # Every amount is a whole number of öre, never negative.
        for amounts in (booked, seen):
            for name, value in vars(amounts).items():
                assert type(value) is int and value >= 0, (name, value, amounts)
        for kind, value in ledger.items():
            assert type(value) is int and value > 0, (kind, value)

        # The ledger books exactly what happened, once.
        assert charge == total == booked.total
        assert credit == accepted == booked.accepted <= total
        at_purchase = total if self.order["payment_method"] == "card" else 0  # no payment row
        assert paid == settled + at_purchase == self.paid == booked.paid
        assert refunded == sum(r["amount_minor"] for r in refund_rows) == booked.refunded
        net_paid = paid - refunded
        assert 0 <= refunded <= paid and net_paid >= 0

        # The ledger balances against the order total.
        assert charge - credit - paid + refunded == (
            booked.payable_now + booked.paused - booked.refund_owed)
        assert charge - credit - paid + seen.refunded == (
            seen.payable_now + seen.paused - seen.refund_owed)
        assert booked.payable_now + booked.paused == max(0, total - accepted - net_paid)
        assert booked.paused == max(0, min(pending, total - accepted - net_paid))

        # Owed money becomes a refund at once, and the same money never twice.
        assert booked.refund_owed == 0
        assert refunded == max(0, paid - (total - accepted))
        under_way = sum(r["amount_minor"] for r in refund_rows if r["status"] != "succeeded")
        assert (seen.refunded, seen.refund_owed) == (refunded - under_way, under_way)
        keys = {r[0]: r[1] for r in db.execute(
            "SELECT idempotency_key, amount_minor FROM ledger_entry WHERE order_id = ?"
            " AND kind = 'refund'", [order_id]).fetchall()}
        assert keys == {f"refund:{r['id']}": r["amount_minor"] for r in refund_rows}
        for refund in refund_rows:
            assert refund["amount_minor"] > 0 and refund["status"] in REFUND_STATUSES
            rows = db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout'"
                              " AND subject_id = ?", [refund["id"]]).fetchone()[0]
            if refund["status"] == "needs_details":
                assert rows == 0 and refund["destination_json"] is None
            else:
                assert rows >= 1 and refund["destination_json"]

        # Nothing can be returned more often than it was bought.
        for line in orders.lines_with_returnable(db, order_id):
            assert 0 <= line["returnable_quantity"] <= line["quantity"]
        # A return is resolved exactly when every item in it is decided.
        for ret in self.returns_in(("received", "resolved")):
            assert bool(self.undecided(ret["id"])) == (ret["status"] == "received"), ret


def test_the_money_rules_hold_under_any_sequence_of_events(example_databases):
    databases = example_databases(lambda db: make_merchant(db, instructions=None))
    started = time.monotonic()
    run_state_machine_as_test(lambda: MoneyMachine(databases), settings=MACHINE_SETTINGS)
    print(f"money state machine: {time.monotonic() - started:.1f}s")
