"""Merchants, their API keys and their published return instructions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

import merchant_instructions

from .. import clock
from ..db import Database, write_transaction
from ..errors import Conflict, Invalid, TooLarge, Unauthorized
from ..passwords import hash_secret, new_secret
from . import audit

API_KEY_PREFIX = "rk_"


@dataclass(frozen=True)
class NewApiKey:
    id: int
    key: str  # shown once, never stored


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "merchant"


def create_merchant(db: Database, name: str, actor: str = "cli") -> tuple[dict, str]:
    name = name.strip()
    if not name:
        raise Invalid(fields={"name": "Give the merchant a name."})
    with write_transaction(db):
        slug = _slugify(name)
        if db.execute("SELECT 1 FROM merchant WHERE slug = ?", [slug]).fetchone():
            raise Conflict(f"A merchant called {name!r} already exists.")
        merchant_id = db["merchant"].insert(
            {"slug": slug, "name": name, "created_at": clock.now_iso()}
        ).last_pk
        key = _insert_api_key(db, merchant_id, "first key")
        audit.record(db, actor, "merchant.created", "merchant", merchant_id, after={"name": name})
    return get_merchant(db, merchant_id), key.key


def _insert_api_key(db: Database, merchant_id: int, label: str) -> NewApiKey:
    key = new_secret(API_KEY_PREFIX)
    key_id = db["merchant_api_key"].insert({
        "merchant_id": merchant_id,
        "prefix": key[:8],
        "key_hash": hash_secret(key),
        "label": label,
        "created_at": clock.now_iso(),
    }).last_pk
    return NewApiKey(key_id, key)


def get_merchant(db: Database, merchant_id: int) -> dict:
    return dict(db["merchant"].get(merchant_id))


def merchant_for_api_key(db: Database, key: str | None) -> dict:
    if not key:
        raise Unauthorized("Send the merchant API key as 'Authorization: Bearer <key>'.")
    rows = list(db.query(
        "SELECT merchant.* FROM merchant_api_key JOIN merchant ON merchant.id = merchant_id"
        " WHERE key_hash = ? AND revoked_at IS NULL",
        [hash_secret(key)],
    ))
    if not rows:
        raise Unauthorized("That API key is not valid or has been revoked.")
    return rows[0]


# --- return instructions --------------------------------------------------------------------

def publish_instructions(db: Database, merchant_id: int, text: str | bytes,
                         published_by: str) -> dict:
    """Validate and store a new version. Returns the stored version row."""
    try:
        parsed = merchant_instructions.parse(text)
    except merchant_instructions.DocumentTooLarge as exc:
        raise TooLarge(
            f"The instructions document is larger than "
            f"{merchant_instructions.MAX_DOCUMENT_BYTES // 1024} KB.") from exc
    except merchant_instructions.InstructionsInvalid as exc:
        raise Invalid(
            "The instructions document has problems.",
            problems=[{"line": p.line, "field": p.field, "message": p.message}
                      for p in exc.problems],
        ) from exc
    with write_transaction(db):
        latest = db.execute(
            "SELECT coalesce(max(version), 0) FROM instructions_version WHERE merchant_id = ?",
            [merchant_id],
        ).fetchone()[0]
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
        version_id = db["instructions_version"].insert(row).last_pk
        audit.record(db, published_by, "instructions.published", "merchant", merchant_id,
                     after={"version": row["version"], "language": parsed.language})
    return instructions_by_id(db, version_id)


def instructions_by_id(db: Database, version_id: int | None) -> dict | None:
    if version_id is None:
        return None
    row = db["instructions_version"].get(version_id)
    return _decode(dict(row))


def current_instructions(db: Database, merchant_id: int,
                         language: str | None) -> dict | None:
    """The newest version in the customer's language, else the newest in the other one."""
    versions = list(db.query(
        "SELECT id, language, version FROM instructions_version WHERE merchant_id = ?",
        [merchant_id],
    ))
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
