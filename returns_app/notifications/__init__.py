"""Emails for customers who live by email, and reminders that never chase money not owed.

- `subscriber`: which email an event causes, queued in the event's own transaction
- `queue`: the notification row + its outbox row, each queued once (a unique key)
- `reminders`: the periodic scan ("send your return", "invoice due in 2 days") and its rules
- `preferences`: the customer's reminder channel and language; new links for expired ones
- `rendering`: subject, text and HTML of an email, with signed links (needs the Flask app)
- `sending`: the outbox handler that sends one email by SMTP and marks it sent
"""

# What each email is about; also the templates' names under templates/email/.
RETURN_REPORTED = "return_reported"
RETURN_DECIDED = "return_decided"
REFUND_SENT = "refund_sent"
PAYOUT_DETAILS_NEEDED = "payout_details_needed"
PAYMENT_RECEIPT = "payment_receipt"
MERCHANT_RETURN_WAITING = "merchant_return_waiting"
SEND_RETURN_REMINDER = "send_return_reminder"
INVOICE_DUE_REMINDER = "invoice_due_reminder"
NEW_LINK = "new_link"
WEBHOOK_FAILING = "webhook_failing"
DEBIT_DECLINED = "debit_declined"
DESTINATION_CHANGE = "destination_change"
STAFF_PASSWORD_RESET = "staff_password_reset"  # noqa: S105 (an email's name)
STAFF_PASSWORD_CHANGED = "staff_password_changed"  # noqa: S105 (an email's name)

REMINDER_KINDS = frozenset({SEND_RETURN_REMINDER, INVOICE_DUE_REMINDER})
KINDS = (RETURN_REPORTED, RETURN_DECIDED, REFUND_SENT, PAYOUT_DETAILS_NEEDED, PAYMENT_RECEIPT,
         MERCHANT_RETURN_WAITING, SEND_RETURN_REMINDER, INVOICE_DUE_REMINDER, NEW_LINK,
         WEBHOOK_FAILING, DEBIT_DECLINED, DESTINATION_CHANGE, STAFF_PASSWORD_RESET,
         STAFF_PASSWORD_CHANGED)
