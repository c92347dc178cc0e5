"""What the API answers: one schema per object. Response objects forbid unknown properties, so
a field added to an `as_api` function fails the tests until it is documented here too."""

from __future__ import annotations

from ...domain import states
from ...services.orders import CURRENCIES, PAYMENT_METHODS
from ...services.returns import REASONS
from .parts import (
    DAY,
    EVENT_TYPES,
    ID,
    INT,
    MOMENT,
    MONEY,
    NULLABLE_STR,
    REFUND_STATUSES,
    RETURN_STATUSES,
    STR,
    STUCK_REASONS,
    UNMATCHED_REASONS,
    answer,
    obj,
    ref,
)

RESPONSE_SCHEMAS = {
    "Error": obj({"error": obj({
        "code": STR, "message": STR,
        "fields": {"type": "object", "additionalProperties": STR,
                   "description": "Each bad field (a JSON path such as items[0].quantity) "
                                  "and what is wrong with it."},
        "problems": {"type": "array", "description": "Each problem of an instructions "
                                                     "document or a bank file, with its line "
                                                     "(camt.054: its element's path).",
                     "items": obj({"line": INT, "element": STR, "field": NULLABLE_STR,
                                   "message": STR}, ["message"])},
        "existing_return_id": {**ID, "description": "The open return that already holds "
                                                    "the item."},
        "allowed": {**MONEY, "description": "The most that may be paid now (a payment over "
                                            "it is 422)."},
    }, ["code", "message"])}, ["error"], closed=True),
    "Amounts": answer({
        **{k: MONEY for k in ("total", "paused", "paid", "refunded", "refund_owed")},
        "payable_now": {**MONEY, "description": "Exactly what POST /orders/{id}/payments accepts"
                        " now: owed for the items kept, less bank debits already scheduled. An"
                        " open card checkout is not taken off: a new payment cancels it."}}),
    "OrderLine": answer({"id": ID, "sku": STR, "name": STR, "quantity": INT,
                         "unit_price": MONEY, "returnable": {"type": "boolean"},
                         "returnable_quantity": INT}),
    "Order": answer({
        "id": ID, "order_number": {"type": "string", "description": "What the customer sees, "
                                                                    "e.g. 123-456-789."},
        "merchant_reference": STR,
        "merchant": answer({"id": ID, "name": STR}),
        "customer": answer({"email": STR, "name": STR}),
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
        "purchased_at": MOMENT, "delivered_at": {**MOMENT, "type": ["string", "null"]},
        "due_date": {**DAY, "type": ["string", "null"]},
        "lines": {"type": "array", "items": ref("OrderLine")},
        "amounts": ref("Amounts"),
        "returns": {"type": "array", "items": answer({
            "id": ID, "status": {"type": "string", "enum": RETURN_STATUSES}})},
        "invoice": {"oneOf": [{"type": "null"}, answer({
            "bankgiro": {"type": "string", "description": "The provider's bankgiro number, "
                                                          "e.g. 991-2346."},
            "ocr": {"type": "string", "pattern": "^[0-9]{2,25}$",
                    "description": "The OCR reference to pay with (Luhn check digit and "
                                   "length digit)."},
            "due_date": {**DAY, "type": ["string", "null"]}})],
            "description": "How to pay an invoice order from any bank; null for a card "
                           "order."},
    }),
    "ReturnItem": answer({
        "id": ID, "line_id": ID, "quantity": INT,
        "reason": {"type": "string", "enum": list(REASONS)}, "comment": STR,
        "received_quantity": INT, "accepted_quantity": INT, "rejected_quantity": INT,
    }),
    "ReturnInstructions": answer({
        "version": {"type": ["integer", "null"], "description": "Null when the merchant had "
                                                                "published none."},
        "language": NULLABLE_STR,
        "html": {"type": "string", "description": "Sanitized HTML: safe to show as it is."},
        "return_address": {"type": "array", "items": STR},
        "send_methods": {"type": "array", "items": STR},
    }),
    "Return": answer({
        "id": ID, "order_id": ID,
        "status": {"type": "string", "enum": RETURN_STATUSES},
        "reported_at": MOMENT, "send_by": DAY, "refund_due_by": DAY,
        "tracking_number": NULLABLE_STR,
        "items": {"type": "array", "items": ref("ReturnItem")},
        "instructions": ref("ReturnInstructions"),
    }),
    "Payment": answer({
        "id": ID, "order_id": ID, "amount": MONEY,
        "method": {"type": "string", "enum": ["card", "bank_account"]},
        "status": {"type": "string", "enum": [*states.PAYMENT_STATUSES]},
        "scheduled_for": {**DAY, "type": ["string", "null"]},
        "checkout_url": {"type": ["string", "null"],
                         "description": "Open it for the card payment page. Null once the"
                                        " checkout is paid, cancelled or expired (30 minutes"
                                        " after created_at); a replayed answer shows the"
                                        " payment as it is now."},
        "created_at": MOMENT,
    }),
    "Refund": answer({
        "id": ID, "order_id": ID, "amount": MONEY,
        "status": {"type": "string", "enum": REFUND_STATUSES},
        "destination": {"type": ["string", "null"], "description": "Masked, e.g. "
                                                                   "'Card •••• 4242'."},
        "created_at": MOMENT,
    }),
    "BankPayment": answer({
        "id": ID, "amount": {**MONEY, "description": "Minor units; negative for a BgMax "
                                                     "deduction."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "reference": {"type": "string", "description": "As the payer gave it."},
        "payer_name": STR, "booking_date": DAY,
        "status": {"type": "string", "enum": [*states.BANK_PAYMENT_STATUSES]},
        "unmatched_reason": {"type": ["string", "null"], "enum": [*UNMATCHED_REASONS, None]},
        "order_id": {"type": ["integer", "null"], "minimum": 1},
        "order_number": NULLABLE_STR,
    }),
    "BankAccount": answer({
        "bank_account": {"type": ["string", "null"],
                         "description": "Masked, e.g. 'SEB 5214, account ••••0127'; null when "
                                        "none is linked."},
        "linked_at": {**MOMENT, "type": ["string", "null"]},
        "pay_on_due_date": {"type": "boolean",
                            "description": "Every invoice is paid from the account on its due "
                                           "date."},
        "mandate": {"oneOf": [{"type": "null"}, answer({
            "confirmed_at": MOMENT, "language": {"type": "string", "enum": ["sv", "en"]},
            "version": STR, "text": {"type": "string", "description": "The exact wording "
                                                                     "confirmed."}})],
                    "description": "The direct-debit mandate confirmed for this account; "
                                   "null until then (no debit can be scheduled)."},
        "mandate_text": {"type": ["string", "null"],
                         "description": "The wording to show and have confirmed, in the "
                                        "Accept-Language (sv or en); null without an account."},
    }),
    "StuckRefund": answer({
        "refund_id": {"type": ["integer", "null"], "minimum": 1,
                      "description": "Null for a sent return the merchant hasn't registered: "
                                     "no refund exists yet, but the customer waits for money."},
        "unmatched_payment_id": {"type": ["integer", "null"], "minimum": 1,
                                 "description": "A bank payment no order was found for "
                                                "(then order, customer and refund are null)."},
        "payment_id": {"type": ["integer", "null"], "minimum": 1,
                       "description": "A due-date debit whose outcome the provider hasn't "
                                      "told (then refund_id and status are null)."},
        "order_id": {"type": ["integer", "null"], "minimum": 1},
        "order_number": NULLABLE_STR, "amount": MONEY,
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "status": {"type": ["string", "null"], "enum": [*REFUND_STATUSES, None],
                   "description": "The refund's state; null when there is no refund yet."},
        "reason": {"type": "string", "enum": STUCK_REASONS,
                   "description": "The most urgent reason it is stuck."},
        "why": {"type": "string", "description": "Why it is stuck, as a sentence."},
        "since": {"type": "string", "format": "date-time",
                  "description": "UTC, ISO-8601: when the wait this reason describes began."},
        "customer_email": NULLABLE_STR,
    }),
    "WebhookEndpoint": answer({
        "id": ID,
        "url": STR,
        "events": {"type": "array", "items": {"type": "string", "enum": EVENT_TYPES}},
        "status": {"type": "string", "enum": ["active", "failing"],
                   "description": "failing: an event went unanswered through the whole retry "
                                  "schedule (about a day); active again at the next 2xx."},
        "failing_since": {**NULLABLE_STR, "description": "UTC, ISO-8601; null when active."},
        "created_at": MOMENT,
        "secret_created_at": MOMENT,
    }),
}
RESPONSE_SCHEMAS["WebhookEndpointWithSecret"] = answer({
    **RESPONSE_SCHEMAS["WebhookEndpoint"]["properties"],
    "secret": {"type": "string", "pattern": "^whsec_[A-Za-z0-9+/]+=*$",
               "description": "The signing secret, shown in this answer only: whsec_ and "
                              "the base64 of the key (Standard Webhooks)."},
})
