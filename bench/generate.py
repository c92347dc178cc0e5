"""Build a benchmark database: `python -m bench.generate --orders N --out PATH`.

The schema, triggers and indexes are the project's own (db.connect + db.migrate); merchants, their
staff and their published instructions go through the services; customers and orders (with
lines, returns, payments, refunds, ledger, outbox and audit rows, see story.py) are bulk-inserted
with executemany in big transactions. Only while building, the journal and fsync are off (a
crash mid-build just means building again); the file ends in WAL mode, analysed, with
`synchronous=FULL` set again by every connection the app opens.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.domain.payout_details import parse_payout_details
from returns_app.services import merchant_users, merchants, orders
from returns_app.store.db import Database, connect, write_transaction
from returns_app.store.migrations import migrate

from .catalog import FIRST_NAMES, LAST_NAMES, Customer, Merchant, make_catalog
from .rows import COLUMNS, Rows
from .story import Story

SAMPLES = Path(__file__).resolve().parent.parent / "merchant_instructions" / "samples"
SAMPLE_FILES = ("nordic-outfitters.md", "hemma-design.md", "techbolaget.md")
MERCHANTS = 50
CUSTOMERS_PER_ORDER = 0.3  # 1,000,000 orders -> 300,000 customers
BATCH_ORDERS = 50_000
# Accounts the benchmark signs in with (and only the benchmark: never a real deployment).
BENCH_PASSWORD = "bench-password"  # noqa: S105
SIGN_IN_CUSTOMERS = 16  # customers 1..16 have this password
SUPPORT_EMAIL = "support@bench.example.se"
# Support signs in with a second factor: the benchmark's agent has this one (bench/targets.py).
SUPPORT_TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH23"  # noqa: S105


def customer_email(customer_id: int) -> str:
    return f"customer{customer_id}@bench.example.se"


def staff_email(slug: str) -> str:
    return f"staff@{slug}.bench.example.se"


def _relax_for_build(db: Database) -> None:
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB: the unique indexes stay in memory
    db.execute("PRAGMA temp_store=MEMORY")


def _restore(db: Database) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _insert(db: Database, table: str, rows: list) -> None:
    if rows:
        columns = COLUMNS[table]
        db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
            f" ({', '.join('?' for _ in columns)})", rows)


def _merchants(db: Database, rng: random.Random, password_hash: str) -> list[Merchant]:
    made = []
    for number in range(1, MERCHANTS + 1):
        merchant, _key = merchants.create_merchant(db, f"Bench Shop {number:02d}", actor="bench")
        sample = (SAMPLES / SAMPLE_FILES[(number - 1) % len(SAMPLE_FILES)]).read_text()
        version = merchants.publish_instructions(db, merchant["id"], sample,
                                                 published_by="bench")
        merchant_users.create_merchant_user(db, merchant["slug"], staff_email(merchant["slug"]),
                                            name=f"Staff of shop {number}", actor="bench",
                                            password_hash=password_hash,
                                            must_change_password=False)
        entry = Merchant(merchant["id"], merchant["slug"], version)
        make_catalog(rng, entry)
        made.append(entry)
    return made


def _customers(db: Database, rng: random.Random, count: int, password_hash: str) -> list:
    linked = parse_payout_details({"clearing_number": "8327-9", "account_number": "1234567897"})
    bank_json = json.dumps(linked.as_provider_destination())
    created = clock.iso(clock.now())
    rows, table = [], []
    for customer_id in range(1, count + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        language = "en" if rng.random() < 0.12 else "sv"
        has_bank = rng.random() < 0.25
        rows.append((customer_id, customer_email(customer_id), name,
                     password_hash if customer_id <= SIGN_IN_CUSTOMERS else None,
                     linked.masked if has_bank else None, 1 if rng.random() < 0.3 else 0,
                     language, created, bank_json if has_bank else None))
        table.append(Customer(customer_id, customer_email(customer_id), name, language,
                              bank_json if has_bank else None,
                              linked.masked if has_bank else None))
    db.conn.execute("BEGIN")
    db.conn.executemany(
        "INSERT INTO customer (id, email, name, password_hash, bank_account_masked, uses_app,"
        " language, created_at, bank_account_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.conn.execute("COMMIT")
    return table


def build(out: Path, order_count: int, seed: int = 20240601, now: datetime | None = None,
          log=print) -> dict:
    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(seed)
    db = connect(out)
    migrate(db)
    _relax_for_build(db)
    password_hash = hash_password(BENCH_PASSWORD)
    shops = _merchants(db, rng, password_hash)
    with write_transaction(db):
        db["support_user"].insert({"email": SUPPORT_EMAIL, "password_hash": password_hash,
                                   "created_at": clock.now_iso(),
                                   "totp_secret": SUPPORT_TOTP_SECRET,
                                   "totp_enabled_at": clock.now_iso()})
    customer_count = max(SIGN_IN_CUSTOMERS, int(order_count * CUSTOMERS_PER_ORDER))
    customers = _customers(db, rng, customer_count, password_hash)
    # A few big shops and a long tail (Zipf): the biggest gets about a fifth of the orders.
    story = Story(rng, now, shops, [1 / (rank + 1) for rank in range(len(shops))],
                  customer_count, lambda customer_id: customers[customer_id - 1], order_count)
    for first in range(1, order_count + 1, BATCH_ORDERS):
        rows = Rows()
        for order_id in range(first, min(first + BATCH_ORDERS, order_count + 1)):
            story.order(rows, order_id)
        db.conn.execute("BEGIN")
        for table in COLUMNS:
            _insert(db, table, getattr(rows, table))
        db.conn.execute("COMMIT")
        log(f"  {min(first + BATCH_ORDERS - 1, order_count):>9,} orders"
            f"  ({time.monotonic() - started:5.1f} s)")
    _restore(db)
    counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
              for table in ("customer", "orders", "order_line", "returns", "return_item",
                            "refund", "payment", "ledger_entry", "audit_event")}
    counts["refunds_by_status"] = dict(db.execute(
        "SELECT status, count(*) FROM refund GROUP BY status").fetchall())
    check_money(db, rng)
    db.close()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def check_money(db: Database, rng: random.Random, sample: int = 500) -> None:
    """Every money invariant on a sample of orders (all with returns or refunds, some without),
    through the same service functions the pages use."""
    top = db.execute("SELECT max(id) FROM orders").fetchone()[0]
    with_refund = [r[0] for r in db.execute(
        "SELECT order_id FROM refund ORDER BY random() LIMIT ?", [sample // 2])]
    ids = with_refund + [rng.randrange(top) + 1 for _ in range(sample - len(with_refund))]
    for order_id in ids:
        booked = orders.ledger_amounts(db, order_id)
        sums = dict(db.execute("SELECT kind, sum(amount_minor) FROM ledger_entry"
                               " WHERE order_id = ? GROUP BY kind", [order_id]).fetchall())
        problems = []
        if sums.get("charge") != booked.total:
            problems.append(f"charge {sums.get('charge')} != total {booked.total}")
        if sums.get("credit", 0) != booked.accepted:
            problems.append(f"credits {sums.get('credit', 0)} != accepted {booked.accepted}")
        if booked.paid - booked.refunded < 0 or booked.refunded > booked.paid:
            problems.append(f"refunded {booked.refunded} of {booked.paid} paid")
        if booked.refund_owed:
            problems.append(f"{booked.refund_owed} owed back and no refund for it")
        shown = orders.amounts(db, order_id)
        if min(shown.payable_now, shown.paused, shown.refund_owed) < 0:
            problems.append(f"negative amount {shown}")
        if problems:
            raise SystemExit(f"order {order_id}: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    print(f"Building {args.out} with {args.orders:,} orders")
    counts = build(args.out, args.orders, args.seed)
    print(json.dumps(counts, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
