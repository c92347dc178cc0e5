"""The one way to the payment/payout provider's HTTP API.

Every call has a connect and a read timeout. Money-moving calls (payouts, debits) carry an
idempotency key, and when their outcome is unknown (a timeout, a dropped connection, a 5xx) the
client first ASKS the provider whether that key was executed; it sends again, with the same key
and after a backoff, only when the provider says it never executed it. Transport trouble never
raises out of a money-moving call: it ends as outcome "unknown", for the caller to settle later
with `find_payout` / `find_debit`. A 4xx is our own mistake and raises `ProviderRejected`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import requests

from ..domain import request_ids

Outcome = Literal["succeeded", "declined", "unknown"]
USER_AGENT = "returns-assistant/0.1"
# Answers that say "we don't know whether it happened": ask before anything else.
_UNSURE = (404, 409)
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.2
BACKOFF_MAX = 5.0


def longest_call_seconds(connect_timeout: float = CONNECT_TIMEOUT,
                         read_timeout: float = READ_TIMEOUT, max_attempts: int = MAX_ATTEMPTS,
                         backoff_base: float = BACKOFF_BASE,
                         backoff_max: float = BACKOFF_MAX) -> float:
    """The longest a money-moving call can take (69 s with the defaults: store/outbox.py writes
    the lease out from it). Each of its `max_attempts` failures costs a POST and an ask, plus the
    first ask when resuming: at most 2 * max_attempts + 1 requests, each within its connect and
    read timeouts. Before an ask or a resend it sleeps at most twice per failure count, each at
    most that count's backoff. (The timeouts bound each connection attempt and each read, as
    `requests` applies them: a host name with several addresses, or a provider trickling one
    byte at a time, can take longer; the provider's URL is an address we configure.)"""
    requests_at_most = 2 * max_attempts + 1
    sleeps_at_most = 2 * sum(min(backoff_max, backoff_base * 2**failure)
                             for failure in range(max_attempts))
    return requests_at_most * (connect_timeout + read_timeout) + sleeps_at_most


class ProviderError(Exception):
    """Base of the provider's errors."""


