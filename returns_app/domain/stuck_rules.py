"""Why something is in support's stuck queue: every rule once, in one table (RULES).

A rule names its reason code, the kind of item it judges (a refund, a sent return with no
refund of its own, an unmatched bank payment, a due-date debit), its condition on the item's
own row (clock-free), the column its wait began at ("since") and, where the wait may last a
while, its clock. The table's order is the reasons' priority: most urgent first.

From this table come
- the Python reasons of one row (`reasons`): the refund page, the queue's shown items;
- the SQL that ranks and counts the queue (store/stuck_queue.py renders each rule's clock as a
  comparison on stuck_candidate, the trigger-kept read model).
The read model's views (store/migrations/stuck_sources.py) are released migration text and
keep their own spelling of the clock-free conditions: tests/store/test_stuck_queue_sql.py holds them
equal to this table (docs/design.md, "The stuck queue", says why they aren't generated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import banking_days, clock

NEEDS_DETAILS_AFTER = timedelta(days=3)
UNKNOWN_AFTER = timedelta(hours=1)
NOT_REGISTERED_AFTER = timedelta(days=14)
DEADLINE_NEAR_DAYS = 2
UNMATCHED_BANKING_DAYS = 2

# The kinds of item, numbered as stuck_candidate.kind numbers them; ties between equally
# urgent items go to the lower number.
REFUND, RETURN, UNMATCHED, DEBIT = "refund", "return", "unmatched", "debit"
KIND_NUMBERS = {REFUND: 0, RETURN: 1, UNMATCHED: 2, DEBIT: 3}


# --- conditions on one row ----------------------------------------------------------------------

@dataclass(frozen=True)
class Is:
    """The column holds one of these values."""

    column: str
    values: tuple[str, ...]

    def __init__(self, column: str, *values: str) -> None:
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "values", values)

    def holds(self, row: dict) -> bool:
        return row.get(self.column) in self.values


@dataclass(frozen=True)
class Given:
    """The column is set (not NULL, not empty, not 0)."""

    column: str

    def holds(self, row: dict) -> bool:
        return bool(row.get(self.column))


@dataclass(frozen=True)
class Not:
    """Not all of these conditions hold together."""

    conditions: tuple

    def __init__(self, *conditions) -> None:
        object.__setattr__(self, "conditions", conditions)

    def holds(self, row: dict) -> bool:
        return not all(c.holds(row) for c in self.conditions)


# --- clocks: how long a wait may last -----------------------------------------------------------

@dataclass(frozen=True)
class Waited:
    """Stuck once the wait (an ISO-8601 time) began more than `longer_than` ago."""

    longer_than: timedelta

    def limit(self, now: datetime) -> str:
        return clock.iso(now - self.longer_than)

    def reached(self, since: str, due: str | None, now: datetime) -> bool:
        return clock.parse(since) < now - self.longer_than


@dataclass(frozen=True)
class WaitedBankingDays:
    """Stuck once the wait (a booking date) lasted `days` whole banking days: booked on a
    Friday, 2 days are up on Wednesday."""

    days: int

    def limit(self, now: datetime) -> str:
        return banking_days.cutoff(clock.local_date(now), self.days).isoformat()

    def reached(self, since: str, due: str | None, now: datetime) -> bool:
        return since < self.limit(now)


@dataclass(frozen=True)
class DueWithin:
    """Stuck while the legal refund deadline (a date) lies between `first` and `last` days from
    today (Stockholm's), both included; None: without that end."""

    first: int | None
    last: int | None

    def reached(self, since: str, due: str | None, now: datetime) -> bool:
        if not due:
            return False
        days = (date.fromisoformat(due) - clock.local_date(now)).days
        return ((self.first is None or days >= self.first)
                and (self.last is None or days <= self.last))


DEADLINE_PASSED = DueWithin(None, -1)
DEADLINE_NEAR = DueWithin(0, DEADLINE_NEAR_DAYS)


# --- the table ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    when: tuple = ()  # conditions on the row, all must hold; the clock comes on top
    since: tuple[str, ...] = ()  # the first of these columns that is set: when the wait began
    clock: Waited | WaitedBankingDays | DueWithin | None = None  # None: stuck at once
    deadline: str | None = None  # for the deadline rules: the column holding the date
    detail: str | None = None  # a column the reason carries along (the provider's decline)

    @property
    def by_deadline(self) -> bool:
        return self.deadline is not None


# Which rows are items at all; a row outside these is never stuck (a paid refund, a return
# not sent yet, a booked bank payment, a debit the provider answered about).
LIVE = {
    REFUND: (Not(Is("status", "succeeded")),),
    RETURN: (Is("status", "sent", "received"),),
    UNMATCHED: (Is("status", "unmatched"),),
    DEBIT: (Is("status", "scheduled"), Given("provider_silent_since")),
}

# The legal clock only matters where money is owed back: a refund not yet paid out, or a sent
# return with something paid and no refund started (a started refund is judged as a refund).
_REFUND_DEADLINE = dict(kind=REFUND, since=("reported_at", "created_at"),
                        deadline="refund_due_by")
_RETURN_DEADLINE = dict(kind=RETURN, when=(Not(Given("has_refund")), Given("customer_paid")),
                        since=("reported_at",), deadline="refund_due_by")
# The worker's quick retries are used up and it now asks only every few hours: a person should
# know at once, not an hour later.
_PROVIDER_SILENT = (Is("status", "unknown"), Given("provider_silent_since"))

RULES = (  # most urgent first: a broken legal deadline before anything that is merely slow
    Rule("refund_deadline_passed", clock=DEADLINE_PASSED, **_REFUND_DEADLINE),
    Rule("refund_deadline_passed", clock=DEADLINE_PASSED, **_RETURN_DEADLINE),
    Rule("refund_deadline_near", clock=DEADLINE_NEAR, **_REFUND_DEADLINE),
    Rule("refund_deadline_near", clock=DEADLINE_NEAR, **_RETURN_DEADLINE),
    # The customer stopped a destination support chose: a person must find out why.
    Rule("destination_objected", REFUND, when=(Given("objected_at"),), since=("objected_at",)),
    Rule("failed", REFUND, when=(Is("status", "failed"),), since=("status_changed_at",),
         detail="last_error"),
    Rule("provider_not_answering", REFUND, when=_PROVIDER_SILENT,
         since=("provider_silent_since",)),
    # A due-date debit nobody knows the outcome of: the customer's money may be gone.
    Rule("debit_outcome_unknown", DEBIT, since=("provider_silent_since",)),
    # The hour counts from the first unknown: the worker's retries pass through sending.
    Rule("unknown_over_1_hour", REFUND, when=(Is("status", "unknown", "sending"),
                                              Not(*_PROVIDER_SILENT)),
         since=("unknown_since", "status_changed_at"), clock=Waited(UNKNOWN_AFTER)),
    # Money in that no order shows: its customer may be reminded of an invoice already paid.
    Rule("unmatched_payment_over_2_banking_days", UNMATCHED, since=("booking_date",),
         clock=WaitedBankingDays(UNMATCHED_BANKING_DAYS)),
    Rule("needs_details_over_3_days", REFUND, when=(Is("status", "needs_details"),),
         since=("status_changed_at",), clock=Waited(NEEDS_DETAILS_AFTER)),
    Rule("not_registered_14_days_after_sent", RETURN, when=(Is("status", "sent"),),
         since=("sent_at",), clock=Waited(NOT_REGISTERED_AFTER)),
)

REASONS = tuple(dict.fromkeys(rule.code for rule in RULES))  # most urgent first
PRIORITY = {code: rank for rank, code in enumerate(REASONS)}
DEADLINE_REASONS = tuple(dict.fromkeys(r.code for r in RULES if r.by_deadline))
# The kinds a deadline rule judges: their slow reasons count only where no deadline reason does.
KINDS_WITH_DEADLINES = frozenset(r.kind for r in RULES if r.by_deadline)


def rules_of(code: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.code == code)


def _slow_statuses(rule: Rule) -> frozenset | None:
    found = [set(c.values) for c in rule.when if isinstance(c, Is) and c.column == "status"]
    return frozenset.intersection(*map(frozenset, found)) if found else None


def _one_slow_reason_per_item() -> bool:
    """The read model keeps one slow reason per item: the first whose conditions hold, its
    clock compared when the queue is asked. That names the same main reason as these rules only
    if a slow rule with a clock is never followed by another of its kind that could hold at
    the same time: they must want different statuses."""
    slow = [rule for rule in RULES if not rule.by_deadline]
    for at, rule in enumerate(slow):
        for later in slow[at + 1:]:
            if rule.clock and later.kind == rule.kind:
                mine, theirs = _slow_statuses(rule), _slow_statuses(later)
                if mine is None or theirs is None or mine & theirs:
                    return False
    return True


assert _one_slow_reason_per_item(), "a slow rule with a clock hides a later one"


# --- the rules applied to one row ---------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    code: str
    since: str  # ISO-8601 UTC: when the wait this reason describes began
    deadline: str | None = None  # the legal refund deadline (a date), for the deadline reasons
    detail: str | None = None  # the provider's decline, for "failed"

    @property
    def urgency(self) -> tuple:
        return (PRIORITY[self.code], self.deadline or "", self.since)


def holds(conditions: tuple, row: dict) -> bool:
    return all(condition.holds(row) for condition in conditions)


def since_of(rule: Rule, row: dict) -> str | None:
    return next((row[column] for column in rule.since if row.get(column)), None)


def reasons(kind: str, row: dict, now: datetime) -> list[Reason]:
    """Why this item is stuck, most urgent first; [] when it isn't. `row` holds the columns
    the kind's rules name (store/stuck_queue.py reads them)."""
    if not holds(LIVE[kind], row):
        return []
    found = []
    for rule in RULES:
        if rule.kind != kind or not holds(rule.when, row):
            continue
        since = since_of(rule, row)
        due = row.get(rule.deadline) if rule.deadline else None
        if rule.clock is None or rule.clock.reached(since, due, now):
            found.append(Reason(rule.code, since, deadline=due,
                                detail=row.get(rule.detail) if rule.detail else None))
    return sorted(found, key=lambda r: r.urgency)
