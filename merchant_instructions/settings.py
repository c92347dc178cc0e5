"""The front matter settings a merchant may write, and the rules each must follow."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from .frontmatter import Entry, UnreadableValue, Value
from .problems import Problem

LANGUAGES = ("sv", "en")
SEND_METHODS = ("post", "drop_off", "label")
# English only on purpose: the app translates these with the rest of its interface.
SEND_METHOD_LABELS = {
    "post": "Send it by post",
    "drop_off": "Leave it at a drop-off point",
    "label": "Print the prepaid return label",
}

# The Swedish Distance Contracts Act gives consumers at least 14 days to withdraw.
RETURN_WINDOW_DAYS = (14, 365)
DAYS_TO_SEND = (1, 60)
ADDRESS_LINES = (2, 8)
MAX_ADDRESS_LINE_CHARS = 100
MAX_NON_RETURNABLE_ITEMS = 100
MAX_WHAT_CHARS = 200
MAX_SKU_PATTERNS = 50
MAX_SKU_PATTERN_CHARS = 64

REQUIRED = ("language", "return_window_days", "days_to_send", "send_methods", "return_address")
OPTIONAL = ("non_returnable",)
KNOWN = REQUIRED + OPTIONAL

_EXAMPLES = {
    "language": "language: sv",
    "return_window_days": "return_window_days: 30",
    "days_to_send": "days_to_send: 14",
    "send_methods": "send_methods: [post, drop_off]",
    "return_address": "return_address: |  followed by the address lines, indented",
}


@dataclass(frozen=True)
class Settings:
    language: str
    return_window_days: int
    days_to_send: int
    send_methods: tuple[str, ...]
    return_address: tuple[str, ...]
    # (what, sku patterns) pairs; the document module turns them into NonReturnable.
    non_returnable: tuple[tuple[str, tuple[str, ...]], ...]


class _Invalid(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def validate(root: Value | None, closing_line: int, problems: list[Problem]) -> Settings | None:
    """Check every setting, adding one problem per mistake; None if any were found."""
    found_before = len(problems)
    if root is not None and not root.is_mapping:
        problems.append(
            Problem(
                root.line,
                None,
                "The front matter must be settings written as name: value, one per line, "
                "for example language: sv.",
            )
        )
        return None
    entries = _known_entries(root.entries() if root is not None else [], problems)
    for name in REQUIRED:
        if name not in entries:
            problems.append(
                Problem(
                    closing_line,
                    name,
                    f"{name} is missing; add it before the closing --- line, for example "
                    f"{_EXAMPLES[name]}.",
                )
            )
    values: dict[str, object] = {"non_returnable": ()}
    for name, check in _CHECKS.items():
        if name in entries:
            values[name] = check(entries[name], problems)
    if len(problems) > found_before:
        return None
    return Settings(**values)  # type: ignore[arg-type]


def _known_entries(entries: list[Entry], problems: list[Problem]) -> dict[str, Entry]:
    first_lines: dict[str, int] = {}
    known: dict[str, Entry] = {}
    for entry in entries:
        if entry.key is None:
            problems.append(
                Problem(
                    entry.line, None, "Each setting must start with a plain name, like language:."
                )
            )
            continue
        if entry.key in first_lines:
            problems.append(
                Problem(
                    entry.line,
                    entry.key,
                    f"The setting {_quoted(entry.key)} is set twice (first on line "
                    f"{first_lines[entry.key]}); keep only one of them.",
                )
            )
            continue
        first_lines[entry.key] = entry.line
        if entry.key in KNOWN:
            known[entry.key] = entry
        else:
            problems.append(Problem(entry.line, entry.key, _unknown_key_message(entry.key)))
    return known


def _unknown_key_message(key: str) -> str:
    close = difflib.get_close_matches(key, KNOWN, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return (
        f"The setting {_quoted(key)} is not one this document can have.{hint} The settings are: "
        f"{', '.join(KNOWN)}."
    )


def _checked(field: str) -> Callable[[Callable[[Entry], object]], Callable[..., object]]:
    """Turn a check that raises _Invalid into one that records a problem and gives None."""

    def wrap(check: Callable[[Entry], object]) -> Callable[[Entry, list[Problem]], object]:
        def run(entry: Entry, problems: list[Problem]) -> object:
            try:
                return check(entry)
            except _Invalid as invalid:
                problems.append(Problem(invalid.line, field, invalid.message))
                return None

        return run

    return wrap


@_checked("language")
def _language(entry: Entry) -> str:
    data = _read(entry.value)
    if isinstance(data, str) and data in LANGUAGES:
        return data
    raise _Invalid(
        entry.line,
        f'language must be "sv" (Swedish) or "en" (English), not {_shown(entry.value)}.',
    )


def _whole_days(entry: Entry, field: str, limits: tuple[int, int], why: str = "") -> int:
    data = _read(entry.value)
    low, high = limits
    if isinstance(data, int) and not isinstance(data, bool) and low <= data <= high:
        return data
    raise _Invalid(
        entry.line, f"{field} must be a whole number of days between {low} and {high}{why}."
    )


@_checked("return_window_days")
def _return_window_days(entry: Entry) -> int:
    return _whole_days(
        entry,
        "return_window_days",
        RETURN_WINDOW_DAYS,
        " (Swedish law gives customers at least 14 days)",
    )


@_checked("days_to_send")
def _days_to_send(entry: Entry) -> int:
    return _whole_days(entry, "days_to_send", DAYS_TO_SEND)


def _send_methods(entry: Entry, problems: list[Problem]) -> tuple[str, ...] | None:
    value = entry.value
    if not value.is_sequence or value.size == 0:
        problems.append(
            Problem(
                entry.line,
                "send_methods",
                "send_methods must list at least one way to send the parcel, chosen from "
                "post, drop_off and label, for example [post, drop_off].",
            )
        )
        return None
    methods: list[str] = []
    valid = True
    for item in value.items():
        data = _read(item)
        if not isinstance(data, str) or data not in SEND_METHODS:
            message = (
                f"send_methods has {_shown(item)}, which is not a send method; use post, "
                "drop_off or label."
            )
        elif data in methods:
            message = f"send_methods lists {data} more than once; keep only one."
        else:
            methods.append(data)
            continue
        valid = False
        problems.append(Problem(item.line, "send_methods", message))
    return tuple(methods) if valid else None


def _return_address(entry: Entry, problems: list[Problem]) -> tuple[str, ...] | None:
    value = entry.value
    data = _read(value)
    if not isinstance(data, str):
        problems.append(
            Problem(
                entry.line,
                "return_address",
                "return_address must be the address as text: write return_address: | and "
                "put each address line below it, indented.",
            )
        )
        return None
    lines = [(index, line.strip()) for index, line in enumerate(data.split("\n")) if line.strip()]
    valid = True
    for index, line in lines:
        if len(line) > MAX_ADDRESS_LINE_CHARS:
            valid = False
            # Only a "|" block keeps its lines as written, one below the key each.
            where = value.line + 1 + index if value.is_literal_block else entry.line
            problems.append(
                Problem(
                    where,
                    "return_address",
                    f"This return_address line is {len(line)} characters long; each line may "
                    f"have at most {MAX_ADDRESS_LINE_CHARS} characters.",
                )
            )
    low, high = ADDRESS_LINES
    if not low <= len(lines) <= high:
        valid = False
        problems.append(
            Problem(
                entry.line,
                "return_address",
                f"return_address must have between {low} and {high} lines (name, street or "
                f"box, postcode and town) but has {len(lines)}; write return_address: | and "
                "put each line below it, indented.",
            )
        )
    return tuple(line for _, line in lines) if valid else None


def _non_returnable(
    entry: Entry, problems: list[Problem]
) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    value = entry.value
    if value.is_scalar and _read(value) is None:
        return ()  # "non_returnable:" left empty means there is nothing to list
    if not value.is_sequence:
        problems.append(
            Problem(
                entry.line,
                "non_returnable",
                "non_returnable must be a list; each item is a description, or what: with "
                "an optional skus: list of patterns such as GC-*.",
            )
        )
        return None
    if value.size > MAX_NON_RETURNABLE_ITEMS:
        problems.append(
            Problem(
                entry.line,
                "non_returnable",
                f"non_returnable has {value.size} items; at most {MAX_NON_RETURNABLE_ITEMS} "
                "are allowed.",
            )
        )
        return None
    items = []
    found_before = len(problems)
    for number, item in enumerate(value.items(), start=1):
        items.append(_non_returnable_item(number, item, problems))
    if len(problems) > found_before:
        return None
    return tuple(item for item in items if item is not None)


def _non_returnable_item(
    number: int, item: Value, problems: list[Problem]
) -> tuple[str, tuple[str, ...]] | None:
    def report(line: int, message: str) -> None:
        problems.append(Problem(line, "non_returnable", f"non_returnable item {number} {message}"))

    if item.is_scalar:
        try:
            return _what(item), ()
        except _Invalid as invalid:
            report(invalid.line, invalid.message)
            return None
    if not item.is_mapping:
        report(
            item.line,
            "must be a description, or what: with an optional skus: list of patterns.",
        )
        return None
    parts: dict[str, Entry] = {}
    for part in item.entries():
        if part.key not in ("what", "skus"):
            report(part.line, f"has {_quoted(part.key)}, which is not allowed; use what and skus.")
        elif part.key in parts:
            report(part.line, f"has {part.key} twice; keep only one.")
        else:
            parts[part.key] = part
    what = None
    if "what" not in parts:
        report(item.line, "needs what: with a description of the items.")
    else:
        try:
            what = _what(parts["what"].value)
        except _Invalid as invalid:
            report(invalid.line, invalid.message)
    skus = _sku_patterns(parts["skus"], report) if "skus" in parts else ()
    if what is None or skus is None:
        return None
    return what, skus


def _what(value: Value) -> str:
    data = _read(value)
    if not isinstance(data, str) or not data.strip():
        raise _Invalid(value.line, "must be a description in words, such as Gift cards.")
    if len(data.strip()) > MAX_WHAT_CHARS:
        raise _Invalid(value.line, f"has a description longer than {MAX_WHAT_CHARS} characters.")
    return data.strip()


def _sku_patterns(entry: Entry, report: Callable[[int, str], None]) -> tuple[str, ...] | None:
    value = entry.value
    if value.is_scalar and _read(value) is None:
        return ()
    if not value.is_sequence:
        report(entry.line, 'has skus that are not a list; write skus: ["GC-*"].')
        return None
    if value.size > MAX_SKU_PATTERNS:
        report(entry.line, f"has more than {MAX_SKU_PATTERNS} skus patterns.")
        return None
    patterns: list[str] = []
    valid = True
    for pattern in value.items():
        data = _read(pattern)
        problem = _sku_pattern_problem(pattern, data)
        if problem is None:
            patterns.append(str(data))
        else:
            valid = False
            report(pattern.line, problem)
    return tuple(patterns) if valid else None


def _sku_pattern_problem(pattern: Value, data: object) -> str | None:
    if isinstance(data, int | float) and not isinstance(data, bool):
        return f"has the sku pattern {_shown(pattern)}, which is not text; put it in quotes."
    if not isinstance(data, str) or not data:
        return 'has an sku pattern that is not text; write patterns such as "GC-*".'
    if len(data) > MAX_SKU_PATTERN_CHARS:
        return f"has an sku pattern longer than {MAX_SKU_PATTERN_CHARS} characters."
    if any(character.isspace() for character in data):
        return f"has the sku pattern {_shown(pattern)}, which contains a space."
    if set(data) <= {"*", "?"}:
        # Such a pattern matches every product and would quietly block all returns.
        return (
            f"has the sku pattern {_shown(pattern)}, which matches every product; start it "
            'with a fixed prefix, such as "GC-*".'
        )
    return None


_Check = Callable[[Entry, list[Problem]], object]
_CHECKS: dict[str, _Check] = {
    "language": _language,
    "return_window_days": _return_window_days,
    "days_to_send": _days_to_send,
    "send_methods": _send_methods,
    "return_address": _return_address,
    "non_returnable": _non_returnable,
}

_UNREADABLE = object()


def _read(value: Value) -> object:
    """The Python value of a scalar; a sentinel for lists, mappings and unreadable tags."""
    if not value.is_scalar:
        return _UNREADABLE
    try:
        return value.scalar()
    except UnreadableValue:
        return _UNREADABLE


def _shown(value: Value) -> str:
    """What the merchant wrote, short enough for a message.

    Uses the source text rather than the parsed value: YAML reads ``no`` as false, and
    the merchant should see ``no`` back. Never the parsed value of a list: an alias can
    make it enormous.
    """
    if value.is_sequence:
        return "a list"
    if value.is_mapping:
        return "a group of settings"
    text = value.text
    try:
        value.scalar()
    except UnreadableValue:
        return (
            f"{_quoted(text)} with a YAML tag (such as !!int or !!python) that cannot be used here"
        )
    if not text.strip():
        return "an empty value"
    return _quoted(text)


def _quoted(text: str | None) -> str:
    if text is None:
        return "a key that is not plain text"
    single_line = " ".join(text.split())
    if len(single_line) > 40:
        single_line = single_line[:39] + "…"
    return f'"{single_line}"'
