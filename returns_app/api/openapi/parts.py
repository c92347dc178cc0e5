"""The pieces the OpenAPI document is built from: value types, the states and reasons the API
names, object and operation builders, error answers, the Idempotency-Key headers."""

from __future__ import annotations

from ...domain import states
from ...services.webhook_endpoints import SUBSCRIBABLE

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


