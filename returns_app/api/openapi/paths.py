"""Every path of the API and its operations, by audience: orders and returns for merchants,
the customer's own, webhooks, support's queue and the bank's files."""

from __future__ import annotations

from ...services.inbox import CURSOR_PATTERN, MAX_PAGE_SIZE
from .parts import (
    ID,
    IDEMPOTENCY_KEY,
    INT,
    OPTIONAL_IDEMPOTENCY_KEY,
    RETURN_FILTERS,
    STR,
    answer,
    operation,
    path_id,
    ref,
)


def calendar_operation() -> dict:
    op = operation("getOrderCalendar", "The order's due and send-by dates as calendar events",
                   "customerToken", (200, STR), 404, parameters=[path_id("order_id")])
    op["responses"]["200"] = {
        "description": "iCalendar (RFC 5545): one event per date, in Europe/Stockholm time, "
                       "an alarm 2 days before; a moved date keeps its UID with a higher "
                       "SEQUENCE.",
        "content": {"text/calendar": {"schema": STR}}}
    return op


def paths() -> dict:
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

