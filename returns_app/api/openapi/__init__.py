"""The OpenAPI 3.1 document of the API, built from small schema pieces so it stays readable:
parts.py (the pieces), responses.py (what it answers), request_bodies.py (what clients send),
paths.py (the operations).

It is the truth about the code: tests validate it, check every answer of every endpoint against
it, and run Schemathesis over it. Response objects forbid unknown properties, so a field added
to an `as_api` function fails the tests until it is documented here too. Request objects allow
them: the API ignores properties it doesn't know.
"""

from __future__ import annotations

from .paths import paths
from .request_bodies import REQUEST_SCHEMAS
from .responses import RESPONSE_SCHEMAS

SCHEMAS = RESPONSE_SCHEMAS | REQUEST_SCHEMAS


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
        "paths": paths(),
    }
