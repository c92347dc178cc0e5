"""Append-only audit trail. Written inside the caller's transaction, never on its own."""

from __future__ import annotations

import json

from .. import clock
from ..db import Database


def record(db: Database, actor: str, action: str, subject_kind: str, subject_id: int,
           before: dict | None = None, after: dict | None = None, why: str = "") -> None:
    db.execute(
        "INSERT INTO audit_event (at, actor, action, subject_kind, subject_id, before_json,"
        " after_json, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [clock.now_iso(), actor, action, subject_kind, subject_id,
         json.dumps(before, sort_keys=True) if before is not None else None,
         json.dumps(after, sort_keys=True) if after is not None else None, why],
    )
