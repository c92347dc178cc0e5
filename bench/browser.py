"""A tiny browser for setting up the benchmark's sessions: real sign-in forms, real CSRF tokens.

Production cookies are Secure (and named `__Host-session`), so an HTTP client would rightly
refuse to send them back over plain http on loopback: this one keeps the session cookie itself,
whatever the configuration names it, and sends it as a header, which is what the load generator
does too.
"""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SESSION_COOKIE = re.compile(r"(?:^|,\s*)((?:__Host-)?session)=([^;]*)")


class Browser:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.session = ""  # "name=value", as the Cookie header carries it

    @property
    def cookie(self) -> str:
        return self.session

    def request(self, method: str, path: str, form: dict | None = None,
                json_body: dict | None = None, headers: dict | None = None
                ) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = dict(headers or {})
        body = None
        if self.session:
            sent["Cookie"] = self.cookie
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and (match := SESSION_COOKIE.search(value)):
                    self.session = f"{match[1]}={match[2]}"
            return response.status, dict(response.getheaders()), text
        finally:
            conn.close()

    def csrf_token(self, path: str) -> str:
        status, _headers, text = self.request("GET", path)
        match = CSRF_FIELD.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path} gave {status} and no CSRF token")
        return match[1]

    def submit(self, path: str, form: dict, token: str | None = None,
               expect: int = 302) -> dict:
        """POST a form with the page's CSRF token; the redirect's headers."""
        token = token or self.csrf_token(path)
        status, headers, text = self.request("POST", path, form={**form, "csrf_token": token})
        if status != expect:
            raise RuntimeError(f"POST {path} gave {status}, not {expect}: {text[:300]}")
        return headers
