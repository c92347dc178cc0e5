"""Merchants, their API keys and the versions of their published return instructions."""

from __future__ import annotations

from .db import Database, insert, select, select_one

API_KEY_COLUMNS = "id, label, prefix, created_at, last_used_at, revoked_at"


def merchant_count(db: Database) -> int:
    return select(db, "SELECT count(*) AS n FROM merchant")[0]["n"]


def slug_taken(db: Database, slug: str) -> bool:
    return merchant_id_by_slug(db, slug) is not None


def merchant_id_by_slug(db: Database, slug: str) -> int | None:
    row = select_one(db, "SELECT id FROM merchant WHERE slug = ?", [slug])
    return row["id"] if row else None


def merchant_id_by_name(db: Database, name: str) -> int | None:
    row = select_one(db, "SELECT id FROM merchant WHERE name = ?", [name])
    return row["id"] if row else None


def add_merchant(db: Database, slug: str, name: str, created_at: str) -> int:
    return insert(db, "merchant", {"slug": slug, "name": name, "created_at": created_at})


def merchant(db: Database, merchant_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM merchant WHERE id = ?", [merchant_id])


# --- API keys ---------------------------------------------------------------------------------

def add_api_key(db: Database, row: dict) -> int:
    return insert(db, "merchant_api_key", row)


def merchant_for_key_hash(db: Database, key_hash: str) -> dict | None:
    """The merchant of an unrevoked key, with the key's api_key_id and last_used_at."""
    return select_one(db,
        "SELECT merchant.*, merchant_api_key.id AS api_key_id, last_used_at"
        " FROM merchant_api_key JOIN merchant ON merchant.id = merchant_id"
        " WHERE key_hash = ? AND revoked_at IS NULL", [key_hash])


def note_api_key_use(db: Database, key_id: int, at: str) -> None:
    db.conn.execute("UPDATE merchant_api_key SET last_used_at = ? WHERE id = ?", [at, key_id])


def api_keys_of_merchant(db: Database, merchant_id: int) -> list[dict]:
    """Active keys first, newest first; never the hash."""
    return select(db, f"SELECT {API_KEY_COLUMNS} FROM merchant_api_key"  # noqa: S608
                      " WHERE merchant_id = ? ORDER BY revoked_at IS NOT NULL, id DESC",
                  [merchant_id])


def api_key_of_merchant(db: Database, merchant_id: int, key_id: int) -> dict | None:
    return select_one(db, f"SELECT {API_KEY_COLUMNS} FROM merchant_api_key"  # noqa: S608
                          " WHERE id = ? AND merchant_id = ?", [key_id, merchant_id])


def revoke_api_key(db: Database, key_id: int, at: str) -> None:
    db.conn.execute("UPDATE merchant_api_key SET revoked_at = ? WHERE id = ?"
                    " AND revoked_at IS NULL", [at, key_id])


# --- return instructions ----------------------------------------------------------------------

def latest_instructions_version(db: Database, merchant_id: int) -> int:
    """The merchant's highest version number; 0 before the first."""
    return select(db, "SELECT coalesce(max(version), 0) AS latest FROM instructions_version"
                      " WHERE merchant_id = ?", [merchant_id])[0]["latest"]


def add_instructions_version(db: Database, row: dict) -> int:
    return insert(db, "instructions_version", row)


def instructions_versions(db: Database, merchant_id: int) -> list[dict]:
    """Every version, newest first, with the email of the merchant user who published it."""
    return select(db,
        "SELECT instructions_version.id, version, instructions_version.language, published_by,"
        " published_at,"
        " merchant_user.email AS publisher_email FROM instructions_version"
        " LEFT JOIN merchant_user ON instructions_version.published_by ="
        " 'merchant_user:' || merchant_user.id"
        " WHERE instructions_version.merchant_id = ? ORDER BY version DESC", [merchant_id])


def newest_source(db: Database, merchant_id: int, language: str) -> str | None:
    row = select_one(db,
        "SELECT source FROM instructions_version WHERE merchant_id = ? AND language = ?"
        " ORDER BY version DESC LIMIT 1", [merchant_id, language])
    return row["source"] if row else None


def instructions_version(db: Database, version_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM instructions_version WHERE id = ?", [version_id])


def version_languages(db: Database, merchant_id: int) -> list[dict]:
    """Each version's id, language and version number (to choose the one a customer reads)."""
    return select(db, "SELECT id, language, version FROM instructions_version"
                      " WHERE merchant_id = ?", [merchant_id])


def merchant_name(db: Database, merchant_id: int) -> str | None:
    row = select_one(db, "SELECT name FROM merchant WHERE id = ?", [merchant_id])
    return row["name"] if row else None


def merchant_exists(db: Database, merchant_id: int) -> bool:
    return select_one(db, "SELECT 1 AS found FROM merchant WHERE id = ?",
                      [merchant_id]) is not None
