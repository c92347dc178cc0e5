"""The OpenAPI document as the judge of real answers, and which documented operations the app
routes (the contract names some that other branches build)."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator

API_PREFIX = "/api/v1"
NOT_OPERATIONS = {"/openapi.json"}  # the document itself
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routed_operations(app) -> set[tuple[str, str]]:
    """(method, documented path) of every API route, e.g. ("post", "/orders/{order_id}/returns")."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API_PREFIX):])
        if path in NOT_OPERATIONS:
            continue
        found |= {(method.lower(), path) for method in rule.methods - IGNORED_METHODS}
    return found


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def schema_errors(document: dict, schema: dict, instance) -> list[str]:
    # The schema's "#/components/..." refs resolve against the root it is placed in.
    validator = Draft202012Validator({**schema, "components": document["components"]})
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(instance)]


def check(document: dict, response, path: str, method: str):
    """The response's JSON body, after checking that its status is documented for the
    operation, that it is JSON, that its documented headers are there and that the body
    matches the documented schema."""
    operation = document["paths"][path][method]
    status = str(response.status_code)
    label = f"{method.upper()} {path} {status}"
    assert status in operation["responses"], (
        f"{label}: the document doesn't list this status: {response.get_data(as_text=True)}")
    documented = operation["responses"][status]
    if "text/calendar" in documented.get("content", {}):
        assert response.mimetype == "text/calendar", f"{label}: {response.content_type}"
        return response.get_data(as_text=True)
    if "content" not in documented:  # documented without a body (204)
        assert response.get_data() == b"", f"{label}: {response.get_data(as_text=True)}"
        return None
    assert response.mimetype == "application/json", f"{label}: {response.content_type}"
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name in response.headers, f"{label}: no {name} header"
    body = response.get_json()
    problems = schema_errors(document, documented["content"]["application/json"]["schema"],
                             body)
    assert problems == [], f"{label}: {problems}\n{body}"
    return body


def support_token(db) -> str:
    """A support staff API token, for GET /support/stuck-refunds, minted as the CLI does."""
    from returns_app.services import support

    user, _ = support.create_support_user(db, "api-agent@example.se", actor="test")
    return support.create_token(db, user["email"], actor="test")
