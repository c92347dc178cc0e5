"""The benchmark signs its customers in through the real forms of a production deployment
(bench/browser.py). Production names the session cookie `__Host-session`; when the benchmark
only knew `session`, every sign-in was refused for a missing CSRF session and the benchmark
could not run at all, with nothing else failing."""

from __future__ import annotations

from urllib.parse import urlsplit

from bench.browser import Browser
from returns_app.demo import CUSTOMERS, DEMO_PASSWORD


def test_the_benchmarks_browser_signs_in_and_stays_signed_in(deployment):
    address = urlsplit(deployment.base_url)
    browser = Browser(address.hostname, address.port)
    headers = browser.submit("/signin", {"email": CUSTOMERS["erik"]["email"],
                                         "password": DEMO_PASSWORD})
    assert browser.cookie.startswith("__Host-session=")
    assert headers["Location"].endswith("/orders")
    # Not signed in, /orders redirects to the sign-in page.
    status, _headers, page = browser.request("GET", "/orders")
    assert status == 200
    assert 'action="/signout"' in page
