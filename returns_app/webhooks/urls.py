"""Which webhook URLs a merchant may set, and which addresses the worker may call.

Outside development the worker POSTs only over https and only to public addresses: the URL is
typed by a merchant, and must not turn the worker into a way to reach our own network. The name
is resolved once, every address checked, and the request then goes to the checked address
(`pinned_session`): a second look-up could answer differently (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..domain.errors import Invalid

MAX_URL_LENGTH = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]
# IPv6 forms that carry an IPv4 address inside, reaching it through a translator or a tunnel:
# a public-looking IPv6 address here can lead to 127.0.0.1 or 10.0.0.1 (Python's is_global
# calls most of them global).
EMBEDS_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "::ffff:0:0/96",     # IPv4-mapped
    "::/96",             # IPv4-compatible (deprecated)
    "64:ff9b::/96",      # NAT64, well-known prefix
    "64:ff9b:1::/48",    # NAT64, local-use prefix
    "2002::/16",         # 6to4
    "2001::/32",         # Teredo
))


class AddressRefused(Exception):
    """The URL's host did not resolve, or resolves to an address the worker must not call."""


def _invalid(message: str) -> Invalid:
    return Invalid(fields={"url": message})


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(ip: IPAddress) -> bool:
    """An address the worker may call: global unicast, and no IPv4 address hidden inside."""
    if ip.version == 6 and any(ip in net for net in EMBEDS_IPV4):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


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
                            or (ip is not None and not is_public(ip))):
        raise _invalid("The URL must point to a public server on the internet.")
    return url


def resolve(url: str, allow_local: bool = False, resolver: Resolver | None = None) -> str:
    """The one address the worker will connect to for `url`, looked up once. Every address the
    name resolves to must be public (unless `allow_local`): a name pointing at one internal
    address among public ones is refused too."""
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = (resolver or socket.getaddrinfo)(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise AddressRefused(f"Could not resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(sockaddr[0].split("%")[0]) for *_, sockaddr in infos]
    if not addresses:
        raise AddressRefused(f"Could not resolve {host}.")
    if not allow_local and not all(is_public(ip) for ip in addresses):
        raise AddressRefused(f"{host} resolves to a non-public address; not sent.")
    return str(addresses[0])


class PinnedAdapter(HTTPAdapter):
    """Connects to one given address whatever the URL's name resolves to by then, while the
    Host header, TLS SNI and certificate check still use the name."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, verify, cert)
        name = urlsplit(request.url).hostname
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": name, "assert_hostname": name}
        host_params = {**host_params, "host": self._address}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def send(self, request, *args, **kwargs):
        # Without it urllib3 would name the address it connects to.
        request.headers["Host"] = urlsplit(request.url).netloc.rpartition("@")[2]
        return super().send(request, *args, **kwargs)


def pinned_session(url: str, allow_local: bool = False,
                   resolver: Resolver | None = None) -> requests.Session:
    """A session whose every request for this URL's scheme goes to the address checked now.
    Proxies from the environment are ignored: they would do the look-up again."""
    session = requests.Session()
    session.trust_env = False
    adapter = PinnedAdapter(resolve(url, allow_local, resolver))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
