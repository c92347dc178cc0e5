"""One migration list for both engines: every migration has a PostgreSQL variant of its name,
and an empty PostgreSQL database migrates to the same tables, columns (in the same order),
views and indexes as SQLite's."""

from __future__ import annotations

from returns_app.store.db import connect, select
from returns_app.store.migrations import MIGRATIONS, POSTGRES_VARIANTS, migrate, pending_migrations


def test_every_migration_has_a_postgresql_variant_of_its_name():
    missing = [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in POSTGRES_VARIANTS]
    assert not missing, f"add to store/migrations/postgres/: {missing}"
    assert set(POSTGRES_VARIANTS) == {fn.__name__ for fn in MIGRATIONS}, "a variant of nothing"


def sqlite_schema(db) -> dict[str, list[str]]:
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'sqlite_%'")]
    return {name: [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
            for name in names}


def postgres_schema(db) -> dict[str, list[str]]:
    schema: dict[str, list[str]] = {}
    for row in select(db, "SELECT table_name, column_name FROM information_schema.columns"
                          " WHERE table_schema = current_schema()"
                          " ORDER BY table_name, ordinal_position"):
        schema.setdefault(row["table_name"], []).append(row["column_name"])
    return schema


def test_an_empty_database_migrates_to_sqlites_tables_columns_and_views(fresh_database, lite):
    db = connect(fresh_database("empty"))
    assert pending_migrations(db) == [fn.__name__ for fn in MIGRATIONS]
    assert migrate(db) == [fn.__name__ for fn in MIGRATIONS]
    assert pending_migrations(db) == []
    assert migrate(db) == []
    assert postgres_schema(db) == sqlite_schema(lite)


def test_the_same_indexes(pg, lite):
    on_sqlite = {row[0] for row in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    on_postgres = {row["indexname"] for row in select(
        pg, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    # SQLite names its automatic (constraint) indexes sqlite_autoindex_*, not listed above;
    # PostgreSQL's are *_pkey and *_key.
    assert on_sqlite <= on_postgres


def test_the_same_triggers_keep_the_read_models(pg, lite):
    """Each SQLite trigger has a PostgreSQL trigger of its name, except where one BEFORE trigger
    does the work of SQLite's pair (docs/design.md, "Two engines")."""
    on_sqlite = {row[0] for row in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    on_postgres = {row["tgname"] for row in select(
        pg, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    merged = {"returns_merchant_id_insert", "refund_unknown_since_set",
              "refund_unknown_since_clear"}
    replace_guards = {name for name in on_sqlite if name.endswith("_no_replace")}
    assert on_sqlite - merged - replace_guards <= on_postgres
