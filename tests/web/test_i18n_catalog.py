"""The Swedish catalog is complete and compiled: every string wrapped for translation in
templates/ and returns_app/ has a reviewed Swedish translation, and the committed .mo says the
same as the .po (run `make messages` after changing either)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "returns_app" / "translations" / "sv" / "LC_MESSAGES"
# As the Makefile's BABEL_KEYWORDS: pybabel's defaults plus lazy_gettext (as _l) for forms.
EXTRACT_KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def extracted_msgids() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid the Makefile's extraction finds, and where."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=EXTRACT_KEYWORDS):
        msgid = message if isinstance(message, str) else tuple(m for m in message if m)
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def po():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f, locale="sv")


def test_extraction_finds_the_customer_pages_strings():
    found = extracted_msgids()
    # One from a template, a form label (lazy), a flash and a domain message: the config and
    # keywords reach every kind of file, so an empty extraction can't pass as "complete".
    for msgid in ("Return something you bought", "Order number", "You are signed out.",
                  "Use at most two decimals (öre)."):
        assert msgid in found
    assert len(found) > 200


def test_every_message_has_a_reviewed_swedish_translation(po):
    missing = []
    for msgid, where in sorted(extracted_msgids().items(), key=lambda kv: str(kv[0])):
        key = msgid if isinstance(msgid, str) else msgid[0]
        entry = po.get(key)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not all(s and s.strip() for s in strings):
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "empty"
            missing.append(f"{state}: {msgid!r} ({where[0]})")
    assert not missing, ("Swedish translations to add (make messages, then edit "
                         "returns_app/translations/sv/LC_MESSAGES/messages.po):\n"
                         + "\n".join(missing))


def test_translations_keep_their_placeholders(po):
    """A translation that drops or misspells %(name)s would fail at render time."""
    broken = [m.id for m in po if m.id and m.string and m.python_format
              and sorted(_placeholders(m.id)) != sorted(_placeholders(m.string))]
    assert not broken


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _placeholders(text) -> list[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return sorted({name for t in texts for name in re.findall(r"%\((\w+)\)s", t)})


def test_the_committed_mo_matches_the_po(po):
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = read_mo(f)
    in_po = {_key(m.id): _key(m.string) for m in po if m.id and not m.fuzzy}
    in_mo = {_key(m.id): _key(m.string) for m in mo if m.id}
    assert in_mo == in_po, "the .mo is stale: run `make messages` (or pybabel compile)"
