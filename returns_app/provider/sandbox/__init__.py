"""A sandbox of the outside payment/payout provider: a small separate HTTP service.

It stands for another company's system, so it imports nothing from the rest of returns_app.
Run it with `python -m returns_app.provider.sandbox --host 127.0.0.1 --port N`.

API: POST /v1/payouts, GET /v1/payouts?idempotency_key=K, GET /v1/payouts/<id>; the same for
/v1/debits; POST /v1/checkout-sessions, GET /v1/checkout-sessions/<id>, and the hosted card page
GET|POST /checkout/<id>, POST /checkout/<id>/cancel. Test controls: POST /_sandbox/mode
{"mode": normal|decline|insufficient_funds|error_500|timeout|lost_response, "times", "delay"},
POST /_sandbox/reset, GET /_sandbox/ledger.
"""

from .app import create_sandbox_app

__all__ = ["create_sandbox_app"]
