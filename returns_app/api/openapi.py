"""The OpenAPI 3 document of the API, built from small schema pieces so it stays readable."""

from __future__ import annotations

from ..services.orders import CURRENCIES, PAYMENT_METHODS
from ..services.returns import REASONS

INT = {"type": "integer"}
STR = {"type": "string"}
NULLABLE_STR = {"type": ["string", "null"]}
MONEY = {"type": "integer", "description": "Minor units (öre)."}


def obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def errors(*statuses: int) -> dict:
    texts = {400: "Malformed request", 401: "No or bad credentials", 403: "Wrong role",
             404: "Not found or not yours", 409: "State conflict", 413: "Too large",
             422: "Invalid values", 429: "Rate limited"}
    return {str(s): {"description": texts[s], "content": json_content(ref("Error"))}
            for s in statuses}


def operation(summary: str, security: str, ok: tuple[int, dict], *error_statuses: int,
              body: dict | None = None, parameters: list | None = None) -> dict:
    op = {
        "summary": summary,
        "security": [{security: []}] if security else [],
        "responses": {str(ok[0]): {"description": summary, "content": json_content(ok[1])},
                      **errors(*error_statuses)},
    }
    if body:
        op["requestBody"] = {"required": True, "content": json_content(body)}
    if parameters:
        op["parameters"] = parameters
    return op


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


SCHEMAS = {
    "Error": obj({"error": obj({"code": STR, "message": STR,
                                "fields": {"type": "object", "additionalProperties": STR},
                                "existing_return_id": INT,
                                "allowed": {**MONEY, "description": "The most that may be "
                                            "paid now (a payment over it is 422)."}},
                               ["code", "message"])}, ["error"]),
    "Amounts": obj({k: MONEY for k in ("total", "payable_now", "paused", "paid", "refunded",
                                       "refund_owed")},
                   ["total", "payable_now", "paused", "paid", "refunded", "refund_owed"]),
    "OrderLine": obj({"id": INT, "sku": STR, "name": STR, "quantity": INT, "unit_price": MONEY,
                      "returnable": {"type": "boolean"}, "returnable_quantity": INT},
                     ["id", "sku", "name", "quantity", "unit_price", "returnable_quantity"]),
    "Order": obj({
        "id": INT, "order_number": STR, "merchant_reference": STR,
        "merchant": obj({"id": INT, "name": STR}),
        "customer": obj({"email": STR, "name": STR}),
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
        "purchased_at": STR, "delivered_at": NULLABLE_STR, "due_date": NULLABLE_STR,
        "lines": {"type": "array", "items": ref("OrderLine")},
        "amounts": ref("Amounts"),
        "returns": {"type": "array", "items": obj({"id": INT, "status": STR})},
    }, ["id", "order_number", "lines", "amounts"]),
    "Return": obj({
        "id": INT, "order_id": INT,
        "status": {"type": "string", "enum": ["reported", "sent", "received", "resolved",
                                              "cancelled", "expired"]},
        "reported_at": STR, "send_by": STR, "refund_due_by": STR,
        "tracking_number": NULLABLE_STR,
        "items": {"type": "array", "items": obj({
            "id": INT, "line_id": INT, "quantity": INT, "reason": STR, "comment": STR,
            "received_quantity": INT, "accepted_quantity": INT, "rejected_quantity": INT,
        }, ["id", "line_id", "quantity", "reason"])},
        "instructions": obj({"version": {"type": ["integer", "null"]},
                             "language": NULLABLE_STR, "html": STR,
                             "return_address": {"type": "array", "items": STR},
                             "send_methods": {"type": "array", "items": STR}},
                            ["version", "html"]),
    }, ["id", "order_id", "status", "items", "instructions"]),
    "NewOrder": obj({
        "merchant_reference": {"type": "string", "minLength": 1, "maxLength": 100},
        "customer": obj({"email": {"type": "string", "format": "email"},
                         "name": {"type": "string", "minLength": 1, "maxLength": 200}},
                        ["email", "name"]),
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
        "purchased_at": {"type": "string", "format": "date-time"},
        "delivered_at": {"type": "string", "format": "date-time"},
        "lines": {"type": "array", "minItems": 1, "items": obj({
            "sku": {"type": "string", "minLength": 1, "maxLength": 64},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
            "unit_price": {"type": "integer", "minimum": 0, "maximum": 10**10},
        }, ["sku", "name", "quantity", "unit_price"])},
    }, ["merchant_reference", "customer", "currency", "payment_method", "lines"]),
    "NewReturn": obj({"items": {"type": "array", "minItems": 1, "items": obj({
        "line_id": INT, "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
        "reason": {"type": "string", "enum": list(REASONS)},
        "comment": {"type": "string", "maxLength": 500},
    }, ["line_id", "quantity", "reason"])}}, ["items"]),
}


