"""What clients send: one schema per request body. Request objects allow unknown properties:
the API ignores what it doesn't know."""

from __future__ import annotations

from ...domain.validation import MOMENT_PATTERN
from ...services.orders import CURRENCIES, PAYMENT_METHODS
from ...services.returns import REASONS
from .parts import EVENT_TYPES, ID, STR, obj

REQUEST_SCHEMAS = {
    "NewOrder": obj({
        "merchant_reference": {"type": "string", "minLength": 1, "maxLength": 100,
                               "pattern": r"\S"},
        "customer": obj({"email": {"type": "string", "format": "email", "maxLength": 254},
                         "name": {"type": "string", "minLength": 1, "maxLength": 200,
                                  "pattern": r"\S"}},
                        ["email", "name"]),
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
        "purchased_at": {"type": ["string", "null"], "format": "date-time",
                         "pattern": MOMENT_PATTERN, "description": "Now when left out."},
        "delivered_at": {"type": ["string", "null"], "format": "date-time",
                         "pattern": MOMENT_PATTERN,
                         "description": "Not yet delivered when left out."},
        "lines": {"type": "array", "minItems": 1, "maxItems": 200, "items": obj({
            "sku": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
            "unit_price": {"type": "integer", "minimum": 0, "maximum": 10**10},
        }, ["sku", "name", "quantity", "unit_price"])},
    }, ["merchant_reference", "customer", "currency", "payment_method", "lines"]),
    "NewSession": obj({"order_number": STR, "email": STR}, ["order_number", "email"]),
    "NewReturn": obj({"items": {"type": "array", "minItems": 1, "items": obj({
        "line_id": ID, "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
        "reason": {"type": "string", "enum": list(REASONS)},
        "comment": {"type": ["string", "null"], "maxLength": 500,
                    "description": "Required when the reason is 'other'."},
    }, ["line_id", "quantity", "reason"])}}, ["items"]),
    "Shipment": obj({"tracking_number": {
        "type": ["string", "null"], "maxLength": 64, "pattern": "^[A-Za-z0-9 -]*$",
        "description": "Optional: ASCII letters, digits, spaces and dashes."}}),
    "NewPayment": obj({"amount": {"type": "integer", "minimum": 1, "maximum": 10**10},
                       "method": {"type": ["string", "null"],
                                  "enum": ["card", "bank_account", None],
                                  "description": "The linked bank account if there is one, "
                                                 "else card, when left out."}},
                      ["amount"]),
    "PayoutDetails": {"oneOf": [
        obj({"clearing_number": STR, "account_number": STR},
            ["clearing_number", "account_number"], closed=True),
        obj({"iban": STR}, ["iban"], closed=True),
        obj({"swish_number": STR}, ["swish_number"], closed=True),
    ]},
    "BankAccountDetails": obj({"clearing_number": STR, "account_number": STR},
                              ["clearing_number", "account_number"]),
    "MandateConfirmation": obj({"language": {
        "type": "string", "enum": ["sv", "en"],
        "description": "The language of the mandate_text the customer read and confirms."}},
        ["language"]),
    "PayOnDueDate": obj({"pay_on_due_date": {"type": "boolean"}}, ["pay_on_due_date"]),
    "Registration": obj({"items": {"type": "array", "minItems": 1, "items": obj({
        "return_item_id": ID,
        "received_quantity": {"type": ["integer", "null"], "minimum": 0, "maximum": 10000,
                              "description": "How many more arrived, 0 when left out (kept "
                                             "apart from the decision; deciding counts as "
                                             "arrived too)."},
        "accepted_quantity": {"type": ["integer", "null"], "minimum": 0, "maximum": 10000,
                              "description": "0 when left out."},
        "rejected_quantity": {"type": ["integer", "null"], "minimum": 0, "maximum": 10000,
                              "description": "0 when left out."},
        "reason": {"type": ["string", "null"], "maxLength": 500,
                   "description": "Required when rejecting; the customer sees it."},
    }, ["return_item_id"])}}, ["items"]),
    "NewWebhookEndpoint": obj({
        "url": {"type": "string", "minLength": 1, "maxLength": 2000,
                "description": "https:// and a public address."},
        "events": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"type": "string", "enum": EVENT_TYPES},
                   "description": "Every event type when left out."},
    }, ["url"]),
    "BankFile": {
        "type": "string", "maxLength": 1024 * 1024,
        "description": "The bank's file as it came: a camt.054 credit notification "
                       "(001.02 or later) as application/xml, or a BgMax file (ISO-8859-1, "
                       "80-character records) as text/plain. At most 1 MB.",
    },
    "InstructionsDocument": {
        "type": "string", "maxLength": 256 * 1024,
        "description": "At most 256 KB of UTF-8 (a larger one is 413). YAML front matter "
                       "(language, return_window_days, days_to_send, send_methods, "
                       "return_address, non_returnable) between --- lines, then the "
                       "instructions in Markdown.",
    },
}
