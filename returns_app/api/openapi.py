"""The OpenAPI 3.1 document of the API, built from small schema pieces so it stays readable.

It is the truth about the code: tests validate it, check every answer of every endpoint against
it, and run Schemathesis over it. Response objects forbid unknown properties, so a field added
to an `as_api` function fails the tests until it is documented here too. Request objects allow
them: the API ignores properties it doesn't know.
"""

from __future__ import annotations

from ..domain import states
from ..domain.validation import MOMENT_PATTERN
from ..services.inbox import CURSOR_PATTERN, MAX_PAGE_SIZE
from ..services.orders import CURRENCIES, PAYMENT_METHODS
from ..services.returns import REASONS
from ..services.webhook_endpoints import SUBSCRIBABLE

INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
EVENT_TYPES = list(SUBSCRIBABLE)
STR = {"type": "string"}
NULLABLE_STR = {"type": ["string", "null"]}
MONEY = {"type": "integer", "description": "Minor units (öre)."}
MOMENT = {"type": "string", "description": "UTC, ISO-8601."}
DAY = {"type": "string", "description": "A calendar day in Stockholm, YYYY-MM-DD."}
RETURN_STATUSES = [*states.RETURN_STATUSES]
# "overdue" is no state of its own: a reported return past its send-by date, not yet expired.
RETURN_FILTERS = [*RETURN_STATUSES, "overdue"]
REFUND_STATUSES = [*states.REFUND_STATUSES]
STUCK_REASONS = [
    "needs_details_over_3_days", "destination_objected", "failed", "provider_not_answering",
    "unknown_over_1_hour",
    "not_registered_14_days_after_sent", "refund_deadline_near", "refund_deadline_passed",
    "unmatched_payment_over_2_banking_days", "debit_outcome_unknown",
]
UNMATCHED_REASONS = ["wrong_check_digit", "unknown_reference", "foreign_currency",
                     "no_reference", "deduction"]
ERROR_TEXTS = {
    400: "Malformed: not a JSON object, or a required header missing",
    401: "No or bad credentials",
    403: "Wrong role",
    404: "Not found, or not yours",
    409: "State conflict, or the same Idempotency-Key still in flight",
    413: "The body is too large",
    415: "The body is not of the media type this operation reads",
    422: "Invalid values (each bad field named), or an Idempotency-Key reused with another body",
    429: "Rate limited: wait the Retry-After seconds",
    503: "The payment provider can't be reached: nothing happened, retry with the same key",
}


def obj(properties: dict, required: list[str] | None = None, *, closed: bool = False,
        **extra) -> dict:
    """An object schema; `closed` forbids properties not listed (for what the API answers)."""
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def answer(properties: dict, required: list[str] | None = None) -> dict:
    """What the API sends: every property always present, nothing else."""
    return obj(properties, required if required is not None else list(properties), closed=True)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def error_responses(*statuses: int) -> dict:
    responses = {}
    for status in statuses:
        responses[str(status)] = {"description": ERROR_TEXTS[status],
                                  "content": json_content(ref("Error"))}
        if status == 429:
            responses[str(status)]["headers"] = {"Retry-After": {
                "description": "Seconds to wait before trying again.", "required": True,
                "schema": {"type": "integer", "minimum": 0}}}
    return responses


def operation(operation_id: str, summary: str, security: str | None,
              ok: tuple[int, dict | None],
              *error_statuses: int, body: dict | None = None,
              body_media_type: str = "application/json",
              parameters: list | None = None) -> dict:
    """One operation. Every secured one may answer 401, and every one with a body 400, 413 and
    415 (unreadable, larger than the server takes, or not of `body_media_type`), so those need
    not be listed by the caller."""
    statuses = set(error_statuses)
    if security:
        statuses.add(401)
    if body:
        statuses |= {400, 413, 415}
    op = {
        "operationId": operation_id,
        "summary": summary,
        "security": [{security: []}] if security else [],
        # ok[1] None: an answer without a body (204).
        "responses": {str(ok[0]): {"description": summary} if ok[1] is None else
                      {"description": summary, "content": json_content(ok[1])},
                      **error_responses(*sorted(statuses))},
    }
    if body:
        op["requestBody"] = {"required": True, "content": {body_media_type: {"schema": body}}}
    if parameters:
        op["parameters"] = parameters
    return op


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "Unique per new request; the same on a retry, which then gets the first "
                   "answer again and changes nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
}

# Where the money goes, not money moving: a second request without a key is a 409, and a key
# turns a retry after a lost answer into the first answer again.
OPTIONAL_IDEMPOTENCY_KEY = {
    **IDEMPOTENCY_KEY, "required": False,
    "description": "Optional. With it, a retry with the same key and body gets the first answer "
                   "again (without it, a second request is 409); the same key with other "
                   "details is 422.",
}


# --- what the API answers ---------------------------------------------------------------------

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

# --- what clients send --------------------------------------------------------------------------

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

SCHEMAS = RESPONSE_SCHEMAS | REQUEST_SCHEMAS


