"""What the PostgreSQL variants share: running a script in the migration's transaction, a
trigger as a PL/pgSQL function, and the append-only guard.

The SQLite schema's types, as written here: ``INTEGER PRIMARY KEY`` ids are identity columns
(BY DEFAULT: a copy or a restore may bring its own ids), every other INTEGER is BIGINT (SQLite's
are 64-bit), TEXT stays TEXT (times are ISO strings the app compares as text), and an email
unique ``COLLATE NOCASE`` is CITEXT (unique and compared without case, as there)."""

from __future__ import annotations

from ...db import Database


def execute_all(db: Database, script: str) -> None:
    # A function's body holds ";\n" too: those go through `trigger`, one statement each.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def trigger(db: Database, name: str, event: str, body: str, when: str = "",
            returns: str = "NULL") -> None:
    """A row trigger ``name`` (``event``: e.g. "AFTER INSERT ON refund") running ``body`` as a
    PL/pgSQL function of the same name. A BEFORE trigger that changes the row returns NEW."""
    db.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$"
               f" BEGIN {body} RETURN {returns}; END $body$")
    condition = f" WHEN ({when})" if when else ""
    db.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW{condition} EXECUTE FUNCTION {name}()")


def append_only(db: Database, table: str) -> None:
    """Money and audit history are corrected by new rows, never rewritten: UPDATE, DELETE and
    TRUNCATE (which skips row triggers) are refused with SQLite's message and an integrity
    error. PostgreSQL has no REPLACE, and INSERT ... ON CONFLICT DO UPDATE is an UPDATE, so
    SQLite's third guard (refuse_replace) has nothing to guard here."""
    db.execute("""CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql
        AS $body$ BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END $body$""")
    for action in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    db.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
               " FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()")


def identity_after_copy(db: Database, table: str) -> None:
    """After rows were copied in with their ids, the next generated id follows the highest."""
    db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
               f" coalesce(max(id), 0) + 1, false) FROM {table}")
