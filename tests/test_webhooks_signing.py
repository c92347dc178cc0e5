"""The signature scheme a receiver checks, and which URLs a merchant may set."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_app.errors import Invalid
from returns_app.webhooks import signing, urls

SECRET = "whsec_MfKQ9r3ZL7"
BODY = b'{"id":"evt_42","type":"return.reported"}'


def test_known_vector():
    # Computed independently: printf '%s' 'evt_42.1767225600.<body>' |
    #   openssl dgst -sha256 -hmac 'whsec_MfKQ9r3ZL7' -hex
    assert signing.signature(SECRET, "evt_42", 1767225600, BODY) == (
        "v1=cb454d85acbf16f262995f99fc273eb4c6c9878ac1dd3c98cfab778c23b61aa6")


def test_headers_carry_id_timestamp_and_signature():
    headers = signing.headers(SECRET, "evt_42", 1767225600, BODY)
    assert headers == {
        "Content-Type": "application/json",
        "Webhook-Id": "evt_42",
        "Webhook-Timestamp": "1767225600",
        "Webhook-Signature": signing.signature(SECRET, "evt_42", 1767225600, BODY),
    }


def receiver_accepts(secret: str, headers: dict, body: bytes, now: int) -> bool:
    """A receiver written from the documentation alone, not with our code."""
    message = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    fresh = abs(now - int(headers["Webhook-Timestamp"])) <= 300
    return fresh and hmac.compare_digest(expected, headers["Webhook-Signature"])


@given(body=st.binary(max_size=2000), webhook_id=st.from_regex(r"evt_[0-9]{1,12}", fullmatch=True),
       timestamp=st.integers(min_value=0, max_value=2**40))
def test_any_body_signed_by_us_is_accepted_by_a_receiver(body, webhook_id, timestamp):
    headers = signing.headers(SECRET, webhook_id, timestamp, body)
    assert receiver_accepts(SECRET, headers, body, timestamp)
    assert signing.verify(SECRET, headers, body, timestamp)


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret", "stale"])
def test_verification_fails_when_anything_changes(change):
    headers = signing.headers(SECRET, "evt_42", 1767225600, BODY)
    body, secret, now = BODY, SECRET, 1767225600
    if change == "body":
        body = BODY.replace(b"reported", b"resolved")
    elif change == "id":
        headers["Webhook-Id"] = "evt_43"
    elif change == "timestamp":
        headers["Webhook-Timestamp"] = "1767225601"
    elif change == "secret":
        secret = "whsec_other"
    else:
        now = 1767225600 + 301
    assert not signing.verify(secret, headers, body, now)
    assert not receiver_accepts(secret, headers, body, now)


def test_new_secrets_are_long_random_and_prefixed():
    first, second = signing.new_signing_secret(), signing.new_signing_secret()
    assert first.startswith("whsec_") and len(first) >= 40 and first != second


# --- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://shop.example.com/webhooks/returns",
    "https://shop.example.com:8443/hooks?token=abc",
    "  https://shop.example.com/x  ",
])
def test_public_https_urls_are_allowed_everywhere(url):
    assert urls.check_url(url, allow_local=False) == url.strip()
    assert urls.check_url(url, allow_local=True) == url.strip()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://localhost/hook",
                                 "http://[::1]:9000/hook", "https://127.0.0.1/hook"])
def test_local_urls_only_in_development(url):
    assert urls.check_url(url, allow_local=True) == url
    with pytest.raises(Invalid) as caught:
        urls.check_url(url, allow_local=False)
    assert set(caught.value.fields) == {"url"}


@pytest.mark.parametrize("url, allow_local, message", [
    ("", True, "Enter the URL"),
    ("shop.example.com/hook", True, "Enter a full URL"),
    ("ftp://shop.example.com/hook", True, "Enter a full URL"),
    ("http://shop.example.com/hook", True, "must start with https://"),
    ("http://shop.example.com/hook", False, "must start with https://"),
    ("https://user:pw@shop.example.com/hook", False, "Leave the user name and password out"),
    ("https://shop.example.com/hook#part", False, "Leave out the part after #"),
    ("https://shop.example.com:99999/hook", False, "port"),
    ("https://shop.example.com/a b", False, "no spaces"),
    ("https://10.0.0.5/hook", False, "public server"),
    ("https://169.254.169.254/latest", False, "public server"),
    ("https://intranet.localhost/hook", False, "public server"),
    ("https://shop.example.com/" + "x" * 2000, False, "at most 2000"),
])
def test_bad_urls_are_refused_with_a_message_for_the_field(url, allow_local, message):
    with pytest.raises(Invalid) as caught:
        urls.check_url(url, allow_local)
    assert message in caught.value.fields["url"]


def test_a_name_resolving_to_a_private_address_is_not_called_outside_development():
    with pytest.raises(urls.AddressRefused, match="non-public"):
        urls.refuse_private_addresses("https://localhost:9/hook")
