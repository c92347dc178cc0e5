"""The sandbox provider's HTTP API, its hosted card page and its test controls."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, redirect, render_template_string, request
from werkzeug.exceptions import HTTPException

from . import page, validation
from .state import (
    MODES,
    SESSION_LIFETIME,
    Sandbox,
    Stored,
    fingerprint,
    iso,
    new_id,
    now_iso,
    parse_iso,
)

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


def _error(status: int, code: str, message: str, **extra) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_session_id(url: str, session_id: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("session_id", session_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _drop_connection() -> bool:
    """lost_response: the payout has been executed; now the answer is lost. The werkzeug server
    (3.x) puts the client's socket in the WSGI environ as "werkzeug.socket": shutting it down
    sends the client a FIN before any status line, so the caller sees the connection closed
    without a response (requests raises ConnectionError). werkzeug's attempt to write our
    response afterwards fails with a broken pipe, which it treats as a dropped connection.
    Under another server (no socket in the environ) we fall back to a 502 with an empty body."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True


def create_sandbox_app(sandbox: Sandbox | None = None) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False
    sb = sandbox or Sandbox()
    app.extensions["sandbox"] = sb

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", JSON_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error(exc.code or 500, code, exc.description or exc.name)

    def json_body() -> dict | None:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None

    def idempotent_post(endpoint: str, check, run):
        """The idempotency rules shared by every POST with an Idempotency-Key: count it, replay
        the first answer, refuse a reused key (422) or one still being handled (409), validate,
        then `run(key, fp, body)` with the key claimed."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            return _error(400, "idempotency_key_missing",
                          "Send an Idempotency-Key header (1 to 255 characters).")
        sb.note_request(key)
        body = json_body()
        if body is None:
            return _error(400, "malformed", "The body must be a JSON object.")
        fp = fingerprint(endpoint, body)
        claim = sb.begin(key, fp)
        if isinstance(claim, Stored):
            return jsonify(claim.body), claim.status
        if claim == "idempotency_key_reused":
            return _error(422, claim, "This Idempotency-Key was used with another request.")
        if claim == "idempotency_key_in_flight":
            return _error(409, claim, "A request with this Idempotency-Key is still in progress.")
        try:
            check(body)
        except validation.Invalid as exc:
            sb.abandon(key)
            return _error(422, "invalid", f"{exc.field} {exc.message}", field=exc.field)
        return run(key, fp, body)

    def move_money(kind: str, prefix: str, key: str, fp: str, body: dict):
        mode, delay, generation = sb.take_mode()
        if mode == "error_500":
            sb.abandon(key)
            return _error(500, "sandbox_error_500", "Sandbox failure: nothing was executed.")
        if mode == "timeout":
            time.sleep(delay)
        declined = mode in ("decline", "insufficient_funds")
        record = {
            "id": new_id(prefix),
            "status": "declined" if declined else "succeeded",
            "decline_reason": ("insufficient_funds" if mode == "insufficient_funds"
                               else "account_closed") if declined else None,
            "amount": body["amount"],
            "currency": body["currency"],
            "reference": body["reference"],
            "idempotency_key": key,
            "created_at": now_iso(),
        }
        if kind == "payout":
            record["destination_type"] = body["destination"]["type"]
        if sb.execute(kind, key, fp, record, generation) is None:
            return _error(500, "sandbox_reset", "The sandbox was reset while this request waited.")
        if mode == "lost_response":
            if _drop_connection():
                return Response(status=500)  # never reaches the client: the socket is closed
            return Response(status=502)
        return jsonify(record), 201

    def lookup(kind: str):
        key = request.args.get("idempotency_key", "").strip()
        if not key:
            return _error(400, "idempotency_key_missing", "Pass ?idempotency_key=.")
        sb.note_lookup(key)
        found = sb.find(kind, key=key)
        if found is None:
            return _error(404, "not_found", f"No {kind} was executed for this Idempotency-Key.")
        return jsonify(found)

    def by_id(kind: str, id_: str):
        found = sb.find(kind, id_=id_)
        if found is None:
            return _error(404, "not_found", f"No such {kind}.")
        return jsonify(found)

    # -- payouts and debits -----------------------------------------------------------------------
    @app.post("/v1/payouts")
    def create_payout():
        return idempotent_post("payouts", validation.payout,
                               lambda k, fp, b: move_money("payout", "po", k, fp, b))

    @app.get("/v1/payouts")
    def find_payout():
        return lookup("payout")

    @app.get("/v1/payouts/<payout_id>")
    def get_payout(payout_id: str):
        return by_id("payout", payout_id)

    @app.post("/v1/debits")
    def create_debit():
        return idempotent_post("debits", validation.debit,
                               lambda k, fp, b: move_money("debit", "db", k, fp, b))

    @app.get("/v1/debits")
    def find_debit():
        return lookup("debit")

    @app.get("/v1/debits/<debit_id>")
    def get_debit(debit_id: str):
        return by_id("debit", debit_id)

    # -- checkout sessions ------------------------------------------------------------------------
    def session_json(s: dict) -> dict:
        return {key: s.get(key) for key in ("id", "status", "amount", "currency", "reference",
                                            "payment", "created_at", "expires_at")}

    def open_session(key: str, fp: str, body: dict):
        created_at = sb.now_iso()
        session = {
            "id": new_id("cs"), "status": "open", "payment": None, "created_at": created_at,
            "expires_at": iso(parse_iso(created_at) + SESSION_LIFETIME),
            **{name: body[name] for name in
               ("amount", "currency", "reference", "return_url", "cancel_url")},
        }
        answer = {"id": session["id"],
                  "url": request.host_url.rstrip("/") + f"/checkout/{session['id']}",
                  "status": "open"}
        sb.store_session(key, fp, session, answer)
        return jsonify(answer), 201

    @app.post("/v1/checkout-sessions")
    def create_checkout():
        return idempotent_post("checkout-sessions", validation.checkout, open_session)

    @app.get("/v1/checkout-sessions/<session_id>")
    def get_checkout(session_id: str):
        s = sb.session(session_id)
        if s is None:
            return _error(404, "not_found", "No such checkout session.")
        return jsonify(session_json(s))

    @app.post("/v1/checkout-sessions/<session_id>/cancel")
    def cancel_checkout(session_id: str):
        """The shop takes back a session it opened: idempotent by nature (cancelling again, or
        a session that expired, answers the session as it is); a paid one is refused, for the
        shop must refund a payment, not forget it."""
        s = sb.settle_session(session_id, "cancelled", None)
        if s is None:
            return _error(404, "not_found", "No such checkout session.")
        if s["status"] == "paid":
            return _error(409, "checkout_session_paid",
                          "This checkout session is paid and can't be cancelled; refund the"
                          " payment instead.", session=session_json(s))
        return jsonify(session_json(s))

    # -- the hosted page --------------------------------------------------------------------------
    def render(s: dict, status: int = 200, form=None, errors=None) -> Response:
        html = render_template_string(
            page.TEMPLATE,
            **page.context(s, _with_session_id(s["return_url"], s["id"]), form, errors))
        response = Response(html, status=status, mimetype="text/html")
        # form-action also covers where a submitted form is redirected: the shop's origins.
        targets = " ".join(sorted({_origin(s["return_url"]), _origin(s["cancel_url"])}))
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src '{page.STYLE_HASH}'; form-action 'self' {targets}; "
            "frame-ancestors 'none'; base-uri 'none'")
        return response

    def no_session() -> Response:
        return Response("No such checkout session.", 404, mimetype="text/plain")

    @app.get("/checkout/<session_id>")
    def checkout_page(session_id: str):
        s = sb.session(session_id)
        if s is None:
            return no_session()
        return render(s)

    @app.post("/checkout/<session_id>")
    def pay(session_id: str):
        s = sb.session(session_id)
        if s is None:
            return no_session()
        if s["status"] != "open":
            return render(s, 409)
        form = {name: request.form.get(name, "")[:40] for name in page.FIELDS}
        errors, number = page.check_card(form)
        if not errors and number == page.DECLINES:
            errors = {"card_number": page.DECLINED}
        if errors:
            return render(s, 422, form, errors)
        payment = {"id": new_id("pay"), "card_last4": number[-4:], "card_brand": "visa"}
        s = sb.settle_session(session_id, "paid", payment)
        if s["payment"] is None or s["payment"]["id"] != payment["id"]:
            return render(s, 409)  # cancelled or paid by a concurrent request meanwhile
        return redirect(_with_session_id(s["return_url"], session_id), 303)

    @app.post("/checkout/<session_id>/cancel")
    def cancel(session_id: str):
        s = sb.session(session_id)
        if s is None:
            return no_session()
        s = sb.settle_session(session_id, "cancelled", None)
        if s["status"] != "cancelled":
            return render(s, 409)
        return redirect(s["cancel_url"], 303)

    # -- test controls ----------------------------------------------------------------------------
    @app.post("/_sandbox/mode")
    def set_mode():
        body = json_body() or {}
        mode, times, delay = body.get("mode"), body.get("times"), body.get("delay")
        if mode not in MODES:
            return _error(422, "invalid", f"mode must be one of {', '.join(MODES)}", field="mode")
        if times is not None and (type(times) is not int or times < 1):
            return _error(422, "invalid", "times must be a positive integer or null",
                          field="times")
        if delay is not None and (type(delay) not in (int, float) or not 0 <= delay <= 120):
            return _error(422, "invalid", "delay must be 0 to 120 seconds", field="delay")
        return jsonify(sb.set_mode(mode, times, delay))

    @app.post("/_sandbox/clock")
    def advance_clock():
        seconds = (json_body() or {}).get("advance_seconds")
        if type(seconds) not in (int, float) or not 0 <= seconds <= 10**8:
            return _error(422, "invalid", "advance_seconds must be 0 to 10^8 seconds",
                          field="advance_seconds")
        return jsonify(sb.advance_clock(seconds))

    @app.get("/_sandbox/mode")
    def get_mode():
        return jsonify(sb.get_mode())

    @app.post("/_sandbox/reset")
    def reset():
        sb.reset()
        return jsonify({"reset": True})

    @app.get("/_sandbox/ledger")
    def ledger():
        return jsonify(sb.ledger())

    return app
