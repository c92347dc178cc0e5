"""Every status of a return, a refund, a payment and a bank payment, declared once, with one
transition table per entity, and the one `move` that changes any of those statuses.

A new status goes into its entity's STATUSES tuple (and the table's CHECK, by a migration); a
new transition into its TRANSITIONS table. Nothing else writes these `status` columns
(tests/domain/test_states.py reads the source to make sure)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Conflict

# --- returns ----------------------------------------------------------------------------------

RETURN_STATUSES = ("reported", "sent", "received", "resolved", "cancelled", "expired")
RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"sent", "received", "cancelled", "expired"}),
    # A parcel can arrive although the customer never said it was sent, or after the pause ended.
    "sent": frozenset({"received"}),
    "expired": frozenset({"received"}),
    "received": frozenset({"resolved"}),
    "resolved": frozenset(),
    "cancelled": frozenset(),
}
OPEN_RETURN_STATUSES = frozenset({"reported", "sent", "received"})
# Items in these returns no longer count against what can be returned.
ENDED_WITHOUT_RETURN = frozenset({"cancelled", "expired"})

# --- refunds ----------------------------------------------------------------------------------

REFUND_STATUSES = ("needs_details", "ready", "sending", "succeeded", "failed", "unknown")
# succeeded from needs_details or failed: support booked it as paid outside the system.
# ready to needs_details: the customer objected to a destination support chose, before the
# payout left (it waits out a hold of 24 hours, see services/destination_changes.py).
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    "needs_details": frozenset({"ready", "succeeded"}),
    "ready": frozenset({"sending", "needs_details"}),
    "sending": frozenset({"succeeded", "failed", "unknown"}),
    "unknown": frozenset({"succeeded", "failed", "unknown", "sending"}),
    "failed": frozenset({"ready", "succeeded"}),
    "succeeded": frozenset(),
}
# Money is certainly not on its way in these states; anywhere else it may be.
REFUND_PAYABLE_OUTSIDE = ("needs_details", "failed")

# --- payments ---------------------------------------------------------------------------------

PAYMENT_STATUSES = ("pending", "scheduled", "succeeded", "failed", "cancelled")
# pending: a card checkout open at the provider, or a bank transfer being booked; scheduled: a
# debit from the linked account waiting for its day (declined for lack of funds, it stays
# scheduled for the next try).
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"succeeded", "cancelled"}),
    "scheduled": frozenset({"succeeded", "failed", "cancelled"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}

# --- bank payments (money in from the bank's files) -------------------------------------------

BANK_PAYMENT_STATUSES = ("booked", "unmatched", "to_return")
BANK_PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    # Support books it to the order the payer meant, or marks it to go back to the payer.
    "unmatched": frozenset({"booked", "to_return"}),
    "booked": frozenset(),
    "to_return": frozenset(),
}


@dataclass(frozen=True)
class Entity:
    """What `move` needs to know of an entity: its table, its transitions, and the sentences a
    refused move answers with (translated in web/domain_messages.py, so they stay as they
    are)."""

    table: str
    transitions: dict[str, frozenset[str]]
    refused: str  # formatted with current and target
    changed: str
    stamp: str | None = None  # a column set to the time of every move


ENTITIES = {
    "return": Entity("returns", RETURN_TRANSITIONS,
                     "This can't be done while the return is {current}.",
                     "The return changed meanwhile; reload and try again."),
    "refund": Entity("refund", REFUND_TRANSITIONS, "A refund can't go from {current} to {target}.",
                     "The refund changed meanwhile.", stamp="status_changed_at"),
    "payment": Entity("payment", PAYMENT_TRANSITIONS,
                      "A payment can't go from {current} to {target}.",
                      "The payment changed meanwhile."),
    "bank_payment": Entity("bank_payment", BANK_PAYMENT_TRANSITIONS,
                           "This payment has already been dealt with.",
                           "This payment has already been dealt with."),
}
STATUSES = {"return": RETURN_STATUSES, "refund": REFUND_STATUSES,
            "payment": PAYMENT_STATUSES, "bank_payment": BANK_PAYMENT_STATUSES}


def can_move_to(entity: str, target: str) -> tuple[str, ...]:
    """The statuses from which the entity may move to `target`, in STATUSES order."""
    transitions = ENTITIES[entity].transitions
    return tuple(s for s in STATUSES[entity] if target in transitions.get(s, ()))


def check(entity: str, current: str, target: str) -> None:
    """Refuses (Conflict) a transition the entity's table doesn't allow."""
    found = ENTITIES[entity]
    if target not in found.transitions.get(current, frozenset()):
        raise Conflict(found.refused.format(current=current, target=target),
                       current=current, target=target)
