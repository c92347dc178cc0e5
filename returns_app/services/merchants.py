"""Merchants, checking their API keys, and their published return instructions."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from fnmatch import fnmatchcase

import merchant_instructions

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound, TooLarge, Unauthorized
from ..domain.passwords import hash_secret
from ..store import faults
from ..store import merchants as merchant_rows
from ..store.db import Database, lock_rows, write_transaction
from . import api_keys, audit

LAST_USED_PRECISION = timedelta(hours=1)


def slug_of(name: str) -> str:
    """The merchant's name as it appears in addresses: lower case, words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "merchant"


def create_merchant(db: Database, name: str, actor: str = "cli") -> tuple[dict, str]:
    name = name.strip()
    if not name:
        raise Invalid(fields={"name": "Give the merchant a name."})
    with write_transaction(db):
        slug = slug_of(name)
        exists = f"A merchant called {name!r} already exists."
        if merchant_rows.slug_taken(db, slug):
            raise Conflict(exists)
        with faults.taken_is_a_conflict(exists):
            merchant_id = merchant_rows.add_merchant(db, slug, name, clock.now_iso())
        key = api_keys.add_api_key(db, merchant_id, "first key")
        audit.record(db, actor, "merchant.created", "merchant", merchant_id, after={"name": name})
    return get_merchant(db, merchant_id), key.key


def get_merchant(db: Database, merchant_id: int) -> dict:
    found = merchant_rows.merchant(db, merchant_id)
    if found is None:
        raise NotFound("No such merchant.")
    return found


def merchant_for_api_key(db: Database, key: str | None) -> dict:
    if not key:
        raise Unauthorized("Send the merchant API key as 'Authorization: Bearer <key>'.")
    merchant = merchant_rows.merchant_for_key_hash(db, hash_secret(key))
    if merchant is None:
        raise Unauthorized("That API key is not valid or has been revoked.")
    _note_use(db, merchant.pop("api_key_id"), merchant.pop("last_used_at"))
    return merchant


def _note_use(db: Database, key_id: int, last_used_at: str | None) -> None:
    """"Last used" to the hour is enough to tell a forgotten key: one write an hour, not one
    per request. A single UPDATE needs no read-then-write transaction."""
    now = clock.now()
    if last_used_at and clock.parse(last_used_at) > now - LAST_USED_PRECISION:
        return
    merchant_rows.note_api_key_use(db, key_id, clock.iso(now))


# --- return instructions --------------------------------------------------------------------

def parse_instructions(text: str | bytes, language: str | None = None
                       ) -> merchant_instructions.Instructions:
    """The document checked for publishing, or TooLarge / Invalid with each problem by line.

    `language` is the one the merchant says they publish (portal choice, Content-Language):
    the document's own `language:` line must agree, or a customer would get the wrong one.
    """
    try:
        parsed = merchant_instructions.parse(text)
    except merchant_instructions.DocumentTooLarge as exc:
        raise TooLarge(
            f"The instructions document is larger than "
            f"{merchant_instructions.MAX_DOCUMENT_BYTES // 1024} KB.") from exc
    except merchant_instructions.InstructionsInvalid as exc:
        raise _invalid(exc.problems) from exc
    if language is not None and parsed.language != language:
        raise _invalid([merchant_instructions.Problem(
            _language_line(parsed.source), "language",
            f"The document says language: {parsed.language}, but it is being published as "
            f"the {LANGUAGE_NAMES.get(language, language)} version; change this line to "
            f"language: {language}, or publish it as the "
            f"{LANGUAGE_NAMES[parsed.language]} version.")])
    return parsed


LANGUAGE_NAMES = {"sv": "Swedish", "en": "English"}


def _invalid(problems) -> Invalid:
    return Invalid(
        "The instructions document has problems.",
        problems=[{"line": p.line, "field": p.field, "message": p.message} for p in problems],
    )


def _language_line(source: str) -> int:
    for number, line in enumerate(source.replace("\r\n", "\n").split("\n"), start=1):
        if re.match(r"\s*language\s*:", line):
            return number
    return 1


