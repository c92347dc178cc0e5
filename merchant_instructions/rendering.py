"""Markdown to HTML that is safe to show customers, whatever the merchant typed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core.state_core import StateCore
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

# markdown-it-py is linear, but some constructs cost it far more per character than prose: 250 KB
# of `![[` took 4.5 s of CPU (12 s on a busy server), of list items 3 s, of prose 11 ms. So the
# parse counts its steps (each call of a block or inline rule, also those made while looking for
# a link's end) and stops when a document needs more than MAX_STEPS: about 100 ms on the
# slowest constructs (bench/markdown_render.py), and over 80 times what a sample document
# needs. Counting steps rather than time gives every server the same answer for a document.
MAX_STEPS = 40_000
# What a step costs where one rule call stands for more work: a link, an image or an autolink
# has its URL parsed and normalized (50 µs, where most steps take 1 to 2); each block of inline
# text costs a parser state and the post-processing passes (a table's cells, one-word lines).
_RULE_STEPS = {"link": 20, "image": 20, "autolink": 20, "backticks": 4, "emphasis": 2}
_INLINE_BLOCK_STEPS = 4
_STEPS, _LINE = "instructions_steps", "instructions_line"


class TooComplex(Exception):
    """The Markdown needs more than MAX_STEPS; `line` (0-based) is where the work ran out."""

    def __init__(self, line: int) -> None:
        super().__init__(f"more than {MAX_STEPS} steps by line {line + 1}")
        self.line = line


def render_html(markdown: str, max_steps: int = MAX_STEPS) -> str:
    """Safe HTML for `markdown`; raises TooComplex instead of working past `max_steps`."""
    # Lone surrogates cannot cross into the Rust sanitizer; they carry no meaning anyway.
    markdown = markdown.encode("utf-8", "replace").decode("utf-8")
    tokens = _MARKDOWN.parse(markdown, step_budget(max_steps))
    _shift_headings(tokens)
    return sanitize(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))


def step_budget(max_steps: int = MAX_STEPS) -> dict:
    """The parser environment a counted parse (count_steps) spends from."""
    return {_STEPS: max_steps, _LINE: 0}


def _counted(rule: Callable, steps: int, *, block: bool) -> Callable:
    def counted_rule(state, *args):
        env = state.env
        if block:
            env[_LINE] = args[0]  # startLine
        _spend(env, steps)
        return rule(state, *args)
    return counted_rule


def _spend(env: dict, steps: int) -> None:
    env[_STEPS] -= steps
    if env[_STEPS] < 0:
        raise TooComplex(env[_LINE])


def _inline_by_line(state: StateCore) -> None:
    """markdown-it's own core "inline" rule, also noting where each block starts."""
    for token in state.tokens:
        if token.type == "inline":
            if token.map:
                state.env[_LINE] = token.map[0]
            _spend(state.env, _INLINE_BLOCK_STEPS)
            if token.children is None:
                token.children = []
            state.md.inline.parse(token.content, state.md, state.env, token.children)


def count_steps(md: MarkdownIt) -> None:
    """Make every rule of `md` spend steps, as the customer rendering does."""
    for ruler, block in ((md.block.ruler, True), (md.inline.ruler, False)):
        for rule in ruler.__rules__:
            rule.fn = _counted(rule.fn, _RULE_STEPS.get(rule.name, 1), block=block)
        ruler.__cache__ = None  # its compiled chains hold the old functions
    md.core.ruler.at("inline", _inline_by_line)


count_steps(_MARKDOWN)


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
