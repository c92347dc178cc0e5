"""The signature scheme a receiver checks, and which URLs a merchant may set."""

from __future__ import annotations

import base64
import socket
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from returns_app.domain.errors import Invalid
from returns_app.webhooks import signing, urls

SPEC_SECRET = "whsec_MfKQ9r3ZL7YMqsnY0ZNrHqAMFPNxKnHz6cQIqeRdCLQ="
SECRET = signing.new_signing_secret()
BODY = b'{"id":"evt_42","type":"return.reported"}'


def test_the_signature_is_the_one_the_standard_library_computes():
    at = datetime.fromtimestamp(1614265330, tz=UTC)
    expected = Webhook(SPEC_SECRET).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}')
    assert signing.signature(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                             b'{"test": 2432232314}') == expected
    assert expected.startswith("v1,") and len(base64.b64decode(expected[3:])) == 32


def test_headers_carry_id_timestamp_and_signature():
    headers = signing.headers(SECRET, "evt_42", 1767225600, BODY)
    assert headers == {
        "content-type": "application/json",
        "webhook-id": "evt_42",
        "webhook-timestamp": "1767225600",
        "webhook-signature": signing.signature(SECRET, "evt_42", 1767225600, BODY),
    }


def library_accepts(secret: str, headers: dict, body: bytes) -> bool:
    """The official standardwebhooks library, as a merchant's receiver would use it."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


@settings(max_examples=50)
@given(body=st.text(max_size=2000).map(str.encode),
       webhook_id=st.from_regex(r"evt_[0-9]{1,12}", fullmatch=True))
def test_any_body_signed_by_us_is_accepted_by_the_standard_library(body, webhook_id):
    now = int(time.time())
    headers = signing.headers(SECRET, webhook_id, now, body)
    assert library_accepts(SECRET, headers, body)
    assert signing.verify(SECRET, headers, body, now)


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret", "stale"])
def test_verification_fails_when_anything_changes(change):
    now = int(time.time())
    headers = signing.headers(SECRET, "evt_42", now, BODY)
    body, secret = BODY, SECRET
    if change == "body":
        body = BODY.replace(b"reported", b"resolved")
    elif change == "id":
        headers["webhook-id"] = "evt_43"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(now + 1)
    elif change == "secret":
        secret = signing.new_signing_secret()
    else:
        headers = signing.headers(SECRET, "evt_42", now - 301, BODY)
    assert not signing.verify(secret, headers, body, now)
    assert not library_accepts(secret, headers, body)


def test_new_secrets_are_whsec_and_base64_of_32_random_bytes():
    first, second = signing.new_signing_secret(), signing.new_signing_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_a_legacy_secret_keeps_its_key_in_the_standard_form():
    """Migration m014 rewrites old secrets this way: the HMAC key is still the old text."""
    old = "whsec_u3Xb-kq_Xo9Lw2hV6pZ1nYk0c7QmB4sR8tE5aD2fG1H"
    converted = signing.from_legacy(old)
    assert signing.key(converted) == old.encode()
    now = int(time.time())
    assert library_accepts(converted, signing.headers(converted, "evt_1", now, BODY), BODY)


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


def fake_resolver(answers: dict[str, list[str]], calls: list[str]):
    """getaddrinfo's shape, from a table: name -> its addresses, each look-up recorded."""
    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers[host]]
    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.5", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1",  # noqa: S104  (an address refused, not bound)
    "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1",
    "ff02::1", "::",
    "::ffff:127.0.0.1", "::ffff:8.8.8.8",  # IPv4-mapped
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::a00:1",  # NAT64
    "2002:7f00:1::1", "2002:808:808::1",  # 6to4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
])
def test_addresses_that_are_not_public_or_hide_an_ipv4_are_refused(address):
    with pytest.raises(urls.AddressRefused, match="non-public"):
        urls.resolve("https://hooks.shop.example/in", resolver=fake_resolver(
            {"hooks.shop.example": [address]}, []))
    with pytest.raises(Invalid):
        urls.check_url(f"https://[{address}]/in" if ":" in address else f"https://{address}/in",
                       allow_local=False)


def test_one_internal_address_among_public_ones_is_refused():
    with pytest.raises(urls.AddressRefused):
        urls.resolve("https://hooks.shop.example/in", resolver=fake_resolver(
            {"hooks.shop.example": ["93.184.216.34", "10.1.2.3"]}, []))


def test_public_addresses_pass_and_the_first_is_the_one_used():
    calls: list[str] = []
    assert urls.resolve("https://hooks.shop.example/in", resolver=fake_resolver(
        {"hooks.shop.example": ["2606:4700::1111", "93.184.216.34"]}, calls)) == "2606:4700::1111"
    assert calls == ["hooks.shop.example"]


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(urls.AddressRefused, match="Could not resolve"):
        urls.resolve("https://nowhere.shop.example/in", resolver=fake_resolver({}, []))