def calendar_operation() -> dict:
    op = operation("getOrderCalendar", "The order's due and send-by dates as calendar events",
                   "customerToken", (200, STR), 404, parameters=[path_id("order_id")])
    op["responses"]["200"] = {
        "description": "iCalendar (RFC 5545): one event per date, in Europe/Stockholm time, "
                       "an alarm 2 days before; a moved date keeps its UID with a higher "
                       "SEQUENCE.",
        "content": {"text/calendar": {"schema": STR}}}
    return op


def _paths() -> dict:
    def array_of(key: str, schema: str) -> dict:
        return answer({key: {"type": "array", "items": ref(schema)}})

    return {
        "/orders": {"post": operation(
            "createOrder", "Create an order as a checkout sends it", "merchantKey",
            (201, ref("Order")), 409, 422, body=ref("NewOrder"))},
        "/returns": {"get": operation(
            "listReturns", "The merchant's returns, newest first, a page at a time",
            "merchantKey", (200, answer({
                "returns": {"type": "array", "items": ref("Return")},
                "next_cursor": {"type": ["string", "null"], "description": "Send it as cursor "
                                                                           "for the next page; "
                                                                           "null on the last."},
            })), 422, parameters=[
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["all", *RETURN_FILTERS]},
                 "description": "overdue: reported and past its send-by date."},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                            "default": MAX_PAGE_SIZE // 4}},
                {"name": "cursor", "in": "query", "required": False,
                 "schema": {"type": "string", "pattern": CURSOR_PATTERN},
                 "description": "next_cursor of the page before (only one this list gave "
                                "out: any other is 422)."}])},
        "/returns/{return_id}/registration": {"post": operation(
            "registerReturn", "Register received items: accepted and rejected quantities",
            "merchantKey", (200, ref("Return")), 404, 409, 422, body=ref("Registration"),
            parameters=[path_id("return_id"), IDEMPOTENCY_KEY])},
        "/instructions": {"put": operation(
            "publishInstructions", "Publish a new version of the return instructions",
            "merchantKey", (201, answer({
                "version": {**ID, "description": "The version number published."},
                "warnings": {"type": "array", "description": (
                    "Raw HTML, scripts and javascript:/vbscript:/data: links in the Markdown, "
                    "each with its line: published anyway (customers see them as literal "
                    "text, never as HTML or links); empty when there are none."),
                    "items": answer({"line": ID, "message": STR})}})),
            422, body=ref("InstructionsDocument"), body_media_type="text/markdown",
            parameters=[{"name": "Content-Language", "in": "header", "required": False,
                         "description": "The language the document is written in.",
                         "schema": {"type": "string", "enum": ["sv", "en"],
                                    "default": "sv"}}])},
        "/customer/session": {
            "post": operation(
                "createCustomerSession", "Start a customer session with order number and email",
                None, (201, answer({"token": STR})), 404, 422, 429,
                body=ref("NewSession")),
            "delete": operation(
                "endCustomerSession", "Sign out: the token is refused from now on",
                "customerToken", (204, None))},
        "/orders/{order_id}": {"get": operation(
            "getOrder", "An order with its lines and amounts", "customerToken",
            (200, ref("Order")), 404, parameters=[path_id("order_id")])},
        "/orders/{order_id}/returns": {"post": operation(
            "reportReturn", "Report a return", "customerToken", (201, ref("Return")),
            404, 409, 422, body=ref("NewReturn"), parameters=[path_id("order_id")])},
        "/returns/{return_id}/shipment": {"post": operation(
            "markReturnSent", "Say the return is on its way", "customerToken",
            (200, ref("Return")), 404, 409, 422, body=ref("Shipment"),
            parameters=[path_id("return_id")])},
        "/returns/{return_id}/cancel": {"post": operation(
            "cancelReturn", "Cancel a return not yet sent", "customerToken",
            (200, ref("Return")), 404, 409, parameters=[path_id("return_id")])},
        "/orders/{order_id}/payments": {"post": operation(
            "payNow", "Pay for the kept items now", "customerToken", (201, ref("Payment")),
            404, 409, 422, 503, body=ref("NewPayment"),
            parameters=[path_id("order_id"), IDEMPOTENCY_KEY])},
        "/orders/{order_id}/refunds": {"get": operation(
            "listRefunds", "The order's refunds", "customerToken",
            (200, array_of("refunds", "Refund")), 404, parameters=[path_id("order_id")])},
        "/refunds/{refund_id}/payout-details": {"post": operation(
            "setPayoutDetails", "Say where a refund should go", "customerToken",
            (200, ref("Refund")), 404, 409, 422, body=ref("PayoutDetails"),
            parameters=[path_id("refund_id"), OPTIONAL_IDEMPOTENCY_KEY])},
        "/webhook-endpoints": {
            "post": operation(
                "createWebhookEndpoint", "Add an endpoint for webhooks; its secret is in this "
                "answer only", "merchantKey", (201, ref("WebhookEndpointWithSecret")), 422,
                body=ref("NewWebhookEndpoint")),
            "get": operation(
                "listWebhookEndpoints", "The merchant's webhook endpoints (never the secrets)",
                "merchantKey", (200, array_of("webhook_endpoints", "WebhookEndpoint")))},
        "/webhook-endpoints/{endpoint_id}": {"delete": operation(
            "deleteWebhookEndpoint", "Delete an endpoint (answered with it as it was): no "
            "more events go to it, and those waiting for it end as failed", "merchantKey",
            (200, ref("WebhookEndpoint")), 404, parameters=[path_id("endpoint_id")])},
        "/webhook-endpoints/{endpoint_id}/rotate-secret": {"post": operation(
            "rotateWebhookSecret", "A new signing secret, in this answer only; the old one "
            "stops working at once", "merchantKey", (200, ref("WebhookEndpointWithSecret")),
            404, parameters=[path_id("endpoint_id")])},
        "/bank-files": {"post": _bank_files()},
        "/support/unmatched-payments": {"get": operation(
            "listUnmatchedPayments", "Bank payments no order was found for, oldest first",
            "supportToken", (200, array_of("payments", "BankPayment")), 403)},
        "/customer/bank-account": {
            "get": operation("getBankAccount", "The linked bank account (masked) and mandate",
                             "customerToken", (200, ref("BankAccount"))),
            "put": operation("linkBankAccount", "Link a Swedish bank account (or replace it)",
                             "customerToken", (200, ref("BankAccount")), 409, 422,
                             body=ref("BankAccountDetails")),
            "delete": operation("unlinkBankAccount", "Remove the account: its mandate ends, "
                                "scheduled debits are cancelled", "customerToken",
                                (200, ref("BankAccount"))),
        },
        "/customer/bank-account/mandate": {"post": operation(
            "confirmMandate", "Confirm the direct-debit mandate's wording", "customerToken",
            (200, ref("BankAccount")), 409, 422, body=ref("MandateConfirmation"))},
        "/customer/pay-on-due-date": {"put": operation(
            "setPayOnDueDate", "Always pay my invoices on the due date (or stop)",
            "customerToken", (200, ref("BankAccount")), 409, 422, body=ref("PayOnDueDate"))},
        "/orders/{order_id}/due-date-payment": {"post": operation(
            "payOnDueDate", "Pay this invoice from the linked account on its due date: at "
            "most what is owed that day", "customerToken", (201, ref("Payment")), 404, 409,
            parameters=[path_id("order_id")])},
        "/payments/{payment_id}/cancel": {"post": operation(
            "cancelPayment", "Cancel a scheduled debit (until the day before) or a card "
            "checkout not paid yet (answered as it is if it already ended)",
            "customerToken", (200, ref("Payment")), 404, 409, 503,
            parameters=[path_id("payment_id")])},
        "/orders/{order_id}/calendar.ics": {"get": calendar_operation()},
        "/support/stuck-refunds": {"get": operation(
            "listStuckRefunds", "Every stuck refund, most urgent first, with why and since when",
            "supportToken", (200, array_of("stuck_refunds", "StuckRefund")), 403, 422,
            parameters=[
                {"name": "q", "in": "query", "required": False, "schema": STR,
                 "description": "Order number, customer email or refund id."},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
                {"name": "offset", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0, "default": 0}}])},
    }