class ProviderRejected(ProviderError):  # noqa: N818 (reads as "the provider rejected it")
    """The provider refused the request (4xx): a bug or bad data on our side; do not retry."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def code_and_message(self) -> str:
        """What support reads: the provider's error code first (the console puts the codes it
        knows into words), then its own sentence."""
        return f"{self.code}: {self.message}"

    @property
    def refuses_the_request(self) -> bool:
        """A 400 or 422 refuses this very request (its body, or a key used for another one):
        nothing was done under the key, and the same request would be refused again. Any other
        refusal (401, 403, 429) is about us or the moment, not the request: try it later."""
        return self.status in (400, 422)


class ProviderUnavailable(ProviderError):  # noqa: N818
    """The provider could not be reached or failed (timeout, connection, 5xx): try later."""


@dataclass(frozen=True)
class PayoutResult:
    outcome: Outcome
    payout_id: str | None
    detail: str


@dataclass(frozen=True)
class DebitResult:
    outcome: Outcome
    debit_id: str | None
    detail: str


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str


@dataclass(frozen=True)
class CheckoutStatus:
    id: str
    status: str  # open | paid | cancelled | expired
    amount: int
    currency: str
    reference: str
    payment_id: str | None
    card_last4: str | None


class _Transport(Exception):  # noqa: N818
    """Internal: no usable answer (timeout, connection trouble, 5xx, unreadable success)."""


@dataclass(frozen=True)
class _Kind:
    path: str  # "/v1/payouts"
    noun: str  # "payout"
    make: Callable[[Outcome, str | None, str], Any]  # PayoutResult or DebitResult


_PAYOUT = _Kind("/v1/payouts", "payout", PayoutResult)
_DEBIT = _Kind("/v1/debits", "debit", DebitResult)


class ProviderClient:
    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._rng = rng or random  # full jitter; tests may pass a seeded or fixed Random
        self._session = session or requests.Session()
        self._session.headers.setdefault("User-Agent", USER_AGENT)

    # -- money out and in ------------------------------------------------------------------------
    def send_payout(self, idempotency_key: str, amount: int, currency: str, reference: str,
                    destination: dict, *, ask_first: bool = False) -> PayoutResult:
        """Pay `amount` out once. `ask_first=True` when resuming a key whose outcome was unknown.
        """
        body = {"amount": amount, "currency": currency, "reference": reference,
                "destination": destination}
        return self._move_money(_PAYOUT, idempotency_key, body, ask_first)

    def find_payout(self, idempotency_key: str) -> PayoutResult | None:
        """What the provider did with this key: a result, None if it never executed it, or an
        "unknown" result if it could not be asked right now."""
        try:
            return self._lookup(_PAYOUT, idempotency_key)
        except _Transport as exc:
            return PayoutResult("unknown", None, f"could not ask the provider: {exc}")

    def debit(self, idempotency_key: str, amount: int, currency: str, reference: str,
              bank_account: dict, *, ask_first: bool = False) -> DebitResult:
        """Collect `amount` once from a linked bank account:
        `bank_account` is {"clearing_number", "account_number"}."""
        body = {"amount": amount, "currency": currency, "reference": reference,
                "bank_account": bank_account}
        return self._move_money(_DEBIT, idempotency_key, body, ask_first)

    def find_debit(self, idempotency_key: str) -> DebitResult | None:
        try:
            return self._lookup(_DEBIT, idempotency_key)
        except _Transport as exc:
            return DebitResult("unknown", None, f"could not ask the provider: {exc}")

    # -- card payments on the provider's hosted page ----------------------------------------------
    def create_checkout(self, idempotency_key: str, amount: int, currency: str, reference: str,
                        return_url: str, cancel_url: str) -> Checkout:
        body = {"amount": amount, "currency": currency, "reference": reference,
                "return_url": return_url, "cancel_url": cancel_url}
        data = self._call_once("POST", "/v1/checkout-sessions", json=body,
                               headers={"Idempotency-Key": idempotency_key})
        return Checkout(id=data["id"], url=data["url"])

    def get_checkout(self, session_id: str) -> CheckoutStatus:
        """The session's state. A session id the provider does not know (it arrives in the
        return URL, so anyone can type one) raises ProviderRejected with status 404."""
        if not session_id:
            raise ProviderRejected(404, "not_found", "no checkout session id")
        data = self._call_once("GET", "/v1/checkout-sessions/" + quote(session_id, safe=""))
        return self._checkout_status(data)

    def cancel_checkout(self, session_id: str) -> CheckoutStatus:
        """Close an open session so it can no longer be paid. Idempotent at the provider: a
        session cancelled or expired already answers as it is. A paid one can't be cancelled:
        the provider says so (409) with the session, which is returned here with status "paid"
        for the caller to book. Unknown ids raise ProviderRejected (404)."""
        if not session_id:
            raise ProviderRejected(404, "not_found", "no checkout session id")
        path = "/v1/checkout-sessions/" + quote(session_id, safe="") + "/cancel"
        try:
            response = self._request("POST", path, json={},
                                     headers={"Idempotency-Key": f"cancel-{session_id}"})
            if response.status_code == 409:
                error = self._json(response).get("error") or {}
                if error.get("code") == "checkout_session_paid" and error.get("session"):
                    return self._checkout_status(error["session"])
            elif response.status_code < 300:
                return self._checkout_status(self._json(response))
        except _Transport as exc:
            raise ProviderUnavailable(f"POST {path}: {exc}") from exc
        raise self._rejected(response)

    @staticmethod
    def _checkout_status(data: dict) -> CheckoutStatus:
        payment = data.get("payment") or {}
        return CheckoutStatus(
            id=data["id"], status=data["status"], amount=data["amount"],
            currency=data["currency"], reference=data["reference"],
            payment_id=payment.get("id"), card_last4=payment.get("card_last4"))

    # -- internals -------------------------------------------------------------------------------
    @property
    def longest_call_seconds(self) -> float:
        return longest_call_seconds(*self.timeout, self.max_attempts, self.backoff_base,
                                    self.backoff_max)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(backoff_max, backoff_base * 2**attempt)]."""
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    def _request(self, method: str, path: str, headers: dict | None = None,
                 **kwargs) -> requests.Response:
        # The request (or the outbox row) this call is made for: the provider's logs and ours
        # can then be matched up.
        if request_id := request_ids.current.get():
            headers = {**(headers or {}), request_ids.HEADER: request_id}
        try:
            response = self._session.request(method, self.base_url + path, headers=headers,
                                             timeout=self.timeout, **kwargs)
        except (requests.Timeout, requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transport(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _Transport(f"HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            data = response.json()
        except ValueError as exc:
            raise _Transport(f"unreadable answer (HTTP {response.status_code})") from exc
        if not isinstance(data, dict):
            raise _Transport(f"unreadable answer (HTTP {response.status_code})")
        return data

    @staticmethod
    def _rejected(response: requests.Response) -> ProviderRejected:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        return ProviderRejected(response.status_code, str(error.get("code", "unknown")),
                                str(error.get("message", response.reason or "")))

    def _call_once(self, method: str, path: str, **kwargs) -> dict:
        """One call, no retry (checkout): transport trouble is ProviderUnavailable."""
        try:
            response = self._request(method, path, **kwargs)
            if response.status_code < 300:
                return self._json(response)
        except _Transport as exc:
            raise ProviderUnavailable(f"{method} {path}: {exc}") from exc
        if response.status_code == 409:
            raise ProviderUnavailable(f"{method} {path}: still in progress at the provider")
        raise self._rejected(response)

    def _result(self, kind: _Kind, data: dict):
        status = data.get("status")
        if status == "succeeded":
            return kind.make("succeeded", data.get("id"), f"{kind.noun} {data.get('id')} succeeded")
        if status == "declined":
            return kind.make("declined", data.get("id"), str(data.get("decline_reason")))
        return kind.make("unknown", data.get("id"), f"{kind.noun} status {status!r}")

    def _lookup(self, kind: _Kind, key: str, sent: dict | None = None):
        """The provider's record for `key`, None if it never executed it. Raises _Transport."""
        response = self._request("GET", kind.path, params={"idempotency_key": key})
        if response.status_code == 404:
            return None
        if response.status_code >= 300:
            raise self._rejected(response)
        data = self._json(response)
        if sent is not None and any(data.get(f) != sent[f]
                                    for f in ("amount", "currency", "reference")):
            raise ProviderRejected(422, "idempotency_key_reused",
                                   f"the provider executed {key!r} for another {kind.noun}")
        return self._result(kind, data)

    def _move_money(self, kind: _Kind, key: str, body: dict, ask_first: bool):
        """POST once; on an unknown outcome ask, and POST again (same key) only after the
        provider answered that it never executed the key. At most max_attempts failures."""
        failures = 0
        must_ask = ask_first
        detail = "not attempted"
        while True:
            if must_ask:
                try:
                    found = self._lookup(kind, key, sent=body)
                except _Transport as exc:
                    failures += 1
                    detail = f"could not ask the provider: {exc}"
                    if failures >= self.max_attempts:
                        return kind.make("unknown", None, detail)
                    self._sleep(self.backoff(failures - 1))
                    continue
                if found is not None:
                    return found
                if failures >= self.max_attempts:
                    return kind.make("unknown", None, f"{detail}; not executed so far "
                                     f"after {failures} attempts")
                if failures:
                    self._sleep(self.backoff(failures - 1))
                must_ask = False
            try:
                response = self._request("POST", kind.path, json=body,
                                         headers={"Idempotency-Key": key})
                if response.status_code in (200, 201):
                    return self._result(kind, self._json(response))
                if response.status_code not in _UNSURE:
                    raise self._rejected(response)
                detail = f"HTTP {response.status_code}"
            except _Transport as exc:
                detail = str(exc)
            failures += 1
            must_ask = True
