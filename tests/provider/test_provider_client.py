"""ProviderClient against the real sandbox provider, in each of its failure modes: the outcome
it reports, and (from the sandbox's ledger) that money moved at most once per key and that the
client never sent again without having asked first."""

from __future__ import annotations

import random
import socket
import time

import pytest
import requests

from returns_app.provider.client import (
    Checkout,
    DebitResult,
    PayoutResult,
    ProviderClient,
    ProviderRejected,
    ProviderUnavailable,
)
from tests.sandbox_fixtures import free_port

IBAN = {"type": "iban", "iban": "SE4550000000058398257466"}
BANK = {"clearing_number": "8327", "account_number": "9412345678"}
KEY = "refund-1-payout"


class Sleeps:
    """The injected sleep: records each backoff delay; really sleeps only when told to."""

    def __init__(self, real: bool = False) -> None:
        self.delays: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.real:
            time.sleep(seconds)


class Ceiling(random.Random):
    """Jitter that always picks the top of its range, so the delays show the backoff's caps."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(sandbox, sleeps):
    return make_client(sandbox.url, sleeps)


def make_client(url: str, sleeps: Sleeps, **options) -> ProviderClient:
    settings = {"connect_timeout": 1.0, "read_timeout": 0.5, "max_attempts": 4,
                "backoff_base": 0.2, "backoff_max": 5.0} | options
    return ProviderClient(url, sleep=sleeps, **settings)


def pay_out(client: ProviderClient, key: str = KEY, **kwargs) -> PayoutResult:
    return client.send_payout(key, 12_345, "SEK", "refund-1", IBAN, **kwargs)


def assert_asked_before_each_resend(ledger: dict, key: str = KEY) -> None:
    """Between any two POSTs for `key` the client asked the provider about it."""
    events = [e["event"] for e in ledger["log"] if e["key"] == key]
    for previous, current in zip(events, events[1:], strict=False):
        assert not (previous == "post" and current == "post"), events


def assert_caps(delays: list[float], first: int = 0, base: float = 0.2, cap: float = 5.0) -> None:
    """Each delay within [0, min(cap, base * 2**attempt)], attempts counted from `first`."""
    for attempt, delay in enumerate(delays, start=first):
        assert 0 <= delay <= min(cap, base * 2**attempt)


# -- the happy path and the plain answers ---------------------------------------------------------
def test_a_payout_succeeds_with_one_request(sandbox, client, sleeps):
    result = pay_out(client)
    assert result.outcome == "succeeded"
    assert result.payout_id.startswith("po_")
    ledger = sandbox.ledger()
    assert ledger["money_moved_per_key"] == {KEY: 1}
    assert (ledger["requests_per_key"], ledger["lookups_per_key"]) == ({KEY: 1}, {})
    assert sleeps.delays == []
    assert client.find_payout(KEY) == result


def test_decline_is_a_final_answer_without_money(sandbox, client):
    sandbox.mode("decline")
    result = pay_out(client)
    assert (result.outcome, result.detail) == ("declined", "account_closed")
    ledger = sandbox.ledger()
    assert ledger["executions_per_key"] == {KEY: 1}
    assert ledger["money_moved_per_key"] == {}
    assert ledger["requests_per_key"] == {KEY: 1}
    assert client.find_payout(KEY).outcome == "declined"


def test_a_rejected_request_raises_and_is_not_retried(sandbox, client):
    with pytest.raises(ProviderRejected) as caught:
        client.send_payout(KEY, 100, "USD", "refund-1", IBAN)
    assert (caught.value.status, caught.value.code) == (422, "invalid")
    assert "currency" in caught.value.message
    assert sandbox.ledger()["requests_per_key"] == {KEY: 1}


def test_a_key_reused_for_another_payout_raises(sandbox, client):
    pay_out(client)
    with pytest.raises(ProviderRejected) as caught:
        client.send_payout(KEY, 1, "SEK", "refund-2", IBAN)
    assert caught.value.code == "idempotency_key_reused"
    with pytest.raises(ProviderRejected):  # also when it is found by asking
        client.send_payout(KEY, 1, "SEK", "refund-2", IBAN, ask_first=True)
    assert sandbox.ledger()["executions_per_key"] == {KEY: 1}


# -- unknown outcomes: ask, then resend with the same key -----------------------------------------
def test_error_500_twice_then_normal_succeeds_after_asking(sandbox, client, sleeps):
    sandbox.mode("error_500", times=2)
    result = pay_out(client)
    assert result.outcome == "succeeded"
    ledger = sandbox.ledger()
    assert ledger["money_moved_per_key"] == {KEY: 1}
    assert ledger["requests_per_key"] == {KEY: 3}
    assert ledger["lookups_per_key"] == {KEY: 2}
    assert_asked_before_each_resend(ledger)
    assert len(sleeps.delays) == 2
    assert_caps(sleeps.delays)


def test_error_500_forever_ends_unknown_without_raising_and_nothing_moved(sandbox, client, sleeps):
    sandbox.mode("error_500")
    result = pay_out(client)
    assert (result.outcome, result.payout_id) == ("unknown", None)
    assert "HTTP 500" in result.detail
    ledger = sandbox.ledger()
    assert ledger["executions_per_key"] == {}
    assert ledger["requests_per_key"] == {KEY: 4}  # max_attempts
    assert ledger["lookups_per_key"] == {KEY: 4}  # asked after every failed POST
    assert_asked_before_each_resend(ledger)
    assert len(sleeps.delays) == 3
    assert_caps(sleeps.delays)
    # settled later: the provider never executed it, so it is safe to send again (asking first)
    sandbox.mode("normal")
    assert client.find_payout(KEY) is None
    assert pay_out(client, ask_first=True).outcome == "succeeded"
    assert sandbox.ledger()["money_moved_per_key"] == {KEY: 1}


def test_timeout_ends_unknown_and_a_later_lookup_finds_the_payout(sandbox, client):
    # read_timeout 0.5 < delay 1.0; the sleeps are not real, so every resend meets the first
    # request still in progress (409) and the client gives up without knowing
    sandbox.mode("timeout", times=1, delay=1.0)
    started = time.monotonic()
    result = pay_out(client)
    assert result.outcome == "unknown"
    assert time.monotonic() - started < 1.0
    ledger = sandbox.ledger()
    assert ledger["executions_per_key"] == {}  # not yet
    assert_asked_before_each_resend(ledger)
    settled = client.find_payout(KEY)
    deadline = time.monotonic() + 3
    while settled is None and time.monotonic() < deadline:
        time.sleep(0.1)
        settled = client.find_payout(KEY)
    assert settled.outcome == "succeeded"
    assert sandbox.ledger()["money_moved_per_key"] == {KEY: 1}


def test_timeout_then_real_backoff_gets_the_first_answer(sandbox):
    # timeline: POST times out at 0.5 s; asked: not executed yet; wait 0.25 s; POST at ~0.75 s
    # meets the first request in progress (409); asked again; wait 0.5 s; POST at ~1.25 s gets
    # the answer the provider stored for the key when it executed at 1.0 s
    sandbox.mode("timeout", times=1, delay=1.0)
    sleeps = Sleeps(real=True)
    client = ProviderClient(sandbox.url, read_timeout=0.5, backoff_base=0.25, max_attempts=5,
                            sleep=sleeps, rng=Ceiling())
    result = pay_out(client)
    assert result.outcome == "succeeded"
    assert sleeps.delays == [0.25, 0.5]
    ledger = sandbox.ledger()
    assert ledger["money_moved_per_key"] == {KEY: 1}
    assert ledger["requests_per_key"] == {KEY: 3}
    assert_asked_before_each_resend(ledger)


def test_lost_response_is_settled_by_asking_not_by_sending_again(sandbox, client, sleeps):
    sandbox.mode("lost_response")
    result = pay_out(client)
    assert result.outcome == "succeeded"
    ledger = sandbox.ledger()
    assert ledger["money_moved_per_key"] == {KEY: 1}
    assert ledger["requests_per_key"] == {KEY: 1}
    assert ledger["lookups_per_key"] == {KEY: 1}
    assert sleeps.delays == []
    assert client.find_payout(KEY) == result


def test_ask_first_sends_nothing_when_the_key_was_executed(sandbox, client):
    first = pay_out(client)
    assert pay_out(client, ask_first=True) == first
    assert sandbox.ledger()["requests_per_key"] == {KEY: 1}


# -- backoff --------------------------------------------------------------------------------------
def test_backoff_doubles_up_to_its_maximum(sandbox, sleeps):
    sandbox.mode("error_500")
    client = make_client(sandbox.url, sleeps, max_attempts=6, backoff_max=1.0)
    client._rng = Ceiling()
    assert pay_out(client).outcome == "unknown"
    assert sleeps.delays == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_backoff_jitter_stays_within_its_bounds(sleeps):
    client = ProviderClient("http://127.0.0.1:9", sleep=sleeps, rng=random.Random(7))
    delays = [client.backoff(attempt) for attempt in range(8) for _ in range(50)]
    for index, delay in enumerate(delays):
        assert 0 <= delay <= min(5.0, 0.2 * 2 ** (index // 50))
    assert len(set(delays)) == len(delays)  # jittered, not fixed
    assert max(delays[:50]) < min(5.0, max(delays[-50:]))


# -- a provider that is down or mute --------------------------------------------------------------
@pytest.fixture
def dead_url():
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def mute_url():
    """Accepts connections (the kernel's backlog) and never answers: only a read timeout ends
    a call to it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_provider_gives_unknown_after_max_attempts(dead_url, sleeps):
    client = make_client(dead_url, sleeps)
    result = client.send_payout(KEY, 100, "SEK", "r", IBAN)
    assert result == PayoutResult("unknown", None, "could not ask the provider: ConnectionError")
    # POST fails, ask at once (fails), then wait and ask again until 4 failures in all
    assert len(sleeps.delays) == 2
    assert_caps(sleeps.delays, first=1)
    assert client.find_payout(KEY).outcome == "unknown"


def test_every_call_has_a_read_timeout(mute_url, sleeps):
    client = make_client(mute_url, sleeps, read_timeout=0.2, max_attempts=2)
    started = time.monotonic()
    assert pay_out(client).outcome == "unknown"  # POST, then ask: two timeouts
    with pytest.raises(ProviderUnavailable):
        client.get_checkout("cs_1")
    assert time.monotonic() - started < 3


# -- card checkout --------------------------------------------------------------------------------
def test_a_checkout_session_round_trip(sandbox, client):
    checkout = client.create_checkout("order-7-card", 123_450, "SEK", "Order 1001",
                                      "http://127.0.0.1:5000/done", "http://127.0.0.1:5000/")
    assert isinstance(checkout, Checkout)
    assert checkout.url == f"{sandbox.url}/checkout/{checkout.id}"
    status = client.get_checkout(checkout.id)
    assert (status.status, status.amount, status.payment_id, status.card_last4) == (
        "open", 123_450, None, None)
    paid = requests.post(checkout.url, timeout=5, allow_redirects=False, data={
        "card_number": "4242424242424242", "expiry": "12/39", "cvc": "123"})
    assert paid.status_code == 303
    status = client.get_checkout(checkout.id)
    assert (status.status, status.card_last4) == ("paid", "4242")
    assert status.payment_id.startswith("pay_")


def test_an_unknown_or_crafted_session_id_is_rejected_as_not_found(sandbox, client):
    for session_id in ("cs_nope", "../v1/payouts?idempotency_key=x", ""):
        with pytest.raises(ProviderRejected) as caught:
            client.get_checkout(session_id)
        assert caught.value.status == 404
    assert sandbox.ledger()["lookups_per_key"] == {}


def test_cancelling_a_checkout_answers_its_state_and_a_paid_one_comes_back_paid(sandbox,
                                                                                 client):
    def opened(key: str) -> Checkout:
        return client.create_checkout(key, 10_000, "SEK", "Order 1001",
                                      "http://127.0.0.1:5000/done", "http://127.0.0.1:5000/")

    first = opened("order-7-a")
    assert client.cancel_checkout(first.id).status == "cancelled"
    assert client.cancel_checkout(first.id).status == "cancelled"  # asking twice is harmless
    assert client.get_checkout(first.id).status == "cancelled"
    second = opened("order-7-b")
    requests.post(second.url, timeout=5, allow_redirects=False, data={
        "card_number": "4242424242424242", "expiry": "12/39", "cvc": "123"})
    paid = client.cancel_checkout(second.id)
    assert (paid.status, paid.card_last4) == ("paid", "4242")
    assert paid.payment_id.startswith("pay_")
    with pytest.raises(ProviderRejected) as caught:
        client.cancel_checkout("cs_nope")
    assert caught.value.status == 404


def test_checkout_with_the_provider_down_raises_unavailable(dead_url, sleeps):
    client = make_client(dead_url, sleeps)
    with pytest.raises(ProviderUnavailable):
        client.create_checkout("k", 100, "SEK", "r", "http://x/", "http://x/")
    with pytest.raises(ProviderUnavailable):
        client.get_checkout("cs_1")
    with pytest.raises(ProviderUnavailable):
        client.cancel_checkout("cs_1")


# -- debits ---------------------------------------------------------------------------------------
def test_a_debit_succeeds(sandbox, client):
    result = client.debit("debit-1", 50_000, "SEK", "order-1001", BANK)
    assert isinstance(result, DebitResult)
    assert result.outcome == "succeeded" and result.debit_id.startswith("db_")
    assert client.find_debit("debit-1") == result
    assert client.find_debit("debit-2") is None


@pytest.mark.parametrize(("mode", "outcome", "moved"), [
    ("decline", "declined", 0),
    ("lost_response", "succeeded", 1),
    ("error_500", "unknown", 0),
])
def test_debits_have_the_same_unknown_outcome_discipline(sandbox, client, mode, outcome, moved):
    sandbox.mode(mode)
    result = client.debit("debit-1", 50_000, "SEK", "order-1001", BANK)
    assert result.outcome == outcome
    ledger = sandbox.ledger()
    assert ledger["money_moved_per_key"].get("debit-1", 0) == moved
    assert ledger["executions_per_key"].get("debit-1", 0) <= 1
    assert_asked_before_each_resend(ledger, "debit-1")


@pytest.mark.parametrize("status, refused", [(400, True), (422, True), (401, False),
                                             (403, False), (429, False)])
def test_only_a_400_or_422_is_declined_at_once_and_any_other_failure_is_asked_about_again(
        status, refused):
    """A refusal of the request itself can't succeed later; a refusal of our credentials or our
    pace (401, 403, 429), a timeout or anything else leaves the outcome unknown."""
    from returns_app.worker.deliveries import _call_failed

    rejected = ProviderRejected(status, "some_code", "Some words.")
    assert rejected.refuses_the_request is refused
    outcome, _, detail = _call_failed(rejected, "payout of refund 1",
                                      lambda refusal: refusal.code_and_message)
    assert (outcome, detail) == (("declined", "some_code: Some words.") if refused else
                                 ("unknown", f"ProviderRejected: {status} some_code: Some words."))
    assert _call_failed(requests.Timeout("slow"), "payout of refund 1",
                        lambda refusal: "never")[0] == "unknown"