def _bank_files() -> dict:
    op = operation(
        "importBankFile", "Book the bank's file of incoming payments: all of it, or (422) "
        "nothing", "supportToken", (201, answer({
            "booked": {**INT, "description": "Booked to the order their OCR reference names."},
            "unmatched": {**INT, "description": "Left for support: GET "
                                                "/support/unmatched-payments."},
            "duplicates": {**INT, "description": "Already booked from an earlier file."},
            "payments": {"type": "array", "items": ref("BankPayment"),
                         "description": "The payments new in this file."}})),
        403, 409, 415, 422, body=ref("BankFile"), parameters=[IDEMPOTENCY_KEY])
    op["requestBody"]["content"] = {"application/xml": {"schema": ref("BankFile")},
                                    "text/plain": {"schema": ref("BankFile")}}
    return op


def document() -> dict:
    bearer = {"type": "http", "scheme": "bearer"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Returns assistant API", "version": "1",
                 "description": "Amounts are integers in minor units (öre). Errors are "
                                "{\"error\": {\"code\", \"message\"}}. Query parameters "
                                "and body properties the API doesn't know are ignored. "
                                "Any operation may answer 503 {\"error\": {\"code\": "
                                "\"unavailable\"}} with Retry-After when nothing can be "
                                "stored for the moment (disk full, database busy): nothing "
                                "was changed, so the same request may be sent again. "
                                "Messages (an error's message, its fields' and problems' "
                                "messages, instruction warnings) are in the best match of "
                                "the request's Accept-Language among sv and en, English "
                                "when it names neither; codes, field names and lines never "
                                "change with the language. Every answer carries "
                                "Content-Language and Vary: Accept-Language."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "merchantKey": {**bearer, "description": "A merchant API key."},
                "customerToken": {**bearer, "description": "A token from POST "
                                                           "/customer/session."},
                "supportToken": {**bearer, "description": "From `flask create-support-token "
                                                          "<email>`."},
            },
            "schemas": SCHEMAS,
        },
        "paths": _paths(),
    }
