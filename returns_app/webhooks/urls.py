"""Which webhook URLs a merchant may set, and which addresses the worker may call.

Outside development the worker POSTs only over https and only to public addresses: the URL is
typed by a merchant, and must not turn the worker into a way to reach our own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ..errors import Invalid

MAX_URL_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class AddressRefused(Exception):
    """The URL's host did not resolve, or resolves to an address the worker must not call."""


def _invalid(message: str) -> Invalid:
    return Invalid(fields={"url": message})


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(raw: str | None, allow_local: bool) -> str:
    """The URL as it will be stored, or Invalid naming the field `url`.

    `allow_local` (development and tests): http:// to this machine is allowed too."""
    url = (raw or "").strip()
    if not url:
        raise _invalid("Enter the URL that should receive the events.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"A webhook URL can be at most {MAX_URL_LENGTH} characters.")
    if any(c.isspace() for c in url):
        raise _invalid("A URL has no spaces in it.")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises on a port that isn't one)
    except ValueError:
        raise _invalid("The port in this URL is not a number from 1 to 65535.") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise _invalid("Enter a full URL, like https://shop.example.com/webhooks/returns.")
    local = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not (allow_local and local):
        raise _invalid("The URL must start with https:// so the events are sent encrypted.")
    if parts.username or parts.password:
        raise _invalid("Leave the user name and password out of the URL: every request is "
                       "signed with your signing secret instead.")
    if parts.fragment:
        raise _invalid("Leave out the part after #: it is never sent to your server.")
    ip = _literal_ip(host.strip("[]"))
    if not allow_local and (host == "localhost" or host.endswith(".localhost")
                            or (ip is not None and not ip.is_global)):
        raise _invalid("The URL must point to a public server on the internet.")
    return url


def refuse_private_addresses(url: str) -> None:
    """At delivery time, outside development: every address the host resolves to must be public
    (a name may have been pointed at an internal address after it was saved)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise AddressRefused(f"Could not resolve {parts.hostname}: {exc}") from None
    for *_, sockaddr in infos:
        if not ipaddress.ip_address(sockaddr[0]).is_global:
            raise AddressRefused(f"{parts.hostname} resolves to a non-public address; not sent.")
