"""The stuck queue's read model, as each migration that changed it defined it: views over the
rows each rule reads (stuck_candidate holds their contents, kept by triggers; a test holds the
two equal). A migration's text never changes, so each change is a new definition here. What the
read model buys: README.md, "What each piece of speed machinery buys", row "stuck_candidate"."""

from __future__ import annotations

# What the stuck queue ranks, per unfinished refund and per sent or received return, computed
# from the rows it depends on. The views are the definition; stuck_candidate is their contents
# kept by m009's triggers (a test holds the two equal). The rules' clocks are not stored: the
# queue compares these columns with the time when it is asked.
STUCK_REFUND_SOURCE = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE refund.status WHEN 'failed' THEN 'failed'
            WHEN 'unknown' THEN 'unknown_over_1_hour' WHEN 'sending' THEN 'unknown_over_1_hour'
            WHEN 'needs_details' THEN 'needs_details_over_3_days' END AS slow_code,
        CASE WHEN refund.status IN ('unknown', 'sending')
            THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""


STUCK_RETURN_SOURCE = """
    SELECT 1 AS kind, returns.id AS item_id, returns.order_id,
        CASE WHEN NOT EXISTS (SELECT 1 FROM refund WHERE refund.return_id = returns.id)
            AND EXISTS (SELECT 1 FROM ledger_entry WHERE ledger_entry.order_id = returns.order_id
                        AND ledger_entry.kind = 'payment')
            THEN returns.refund_due_by END AS deadline,
        returns.reported_at AS deadline_since,
        CASE WHEN returns.status = 'sent' THEN 'not_registered_14_days_after_sent' END
            AS slow_code,
        returns.sent_at AS slow_since
    FROM returns WHERE returns.status IN ('sent', 'received')"""


def refresh_stuck(kind: str, ids: str) -> str:
    """Trigger statements that recompute the queue's rows for the refunds or returns `ids`."""
    view, number = ("stuck_refund_source", 0) if kind == "refund" else ("stuck_return_source", 1)
    return (f"DELETE FROM stuck_candidate WHERE kind = {number} AND item_id IN ({ids});\n"
            f"INSERT INTO stuck_candidate SELECT * FROM {view} WHERE item_id IN ({ids});\n")


# An unmatched bank payment (m012) is stuck once it has waited 2 whole banking days; banking
# days need the holiday calendar, so the row keeps its booking date and the queue compares it
# with a cutoff computed in Python (domain/stuck_rules.py).
STUCK_UNMATCHED_SOURCE = """
    SELECT 2 AS kind, bank_payment.id AS item_id, NULL AS order_id, NULL AS deadline,
        NULL AS deadline_since, 'unmatched_payment_over_2_banking_days' AS slow_code,
        bank_payment.booking_date AS slow_since
    FROM bank_payment WHERE bank_payment.status = 'unmatched'"""


# The stuck queue's refund rows as of m014: an unknown payout the worker stopped retrying
# quickly is "provider_not_answering" from that moment (no hour's wait), most urgent after
# "failed". m009's view stays as it was: a migration's text never changes.
STUCK_REFUND_SOURCE_M014 = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN 'provider_not_answering'
            WHEN refund.status = 'failed' THEN 'failed'
            WHEN refund.status IN ('unknown', 'sending') THEN 'unknown_over_1_hour'
            WHEN refund.status = 'needs_details' THEN 'needs_details_over_3_days' END
            AS slow_code,
        CASE WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN refund.provider_silent_since
            WHEN refund.status IN ('unknown', 'sending')
                THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""


# The stuck queue's refund rows as of m018: a customer who objected to a destination support
# chose comes first of the slow reasons (a person must find out why), then m014's rules.
STUCK_REFUND_SOURCE_M018 = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE WHEN refund.objected_at IS NOT NULL THEN 'destination_objected'
            WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN 'provider_not_answering'
            WHEN refund.status = 'failed' THEN 'failed'
            WHEN refund.status IN ('unknown', 'sending') THEN 'unknown_over_1_hour'
            WHEN refund.status = 'needs_details' THEN 'needs_details_over_3_days' END
            AS slow_code,
        CASE WHEN refund.objected_at IS NOT NULL THEN refund.objected_at
            WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN refund.provider_silent_since
            WHEN refund.status IN ('unknown', 'sending')
                THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""


# A due-date debit whose outcome the provider hasn't told after the worker's quick retries:
# money may have left the customer's account, so a person must know (the worker keeps asking
# every few hours). Its own kind (3) of item, named by the payment.
STUCK_DEBIT_SOURCE = """
    SELECT 3 AS kind, payment.id AS item_id, payment.order_id, NULL AS deadline,
        NULL AS deadline_since, 'debit_outcome_unknown' AS slow_code,
        payment.provider_silent_since AS slow_since
    FROM payment WHERE payment.status = 'scheduled'
        AND payment.provider_silent_since IS NOT NULL"""
