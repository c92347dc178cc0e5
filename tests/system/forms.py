"""A visitor over HTTP, as a browser without JavaScript: cookies (Secure ones too, on loopback,
as browsers treat 127.0.0.1), forms read from each page with their hidden fields, and every
submit of one of the app's forms counted, with the ones the CSRF check refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT = 30


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "submit":
                form.buttons.append((a["name"], a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                form.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            if self._select not in form.fields or "selected" in a:
                form.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            form.fields[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class CsrfRefused(AssertionError):
    """The app refused a form it had just served: the walk of this visitor can't go on."""


@dataclass
class Tally:
    """Submits of the app's own forms: how many, and how many the CSRF check refused."""
    tried: int = 0
    csrf_failed: int = 0
    refused: list[str] = field(default_factory=list)


class Visitor:
    def __init__(self, base_url: str, tally: Tally, language: str = "en"):
        self.base_url, self.tally = base_url, tally
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = language
        self.last_url = base_url + "/"
        self.text = ""

    def _loopback_is_secure(self) -> None:
        # The app's cookies are Secure (production); a browser sends them to 127.0.0.1 over
        # http (a secure context), requests doesn't: its jar is told the same.
        for cookie in self.http.cookies:
            cookie.secure = False

    def get(self, path: str, status: int = 200) -> str:
        """The page at `path`, after its redirects (followed here, one by one, so that a cookie
        one of them sets goes with the next)."""
        url = urljoin(self.last_url, path)
        for _ in range(5):
            response = self.http.get(url, timeout=TIMEOUT, allow_redirects=False)
            self._loopback_is_secure()
            if not response.is_redirect:
                break
            url = urljoin(url, response.headers["Location"])
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        self.last_url, self.text = response.url, response.text
        return response.text

    def form(self, action: str) -> Form:
        """The form on the current page that posts to `action` (a path)."""
        parser = _Forms()
        parser.feed(self.text)
        for form in parser.forms:
            if urlsplit(urljoin(self.last_url, form.action)).path == action:
                return form
        raise AssertionError(f"no form posting to {action} on {self.last_url}:\n{self.text}")

    def submit(self, action: str, values: dict | None = None, button: str | None = None,
               expect: tuple[int, ...] = (302, 303)) -> requests.Response:
        """Post the form as a browser would (its hidden fields, the fields given, the button
        named `button`), without following the redirect."""
        form = self.form(action)
        data = {**form.fields, **(values or {})}
        if button is not None:
            name, value = next(b for b in form.buttons if b[1] == button or b[0] == button)
            data[name] = value
        url = urljoin(self.last_url, form.action).split("#")[0]
        response = self.http.post(url, data=data, allow_redirects=False, timeout=TIMEOUT,
                                  headers={"Referer": self.last_url})
        self._loopback_is_secure()
        self.tally.tried += 1
        if response.status_code == 400:
            self.tally.csrf_failed += 1
            self.tally.refused.append(f"{action} from {self.last_url}")
            raise CsrfRefused(f"{action} refused from {self.last_url}")
        assert response.status_code in expect, (action, response.status_code,
                                                response.text[:800])
        return response

    def follow(self, response: requests.Response) -> str:
        return self.get(response.headers["Location"])
