"""A merchant's return instructions: the parsed document and how to get one."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field

from . import decoding, frontmatter, raw_html, settings
from .problems import InstructionsInvalid, Problem
from .rendering import TooComplex, render_html


@dataclass(frozen=True)
class NonReturnable:
    what: str
    skus: tuple[str, ...] = ()

    def matches(self, sku: str) -> bool:
        # fnmatch.fnmatch folds case only on Windows; SKUs should match the same everywhere.
        wanted = sku.strip().casefold()
        return any(fnmatch.fnmatchcase(wanted, pattern.casefold()) for pattern in self.skus)


@dataclass(frozen=True)
class Instructions:
    language: str
    return_window_days: int
    days_to_send: int
    send_methods: tuple[str, ...]
    return_address: tuple[str, ...]
    non_returnable: tuple[NonReturnable, ...]
    body_markdown: str = field(repr=False)
    html: str = field(repr=False)
    source: str = field(repr=False)
    content_hash: str
    # Raw HTML, scripts and script links: published only once the merchant has seen these.
    warnings: tuple[Problem, ...] = ()

    def is_returnable(self, sku: str) -> bool:
        return self.non_returnable_reason(sku) is None

    def non_returnable_reason(self, sku: str) -> str | None:
        for item in self.non_returnable:
            if item.matches(sku):
                return item.what
        return None


# Some blocks are one parser step however long they are (a table of a thousand rows), and
# reading a line costs the parser more than most of its steps: a cap on lines bounds both. A
# sample document has 40 lines; this is 256 KB of lines 130 characters long.
MAX_BODY_LINES = 2_000
_TOO_LONG = (
    f"The instructions are longer than {MAX_BODY_LINES} lines, and this is the first line "
    "past that: customers won't read that far, and it takes too long to prepare for them. "
    "Shorten them."
)
_TOO_COMPLEX = (
    "The document is too complex to show to customers quickly: by this line it already needs "
    "more work than a whole document may (Markdown marks such as [, ![, * or ` by the "
    "thousand, or thousands of list items or lines). Shorten or simplify it from here on."
)


def parse(text: str | bytes) -> Instructions:
    """Read a whole document, or raise InstructionsInvalid listing every problem in it."""
    problems: list[Problem] = []
    source = decoding.decode(text, problems)
    normalized = decoding.normalize(source)
    readable = decoding.remove_control_characters(normalized, problems)
    try:
        part = frontmatter.split(readable)
    except frontmatter.FrontMatterError as exc:
        raise InstructionsInvalid([*problems, exc.problem]) from None
    found = None
    try:
        root = frontmatter.load(part)
    except frontmatter.FrontMatterError as exc:
        problems.append(exc.problem)
    else:
        found = settings.validate(root, part.closing_line, problems)
    if not part.body.strip():
        problems.append(
            Problem(
                part.body_line,
                None,
                "The instructions are empty; write the return instructions for your "
                "customers below the closing --- line.",
            )
        )
    html = ""
    body_lines = part.body.count("\n") + 1
    if body_lines > MAX_BODY_LINES:
        problems.append(Problem(part.body_line + MAX_BODY_LINES, None, _TOO_LONG))
    elif not problems:
        try:
            html = render_html(part.body)
        except TooComplex as exc:
            problems.append(Problem(part.body_line + exc.line, None, _TOO_COMPLEX))
    if problems or found is None:
        raise InstructionsInvalid(problems)
    return Instructions(
        language=found.language,
        return_window_days=found.return_window_days,
        days_to_send=found.days_to_send,
        send_methods=found.send_methods,
        return_address=found.return_address,
        non_returnable=tuple(NonReturnable(what, skus) for what, skus in found.non_returnable),
        body_markdown=part.body,
        html=html,
        source=source,
        # Hashing the normalized text makes a re-save with other line endings, or with a
        # byte order mark, count as the same version.
        content_hash=hashlib.sha256(normalized.encode("utf-8")).hexdigest(),
        warnings=tuple(raw_html.warnings(part.body, part.body_line)),
    )
