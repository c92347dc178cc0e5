"""Append-only audit trail. Written inside the caller's transaction, never on its own.

Account, IBAN, card and phone numbers are masked here, whoever writes the row: the audit trail
and the events published from it never carry a full number."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.masking import mask, mask_email
from ..store import audit as audit_rows
from ..store.db import Database
from .events import Event, publish


def record(db: Database, actor: str, action: str, subject_kind: str, subject_id: int,
           before: dict | None = None, after: dict | None = None, why: str = "") -> None:
    at = clock.now_iso()
    before, after, why = mask(before), mask(after), mask(why)
    event_id = audit_rows.add_event(db, {
        "at": at, "actor": actor, "action": action, "subject_kind": subject_kind,
        "subject_id": subject_id,
        "before_json": json.dumps(before, sort_keys=True) if before is not None else None,
        "after_json": json.dumps(after, sort_keys=True) if after is not None else None,
        "why": why})
    publish(db, Event(event_id, at, actor, action, subject_kind, subject_id, before, after))


def link_holder(email: str) -> str:
    """The actor of what is done through an emailed link: whoever holds it, not necessarily
    the customer it was sent to."""
    return f"link_holder:{mask_email(email)}"