def publish_instructions(db: Database, merchant_id: int, text: str | bytes,
                         published_by: str, language: str | None = None) -> dict:
    """Validate and store a new version. Returns the stored version row."""
    parsed = parse_instructions(text, language)
    with write_transaction(db):
        lock_rows(db, "merchant", merchant_id)  # one publication at a time gets the next number
        latest = merchant_rows.latest_instructions_version(db, merchant_id)
        row = {
            "merchant_id": merchant_id,
            "version": latest + 1,
            "language": parsed.language,
            "source": parsed.source,
            "html": parsed.html,
            "return_window_days": parsed.return_window_days,
            "days_to_send": parsed.days_to_send,
            "send_methods": json.dumps(list(parsed.send_methods)),
            "return_address": "\n".join(parsed.return_address),
            "non_returnable": json.dumps(
                [{"what": n.what, "skus": list(n.skus)} for n in parsed.non_returnable]),
            "content_hash": parsed.content_hash,
            "published_by": published_by,
            "published_at": clock.now_iso(),
        }
        version_id = merchant_rows.add_instructions_version(db, row)
        audit.record(db, published_by, "instructions.published", "merchant", merchant_id,
                     after={"version": row["version"], "language": parsed.language})
    return {**instructions_by_id(db, version_id), "warnings": warnings_of(parsed)}


def preview_instructions(db: Database, merchant_id: int, text: str | bytes,
                         language: str | None = None) -> dict:
    """What publishing would store, without storing it: shaped like `instructions_by_id`, so
    the customer's templates render it as they will render the published version."""
    parsed = parse_instructions(text, language)
    latest = merchant_rows.latest_instructions_version(db, merchant_id)
    return {
        "version": latest + 1,
        "language": parsed.language,
        "source": parsed.source,
        "html": parsed.html,
        "return_window_days": parsed.return_window_days,
        "days_to_send": parsed.days_to_send,
        "send_methods": list(parsed.send_methods),
        "return_address_lines": list(parsed.return_address),
        "non_returnable": [{"what": n.what, "skus": list(n.skus)} for n in parsed.non_returnable],
        "warnings": warnings_of(parsed),
    }


def warnings_of(parsed) -> list[dict]:
    """Raw HTML, scripts and script links in the document, each with its line."""
    return [{"line": w.line, "message": w.message} for w in parsed.warnings]


def instructions_versions(db: Database, merchant_id: int) -> list[dict]:
    """Every published version, newest first, marking the one customers see per language."""
    rows = merchant_rows.instructions_versions(db, merchant_id)
    current = {}
    for row in rows:
        current.setdefault(row["language"], row["id"])
    for row in rows:
        row["is_current"] = current[row["language"]] == row["id"]
    return rows


def current_source(db: Database, merchant_id: int, language: str) -> str | None:
    """The source of the newest version in exactly this language, to edit from."""
    return merchant_rows.newest_source(db, merchant_id, language)


def instructions_by_id(db: Database, version_id: int | None) -> dict | None:
    if version_id is None:
        return None
    return _decode(merchant_rows.instructions_version(db, version_id))


def current_instructions(db: Database, merchant_id: int,
                         language: str | None) -> dict | None:
    """The newest version in the customer's language, else the newest in the other one."""
    versions = merchant_rows.version_languages(db, merchant_id)
    chosen = merchant_instructions.select(versions, language)
    return instructions_by_id(db, chosen["id"]) if chosen else None


def _decode(row: dict) -> dict:
    row["send_methods"] = json.loads(row["send_methods"])
    row["non_returnable"] = json.loads(row["non_returnable"])
    row["return_address_lines"] = row["return_address"].split("\n")
    return row


def non_returnable_reason(instructions: dict | None, sku: str) -> str | None:
    """Which of the merchant's 'can't be returned' rules covers this SKU, if any."""
    if not instructions:
        return None
    for rule in instructions["non_returnable"]:
        if any(fnmatchcase(sku.upper(), pattern.upper()) for pattern in rule["skus"]):
            return rule["what"]
    return None
