"""Rows read back by tests on either engine (sqlite-utils' ``db[table].get`` and ``.rows_where``
exist only on SQLite's connection): through store.db's ``select``, as the store reads."""

from __future__ import annotations

from returns_app.store.db import is_postgres, select, select_one


def by_id(db, table: str, row_id: int) -> dict:
    """The row of ``table`` with this id; a test asking for one that isn't there fails here."""
    found = select_one(db, f"SELECT * FROM {table} WHERE id = ?", [row_id])
    assert found is not None, f"no {table} row {row_id}"
    return found


def rows_where(db, table: str, where: str, params=()) -> list[dict]:
    """The rows of ``table`` matching ``where``, in the order they were written."""
    return select(db, f"SELECT * FROM {table} WHERE {where} ORDER BY id", params)


def all_rows(db, table: str, order_by: str = "id") -> list[dict]:
    """Every row of ``table``, in the order they were written (by ``order_by`` for a table
    without an id)."""
    return select(db, f"SELECT * FROM {table} ORDER BY {order_by}")


def every_value(db) -> str:
    """Every value in every table, as text: what a secret must appear nowhere in (audit trail
    included)."""
    if is_postgres(db):
        tables = select(db, "SELECT table_name AS name FROM information_schema.tables"
                            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    else:
        tables = select(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return "\n".join(str(value) for table in tables
                     for row in select(db, f'SELECT * FROM "{table["name"]}"')
                     for value in row.values())
