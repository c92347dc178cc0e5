"""Money rules as pure functions, examples first, then invariants with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_app.domain.errors import Invalid
from returns_app.domain.money import ItemValue, LineValue, compute_amounts, parse_amount
from returns_app.web.filters import money


@pytest.mark.parametrize("text, minor", [
    ("0", 0), ("249,50", 24950), ("249.50", 24950), ("1 234,5", 123450),
    ("1\u00a0234,50 kr", 123450), ("10", 1000), ("0,01", 1),
])
def test_parse_amount(text, minor):
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text, message", [
    ("abc", "Enter an amount"), ("-5", "zero or more"), ("1,005", "two decimals"),
    ("NaN", "zero or more"), ("", "Enter an amount"),
])
def test_parse_amount_refuses(text, message):
    with pytest.raises(Invalid) as exc:
        parse_amount(text)
    assert message in exc.value.fields["amount"]


def test_money_is_formatted_the_swedish_way():
    assert money(123450).replace("\u00a0", " ") == "1 234,50 kr"
    assert money(0).replace("\u00a0", " ") == "0,00 kr"


LINES = [LineValue(2, 29900), LineValue(1, 79900)]  # T = 139 700


def test_open_return_pauses_its_value_and_only_the_kept_items_are_payable():
    amounts = compute_amounts(LINES, [ItemValue(1, 79900, 0, 0, open=True)], 0, 0)
    assert (amounts.total, amounts.payable_now, amounts.paused) == (139700, 59800, 79900)


def test_accepted_item_is_credited_and_overpayment_becomes_refund_owed():
    amounts = compute_amounts(LINES, [ItemValue(1, 79900, 1, 0, open=False)], 139700, 0)
    assert (amounts.payable_now, amounts.paused, amounts.refund_owed) == (0, 0, 79900)


def test_rejected_item_is_payable_again():
    amounts = compute_amounts(LINES, [ItemValue(1, 79900, 0, 1, open=False)], 0, 0)
    assert (amounts.payable_now, amounts.paused) == (139700, 0)


def test_cancelled_return_no_longer_pauses():
    amounts = compute_amounts(LINES, [ItemValue(1, 79900, 0, 0, open=False)], 0, 0)
    assert (amounts.payable_now, amounts.paused) == (139700, 0)


def test_paying_the_kept_items_leaves_only_the_paused_part():
    amounts = compute_amounts(LINES, [ItemValue(1, 79900, 0, 0, open=True)], 59800, 0)
    assert (amounts.payable_now, amounts.paused, amounts.refund_owed) == (0, 79900, 0)


@st.composite
def orders(draw):
    lines = draw(st.lists(st.builds(LineValue, st.integers(1, 5), st.integers(0, 10**6)),
                          min_size=1, max_size=5))
    items = []
    for line in lines:
        if draw(st.booleans()):
            quantity = draw(st.integers(1, line.quantity))
            accepted = draw(st.integers(0, quantity))
            rejected = draw(st.integers(0, quantity - accepted))
            items.append(ItemValue(quantity, line.unit_price, accepted, rejected,
                                   open=draw(st.booleans())))
    total = sum(line.quantity * line.unit_price for line in lines)
    payments = draw(st.integers(0, total))
    refunds = draw(st.integers(0, payments))
    return lines, items, payments, refunds


@given(orders())
def test_amounts_are_non_negative_integers_and_add_up(order):
    lines, items, payments, refunds = order
    a = compute_amounts(lines, items, payments, refunds)
    for value in (a.total, a.payable_now, a.paused, a.paid, a.refunded, a.refund_owed):
        assert isinstance(value, int) and value >= 0
    net_paid = payments - refunds
    outstanding = a.total - a.accepted - net_paid
    # What is owed is split exactly into payable now and paused; nothing is both.
    assert a.payable_now + a.paused == max(0, outstanding)
    # One never owes and is owed at once.
    assert not (a.refund_owed and (a.payable_now or a.paused))
    assert a.refund_owed == max(0, -outstanding)


@given(orders())
def test_paused_never_exceeds_the_open_returns_value(order):
    lines, items, payments, refunds = order
    a = compute_amounts(lines, items, payments, refunds)
    pending = sum((i.quantity - i.accepted - i.rejected) * i.unit_price for i in items if i.open)
    assert a.paused <= pending