SCHEMAS |= {
    "Payment": obj({
        "id": INT, "order_id": INT, "amount": MONEY,
        "method": {"type": "string", "enum": ["card", "bank_account"]},
        "status": {"type": "string", "enum": ["pending", "scheduled", "succeeded", "failed",
                                              "cancelled"]},
        "scheduled_for": NULLABLE_STR,
        "checkout_url": {"type": ["string", "null"],
                         "description": "Open it for the card payment page."},
        "created_at": STR,
    }, ["id", "order_id", "amount", "method", "status"]),
    "NewPayment": obj({"amount": {"type": "integer", "minimum": 1, "maximum": 10**10},
                       "method": {"type": "string", "enum": ["card", "bank_account"]}},
                      ["amount"]),
    "Refund": obj({
        "id": INT, "order_id": INT, "amount": MONEY,
        "status": {"type": "string", "enum": ["needs_details", "ready", "sending", "succeeded",
                                              "failed", "unknown"]},
        "destination": NULLABLE_STR, "created_at": STR,
    }, ["id", "amount", "status", "destination"]),
    "PayoutDetails": {"oneOf": [
        obj({"clearing_number": STR, "account_number": STR},
            ["clearing_number", "account_number"], additionalProperties=False),
        obj({"iban": STR}, ["iban"], additionalProperties=False),
        obj({"swish_number": STR}, ["swish_number"], additionalProperties=False),
    ]},
    "Registration": obj({"items": {"type": "array", "minItems": 1, "items": obj({
        "return_item_id": INT,
        "received_quantity": {"type": "integer", "minimum": 0, "maximum": 10000,
                              "description": "How many more arrived (kept apart from the "
                                            "decision; deciding counts as arrived too)."},
        "accepted_quantity": {"type": "integer", "minimum": 0, "maximum": 10000},
        "rejected_quantity": {"type": "integer", "minimum": 0, "maximum": 10000},
        "reason": {"type": "string", "maxLength": 500,
                   "description": "Required when rejecting; the customer sees it."},
    }, ["return_item_id"])}}, ["items"]),
}
SCHEMAS |= {
    "StuckRefund": obj({
        "refund_id": {"type": ["integer", "null"],
                      "description": "Null for a sent return the merchant hasn't registered: "
                                     "no refund exists yet, but the customer waits for money."},
        "order_id": INT, "order_number": STR, "amount": MONEY,
        "currency": {"type": "string", "enum": list(CURRENCIES)},
        "status": {"type": ["string", "null"],
                   "enum": ["needs_details", "ready", "sending", "failed", "unknown", None],
                   "description": "The refund's state; null when there is no refund yet."},
        "reason": {"type": "string", "description": "The most urgent reason, most urgent first:",
                   "enum": ["refund_deadline_passed", "refund_deadline_near", "failed",
                            "unknown_over_1_hour", "needs_details_over_3_days",
                            "not_registered_14_days_after_sent"]},
        "why": STR,
        "since": {"type": "string", "format": "date-time",
                  "description": "UTC: when the wait this reason describes began."},
        "customer_email": STR,
    }, ["refund_id", "order_id", "order_number", "amount", "currency", "status", "reason",
        "why", "since", "customer_email"], additionalProperties=False),
}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": True,
                   "schema": {"type": "string", "maxLength": 255}}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Returns assistant API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "merchantKey": {"type": "http", "scheme": "bearer",
                                "description": "A merchant API key."},
                "customerToken": {"type": "http", "scheme": "bearer",
                                  "description": "A token from POST /customer/session."},
                "supportToken": {"type": "http", "scheme": "bearer",
                                 "description": "From `flask create-support-token <email>`."},
            },
            "schemas": SCHEMAS,
        },
        "paths": {
            "/orders": {"post": operation(
                "Create an order as a checkout sends it", "merchantKey", (201, ref("Order")),
                400, 401, 409, 413, 422, body=ref("NewOrder"))},
            "/customer/session": {"post": operation(
                "Start a customer session with order number and email", "",
                (201, obj({"token": STR}, ["token"])), 400, 404, 429,
                body=obj({"order_number": STR, "email": STR}, ["order_number", "email"]))},
            "/orders/{order_id}": {"get": operation(
                "An order with its lines and amounts", "customerToken", (200, ref("Order")),
                401, 404, parameters=[path_id("order_id")])},
            "/orders/{order_id}/returns": {"post": operation(
                "Report a return", "customerToken", (201, ref("Return")), 400, 401, 404, 422,
                body=ref("NewReturn"), parameters=[path_id("order_id")])},
            "/returns/{return_id}/shipment": {"post": operation(
                "Say the return is on its way", "customerToken", (200, ref("Return")),
                400, 401, 404, 409, 422,
                body=obj({"tracking_number": STR}), parameters=[path_id("return_id")])},
            "/returns/{return_id}/cancel": {"post": operation(
                "Cancel a return not yet sent", "customerToken", (200, ref("Return")),
                401, 404, 409, parameters=[path_id("return_id")])},
            "/orders/{order_id}/payments": {"post": operation(
                "Pay for the kept items now", "customerToken", (201, ref("Payment")),
                400, 401, 404, 409, 422, body=ref("NewPayment"),
                parameters=[path_id("order_id"), IDEMPOTENCY_KEY])},
            "/orders/{order_id}/refunds": {"get": operation(
                "The order's refunds", "customerToken",
                (200, obj({"refunds": {"type": "array", "items": ref("Refund")}},
                          ["refunds"])), 401, 404, parameters=[path_id("order_id")])},
            "/refunds/{refund_id}/payout-details": {"post": operation(
                "Say where a refund should go", "customerToken", (200, ref("Refund")),
                400, 401, 404, 409, 422, body=ref("PayoutDetails"),
                parameters=[path_id("refund_id")])},
            "/returns/{return_id}/registration": {"post": operation(
                "Register received items: accepted and rejected quantities", "merchantKey",
                (200, ref("Return")), 400, 401, 404, 409, 422, body=ref("Registration"),
                parameters=[path_id("return_id"), IDEMPOTENCY_KEY])},
            "/support/stuck-refunds": {"get": operation(
                "Every stuck refund, most urgent first, with why and since when",
                "supportToken",
                (200, obj({"stuck_refunds": {"type": "array", "items": ref("StuckRefund")}},
                          ["stuck_refunds"])), 401, 403, 422,
                parameters=[
                    {"name": "q", "in": "query", "schema": STR,
                     "description": "Order number, customer email or refund id."},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500,
                                "default": 100}},
                    {"name": "offset", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "default": 0}}])},
            "/returns": {"get": operation(
                "This merchant's returns, newest first, a page at a time", "merchantKey",
                (200, obj({"returns": {"type": "array", "items": ref("Return")},
                           "next_cursor": {"type": ["string", "null"]}}, ["returns"])),
                401, 422, parameters=[
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
                        "all", "overdue", "reported", "sent", "received", "resolved",
                        "cancelled", "expired"]}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    {"name": "cursor", "in": "query", "schema": STR}])},
            "/instructions": {"put": {
                **operation("Publish a new version of the return instructions", "merchantKey",
                            (201, obj({"version": INT}, ["version"])), 401, 413, 422,
                            parameters=[{"name": "Content-Language", "in": "header",
                                         "schema": {"type": "string", "enum": ["sv", "en"],
                                                    "default": "sv"}}]),
                "requestBody": {"required": True, "content": {
                    "text/markdown": {"schema": {"type": "string", "maxLength": 262144}}}},
            }},
        },
    }
