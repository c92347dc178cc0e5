"""Markdown to HTML that is safe to show customers, whatever the merchant typed."""

from __future__ import annotations

from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre",
        "blockquote", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
# "*" maps to nothing so that Ammonia's default global attributes (lang, title) go too.
ALLOWED_ATTRIBUTES = {"*": set(), "a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# Raw HTML in the Markdown comes out as visible text; the sanitizer after it is a second
# wall, not the only one.
_MARKDOWN = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).enable("table")

# The page around the instructions owns the h1, and the allowlist stops at h4.
_TOP_HEADING_LEVEL = 2
_LOWEST_HEADING_LEVEL = 4


def render_html(markdown: str) -> str:
    # Lone surrogates cannot cross into the Rust sanitizer; they carry no meaning anyway.
    markdown = markdown.encode("utf-8", "replace").decode("utf-8")
    tokens = _MARKDOWN.parse(markdown)
    _shift_headings(tokens)
    return sanitize(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))


def sanitize(html: str) -> str:
    """Keep only the allowlisted tags, attributes and URL schemes of an HTML fragment."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        # Relative links would point into our own site, which the merchant has no say over.
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _shift_headings(tokens: Sequence[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = int(token.tag[1:]) + _TOP_HEADING_LEVEL - 1
            token.tag = f"h{min(level, _LOWEST_HEADING_LEVEL)}"
