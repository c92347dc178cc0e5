"""Where a document's Markdown holds raw HTML, scripts or script links, found from the parser's
own tokens and their line map, so the merchant is warned before customers see any of it.

The customer's rendering (rendering.py) keeps HTML off: raw HTML shows as literal text and a
link markdown-it refuses (javascript:, vbscript:, data:) as its literal Markdown. Parsing again
with HTML on and every link allowed makes those constructs visible as tokens here; nothing
parsed here is ever shown.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .problems import Problem
from .rendering import TooComplex, count_steps, step_budget

_SEEING = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
_SEEING.validateLink = lambda _url: True  # see every link, to name the dangerous ones
count_steps(_SEEING)
DANGEROUS_SCHEMES = ("javascript", "vbscript", "data")

RAW_HTML = ("raw HTML {tag}: customers will see it as text, not as formatting; use Markdown "
            "instead.")
SCRIPT = "a <script>: customers will see its code as text, and it never runs."
SCRIPT_LINK = "a {scheme}: link: customers will see it as text, not as a link."


def _first_tag(html: str) -> str | None:
    """The first tag's name in a piece of HTML (`<div class=x>` is div, `</b>` is /b)."""
    class First(HTMLParser):
        found: str | None = None

        def handle_starttag(self, tag, attrs):
            self.found = self.found or tag

        def handle_endtag(self, tag):
            self.found = self.found or f"/{tag}"

    parser = First()
    parser.feed(html)
    parser.close()
    return parser.found


def _html_warning(line: int, html: str) -> Problem | None:
    tag = _first_tag(html)
    # None: a comment or a declaration. A closing tag: its opening one was named already.
    if tag is None or tag.startswith("/"):
        return None
    if tag == "script":
        return Problem(line, None, SCRIPT)
    return Problem(line, None, RAW_HTML.format(tag=f"<{tag}>"))


def _scheme(href: str) -> str:
    return urlsplit(href.strip()).scheme.lower()


def _inline_warnings(token: Token, first_line: int) -> list[Problem]:
    found = []
    line = first_line + token.map[0]
    for child in token.children or []:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "html_inline" and (problem := _html_warning(line, child.content)):
            found.append(problem)
        elif child.type == "link_open" and _scheme(child.attrs.get("href", "")) in \
                DANGEROUS_SCHEMES:
            found.append(Problem(line, None,
                                 SCRIPT_LINK.format(scheme=_scheme(child.attrs["href"]))))
    return found


def warnings(body: str, first_line: int) -> list[Problem]:
    """One warning per construct, with its document line (`first_line` is the body's)."""
    found: list[Problem] = []
    try:
        tokens = _SEEING.parse(body, step_budget())
    except TooComplex:  # the customer's rendering passed, so this is HTML-on's extra work
        return []
    for token in tokens:
        if token.type == "html_block" and token.map:
            if problem := _html_warning(first_line + token.map[0], token.content):
                found.append(problem)
        elif token.type == "inline" and token.map:
            found.extend(_inline_warnings(token, first_line))
    # One warning per line and construct: `<b>x</b><b>y</b>` on one line is said once.
    return list(dict.fromkeys(found))
