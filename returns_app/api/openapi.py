"""The OpenAPI 3.1 document of the API, built from small schema pieces so it stays readable.

It is the truth about the code: tests validate it, check every answer of every endpoint against
it, and run Schemathesis over it. Response objects forbid unknown properties, so a field added
to an `as_api` function fails the tests until it is documented here too. Request objects allow
them: the API ignores properties it doesn't know.
"""

from __future__ import annotations

from ..services.inbox import MAX_PAGE_SIZE
from ..services.orders import CURRENCIES, PAYMENT_METHODS
from ..services.returns import REASONS

INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
STR = {"type": "string"}
NULLABLE_STR = {"type": ["string", "null"]}
MONEY = {"type": "integer", "description": "Minor units (öre)."}
MOMENT = {"type": "string", "description": "UTC, ISO-8601."}
DAY = {"type": "string", "description": "A calendar day in Stockholm, YYYY-MM-DD."}
RETURN_STATUSES = ["reported", "sent", "received", "resolved", "cancelled", "expired"]
# "overdue" is no state of its own: a reported return past its send-by date, not yet expired.
RETURN_FILTERS = [*RETURN_STATUSES, "overdue"]
REFUND_STATUSES = ["needs_details", "ready", "sending", "succeeded", "failed", "unknown"]
STUCK_REASONS = [
    "needs_details_over_3_days", "failed", "unknown_over_1_hour",
    "not_registered_14_days_after_sent", "refund_deadline_near", "refund_deadline_passed",
]
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
    """One operation. Every secured one may answer 401, and every one with a body 400 and 413
    (unreadable or larger than the server takes), so those need not be listed by the caller."""
    statuses = set(error_statuses)
    if security:
        statuses.add(401)
    if body:
        statuses |= {400, 413}
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


# --- what the API answers ---------------------------------------------------------------------

RESPONSE_SCHEMAS = {
    "Error": obj({"error": obj({
        "code": STR, "message": STR,
        "fields": {"type": "object", "additionalProperties": STR,
                   "description": "Each bad field (a JSON path such as items[0].quantity) "
                                  "and what is wrong with it."},
        "problems": {"type": "array", "description": "Each problem of an instructions "
                                                     "document, with its line.",
                     "items": obj({"line": INT, "field": NULLABLE_STR, "message": STR},
                                  ["line", "message"])},
        "existing_return_id": {**ID, "description": "The open return that already holds "
                                                    "the item."},
        "allowed": {**MONEY, "description": "The most that may be paid now (a payment over "
                                            "it is 422)."},
    }, ["code", "message"])}, ["error"], closed=True),
    "Amounts": answer({k: MONEY for k in ("total", "payable_now", "paused", "paid", "refunded",
                                          "refund_owed")}),
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
        "status": {"type": "string", "enum": ["pending", "scheduled", "succeeded", "failed",
                                              "cancelled"]},
        "scheduled_for": {**DAY, "type": ["string", "null"]},
        "checkout_url": {"type": ["string", "null"],
                         "description": "Open it for the card payment page."},
        "created_at": MOMENT,
    }),
    "Refund": answer({
        "id": ID, "order_id": ID, "amount": MONEY,
        "status": {"type": "string", "enum": REFUND_STATUSES},
        "destination": {"type": ["string", "null"], "description": "Masked, e.g. "
                                                                   "'Card •••• 4242'."},
        "created_at": MOMENT,
    }),
    "StuckRefund": answer({
        "refund_id": {"type": ["integer", "null"], "minimum": 1,
                      "description": "Null for a sent return the merchant hasn't registered: "
                                     "no refund exists yet, but the customer waits for money."},
        "order_id": ID, "order_number": STR, "amount": MONEY,
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "status": {"type": ["string", "null"], "enum": [*REFUND_STATUSES, None],
                   "description": "The refund's state; null when there is no refund yet."},
        "reason": {"type": "string", "enum": STUCK_REASONS,
                   "description": "The most urgent reason it is stuck."},
        "why": {"type": "string", "description": "Why it is stuck, as a sentence."},
        "since": {"type": "string", "format": "date-time",
                  "description": "UTC, ISO-8601: when the wait this reason describes began."},
        "customer_email": STR,
    }),
}

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
                         "description": "Now when left out."},
        "delivered_at": {"type": ["string", "null"], "format": "date-time",
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
        "type": ["string", "null"], "maxLength": 64,
        "description": "Optional: letters, digits, spaces and dashes."}}),
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
    "InstructionsDocument": {
        "type": "string", "maxLength": 256 * 1024,
        "description": "At most 256 KB of UTF-8 (a larger one is 413). YAML front matter "
                       "(language, return_window_days, days_to_send, send_methods, "
                       "return_address, non_returnable) between --- lines, then the "
                       "instructions in Markdown.",
    },
}

SCHEMAS = RESPONSE_SCHEMAS | REQUEST_SCHEMAS


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
                {"name": "cursor", "in": "query", "required": False, "schema": STR,
                 "description": "next_cursor of the page before."}])},
        "/returns/{return_id}/registration": {"post": operation(
            "registerReturn", "Register received items: accepted and rejected quantities",
            "merchantKey", (200, ref("Return")), 404, 409, 422, body=ref("Registration"),
            parameters=[path_id("return_id"), IDEMPOTENCY_KEY])},
        "/instructions": {"put": operation(
            "publishInstructions", "Publish a new version of the return instructions",
            "merchantKey", (201, answer({"version": {**ID, "description": "The version "
                                                                          "number published."}})),
            422, body=ref("InstructionsDocument"), body_media_type="text/markdown",
            parameters=[{"name": "Content-Language", "in": "header", "required": False,
                         "description": "The language the document is written in.",
                         "schema": {"type": "string", "enum": ["sv", "en"],
                                    "default": "sv"}}])},
        "/customer/session": {
            "post": operation(
                "createCustomerSession", "Start a customer session with order number and email",
                None, (201, answer({"token": STR})), 404, 429, body=ref("NewSession")),
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
            parameters=[path_id("refund_id")])},
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
                                "was changed, so the same request may be sent again."},
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
