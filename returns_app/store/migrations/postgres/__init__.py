"""PostgreSQL's variant of every migration, under the same name (store/migrations/ MIGRATIONS
is the one list; migrate() runs a migration's variant from here on PostgreSQL).

Adding one: write a function of the migration's name in the module of its subject here (the
same statements in PostgreSQL's dialect: types as helpers.py says, triggers through
helpers.trigger), and list it in that module's MIGRATIONS. tests/postgres/test_migrations.py
fails for a migration without one."""

from __future__ import annotations

from . import bank, core, operations, partners, security, speed

VARIANTS = {fn.__name__: fn for module in (core, partners, speed, operations, bank, security)
            for fn in module.MIGRATIONS}
