"""What each piece of speed machinery buys, measured in-process on a benchmark database:
`python -m bench.machinery PATH [--repeat 200] [--rounds 3]` (PATH from bench.generate; work on
a copy: the app's sign-in writes a session row).

Each figure is the median of `repeat` timings, taken `rounds` times so the spread shows (the
benchmark machine is shared). A piece is taken away inside a transaction that is rolled back
(DROP TRIGGER / INDEX / TABLE are transactional in SQLite), so the database is left as it was;
writes are timed inside that transaction too, so they show the triggers' work without the
commit's fsync (about 4 ms a report with synchronous=FULL, the same with or without them).
README.md's "What each piece of speed machinery buys" quotes these figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from returns_app.store.db import Database, connect

from .generate import BENCH_PASSWORD, customer_email

Timing = Callable[[], object]
# Indexes made for the stuck queue's SQL before m009 moved it to stuck_candidate: since then
# only stuck_items (the rules in Python, run by the tests) reads them. m023 drops them.
ONLY_STUCK_ITEMS_READS = ("refund_unfinished_return", "refund_unknown_since", "refund_objected",
                          "returns_status_sent_at", "returns_status_refund_due_by")


def median_ms(run: Timing, repeat: int) -> float:
    return interleaved({"": run}, repeat)[""]


def interleaved(runs: dict[str, Timing], repeat: int) -> dict[str, float]:
    """Each run's median over `repeat` turns, the runs taking turns (the machine's speed drifts
    within a measurement by more than some of the differences measured)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def rounds_of(measure: Callable[[], dict[str, float]], rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, value in measure().items():
            found.setdefault(name, []).append(value)
    return found


def without(db: Database, statements: list[str], run: Callable[[], object]):
    """`run` with `statements` (drops) applied on `db`, all rolled back afterwards. Another
    connection still sees the database whole meanwhile (WAL: the drops are not committed)."""
    db.conn.execute("BEGIN")
    try:
        for statement in statements:
            db.conn.execute(statement)
        return run()
    finally:
        db.conn.execute("ROLLBACK")


def triggers_named(db: Database, like: str) -> list[str]:
    return [f"DROP TRIGGER {name}" for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?", [like])]


def biggest_merchant(db: Database) -> int:
    return db.execute("SELECT merchant_id FROM return_status_count GROUP BY merchant_id"
                      " ORDER BY sum(count) DESC LIMIT 1").fetchone()[0]


# --- reads ----------------------------------------------------------------------------------

def inbox_counts(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """m007's return_status_count: the inbox's count per status for the biggest shop."""
    merchant = biggest_merchant(db)
    return interleaved({
        "kept counts": lambda: db.execute(
            "SELECT status, count FROM return_status_count WHERE merchant_id = ?",
            [merchant]).fetchall(),
        "counted": lambda: db.execute(
            "SELECT status, count(*) FROM returns WHERE merchant_id = ? GROUP BY status",
            [merchant]).fetchall(),
    }, repeat)


def inbox_by_merchant(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """m003's returns.merchant_id: the inbox's first page of ids for the biggest shop, read by
    the column or through orders as it would be without it."""
    merchant = biggest_merchant(db)
    return interleaved({
        "returns.merchant_id": lambda: db.execute(
            "SELECT id FROM returns WHERE merchant_id = ?"
            " ORDER BY reported_at DESC, id DESC LIMIT 26", [merchant]).fetchall(),
        "through orders": lambda: db.execute(
            "SELECT returns.id FROM returns JOIN orders ON orders.id = returns.order_id"
            " WHERE orders.merchant_id = ? ORDER BY returns.reported_at DESC, returns.id DESC"
            " LIMIT 26", [merchant]).fetchall(),
    }, max(3, repeat // 20))


def stuck_queue(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """m009's stuck_candidate: the queue's SQL for one page of 25 (ranking, counts, the shown
    items), off the table or off its views (what the table holds, computed on every read)."""
    from returns_app.services import stuck

    now = datetime.now(UTC)
    views = " UNION ALL ".join(f"SELECT * FROM stuck_{kind}_source"
                               for kind in ("refund", "return", "unmatched", "debit"))
    return without(bare, ["DROP TABLE stuck_candidate",
                          f"CREATE VIEW stuck_candidate AS {views}"],
                   lambda: interleaved({
                       "stuck_candidate": lambda: stuck.stuck_queue(db, now, limit=25),
                       "its views": lambda: stuck.stuck_queue(bare, now, limit=25),
                   }, max(3, repeat // 10)))


def failed_lookup_cleanup(db: Database, bare: Database, repeat: int,
                          rows: int = 100_000) -> dict[str, float]:
    """m007's lookup_attempt_at: the clean-up every failed look-up and sign-in runs, with
    `rows` recent attempts in the table (a guessing run; none old enough to go)."""
    cutoff = "2000-01-01T00:00:00+00:00"
    attempts = [(f"ip:10.0.{n // 250}.{n % 250}", datetime.now(UTC).isoformat())
                for n in range(rows)]

    def cleanup(on: Database) -> Timing:
        return lambda: on.execute("DELETE FROM lookup_attempt WHERE at < ?", [cutoff])

    def measured() -> dict[str, float]:
        db.conn.executemany("INSERT INTO lookup_attempt (bucket, at) VALUES (?, ?)", attempts)
        with_index = median_ms(cleanup(db), repeat)
        db.conn.execute("DROP INDEX lookup_attempt_at")
        return {"lookup_attempt_at": with_index,
                "no index": median_ms(cleanup(db), max(3, repeat // 10))}

    return without(db, [], measured)


def unfinished_refunds(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """m007's refund_unfinished_return: what reads it at 1,000,000 orders. The queue reads
    stuck_candidate since m009; the statement in m009's returns triggers that finds a return's
    unfinished refunds; stuck_items (the rules in Python, which the tests hold the queue's SQL
    to) reads it for the deadline rule."""
    from returns_app.services import stuck

    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'refund_unfinished_return'"
                      ).fetchone():
        return {}  # dropped by m023
    now = datetime.now(UTC)
    return_id = db.execute("SELECT return_id FROM refund WHERE status != 'succeeded'"
                           " AND return_id IS NOT NULL LIMIT 1").fetchone()[0]

    def trigger_read(on: Database) -> Timing:
        return lambda: on.execute("SELECT id FROM refund WHERE return_id = ?"
                                  " AND status != 'succeeded'", [return_id]).fetchall()

    return without(bare, ["DROP INDEX refund_unfinished_return"], lambda: {
        **interleaved({"trigger's read": trigger_read(db),
                       "trigger's read, no index": trigger_read(bare)}, repeat),
        **interleaved({"stuck_items' refunds": lambda: stuck._refund_candidates(db, now),
                       "stuck_items' refunds, no index":
                           lambda: stuck._refund_candidates(bare, now)},
                      max(3, repeat // 20))})


# --- writes ---------------------------------------------------------------------------------

def variant_copies(path: Path, variants: dict[str, list[str]]) -> dict[str, Database]:
    """A connection per variant, each on a copy of `path` with its drops committed (made once,
    kept beside `path`): a DROP inside the measured transaction would make SQLite read the
    whole schema again at every ROLLBACK TO, which costs more than the writes measured."""
    import shutil

    found = {}
    for variant, drops in variants.items():
        if not drops:
            found[variant] = connect(path)
            continue
        copy = path.with_name(f"{path.stem}-{variant.replace(' ', '-')}{path.suffix}")
        if not copy.exists():
            shutil.copyfile(path, f"{copy}.part")
            made = connect(f"{copy}.part")
            for statement in drops:
                made.execute(statement)
            made.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            made.close()
            Path(f"{copy}.part").rename(copy)
        found[variant] = connect(copy)
    return found


def write_costs(path: Path, repeat: int) -> dict[str, float]:
    """The triggers' work per write: a return reported (the return and one item), a return
    marked sent, a payment booked to the ledger, a refund moved, with every trigger and with
    each speed piece's triggers (or indexes) dropped, on copies of the database."""
    db = connect(path)
    orders = [row[0] for row in db.execute(
        "SELECT id FROM orders WHERE NOT EXISTS (SELECT 1 FROM returns"
        " WHERE returns.order_id = orders.id) ORDER BY id DESC LIMIT ?", [repeat])]
    lines = {order: db.execute("SELECT id FROM order_line WHERE order_id = ? LIMIT 1",
                               [order]).fetchone()[0] for order in orders}
    shops = {order: db.execute("SELECT merchant_id FROM orders WHERE id = ?",
                               [order]).fetchone()[0] for order in orders}
    reported = [row[0] for row in db.execute(
        "SELECT id FROM returns WHERE status = 'reported' LIMIT ?", [repeat])]
    refunds = [row[0] for row in db.execute(
        "SELECT id FROM refund WHERE status IN ('ready', 'failed', 'needs_details', 'unknown')"
        " LIMIT ?", [repeat])]
    now = datetime.now(UTC).isoformat()
    copies = variant_copies(path, {
        "every trigger": [],
        "no return_status_count": triggers_named(db, "return_status_count_%"),
        "no order_version": triggers_named(db, "%_order_version"),
        "no stuck_candidate": triggers_named(db, "stuck_candidate_%"),
        "no returns.merchant_id triggers": triggers_named(db, "returns_merchant_id_%"),
        "no indexes only stuck_items reads": [
            f"DROP INDEX {name}" for name in ONLY_STUCK_ITEMS_READS
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone()],
    })
    db.close()

    def report(db: Database, order: int) -> None:
        return_id = db.conn.execute(
            "INSERT INTO returns (order_id, status, reported_at, send_by, refund_due_by)"
            " VALUES (?, 'reported', ?, ?, ?)", [order, now, now, now]).lastrowid
        db.conn.execute("INSERT INTO return_item (return_id, order_line_id, quantity, reason)"
                        " VALUES (?, ?, 1, 'too_small')", [return_id, lines[order]])

    def report_with_shop(db: Database, order: int) -> None:
        # As services/returns.py would if it named the order's merchant: m003's fill trigger
        # (an UPDATE of the new row, and every update trigger on returns after it) stays idle.
        return_id = db.conn.execute(
            "INSERT INTO returns (order_id, merchant_id, status, reported_at, send_by,"
            " refund_due_by) VALUES (?, ?, 'reported', ?, ?, ?)",
            [order, shops[order], now, now, now]).lastrowid
        db.conn.execute("INSERT INTO return_item (return_id, order_line_id, quantity, reason)"
                        " VALUES (?, ?, 1, 'too_small')", [return_id, lines[order]])

    def sent(db: Database, return_id: int) -> None:
        db.conn.execute("UPDATE returns SET status = 'sent', sent_at = ? WHERE id = ?",
                        [now, return_id])

    def paid(db: Database, order: int) -> None:
        db.conn.execute("INSERT INTO ledger_entry (order_id, kind, amount_minor,"
                        " idempotency_key, created_at) VALUES (?, 'payment', 100, ?, ?)",
                        [order, f"machinery-{order}", now])

    def moved(db: Database, refund_id: int) -> None:
        db.conn.execute("UPDATE refund SET status = 'sending', status_changed_at = ?"
                        " WHERE id = ?", [now, refund_id])

    writes = {"report": (report, orders), "report naming the shop": (report_with_shop, orders),
              "sent": (sent, reported),
              "payment": (paid, orders), "refund": (moved, refunds)}
    times: dict[str, list[float]] = {}
    # Each write in a transaction of its own, rolled back; the variants take turns on the
    # same row.
    for turn in range(repeat):
        for variant, on in copies.items():
            for write, (run, ids) in writes.items():
                on.conn.execute("BEGIN")
                try:
                    started = time.perf_counter()
                    run(on, ids[turn])
                    times.setdefault(f"{write}, {variant}", []).append(
                        time.perf_counter() - started)
                finally:
                    on.conn.execute("ROLLBACK")
    for on in copies.values():
        on.close()
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def order_reads(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """db.connect's mmap_size and cache_size: what the order page reads (the order with its
    lines and amounts, refunds, payments) for random orders, on a connection as db.connect
    opens it and on one with SQLite's defaults (2 MB page cache, reads by system call)."""
    import random

    from returns_app.services import orders, payments, refunds

    plain = sqlite_defaults(db.execute("PRAGMA database_list").fetchone()[2])
    top = db.execute("SELECT max(id) FROM orders").fetchone()[0]
    picks = random.Random(7)
    chosen = [picks.randrange(top) + 1 for _ in range(repeat)]

    def reads(on: Database) -> Timing:
        turn = iter(chosen)

        def read() -> None:
            order_id = next(turn)
            orders.order_details(on, order_id)
            refunds.refunds_of_order(on, order_id)
            payments.payments_of_order(on, order_id)
        return read

    found = interleaved({"db.connect": reads(db), "SQLite's defaults": reads(plain)}, repeat)
    plain.close()
    return found


# --- the app ----------------------------------------------------------------------------------

def _app(path: Path, shelf: Path, size: int, connect_to: Callable | None = None):
    os.environ.setdefault("RETURNS_ENV", "development")
    from returns_app import create_app
    from returns_app.web import database_session

    real = database_session.connect
    if connect_to is not None:
        database_session.connect = connect_to
    try:
        app = create_app({"DATABASE": str(path), "SECRET_KEY": "machinery",
                          "WTF_CSRF_ENABLED": False, "PAGE_CACHE_SIZE": size,
                          "PAGE_CACHE_PATH": str(shelf), "PAGE_CACHE_VERIFY": False})
    finally:
        database_session.connect = real
    client = app.test_client()
    answer = client.post("/signin", data={"email": customer_email(1),
                                          "password": BENCH_PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client


def sqlite_defaults(path: str) -> Database:
    """A connection as db.connect opens it, without its memory map and 32 MB page cache."""
    db = connect(path)
    db.execute("PRAGMA mmap_size=0")
    db.execute("PRAGMA cache_size=-2000")
    return db


def order_pages(path: Path, repeat: int) -> dict[str, float]:
    """The signed-in order page (customer 1's orders in turn): kept (m008's order_version keys
    the shelf), rendered every time, and rendered every time without db.connect's pragmas."""
    db = connect(path)
    ids = [row[0] for row in db.execute("SELECT id FROM orders WHERE customer_id = 1")]
    db.close()
    shelf = Path(tempfile.mkdtemp()) / "pages.sqlite3"
    clients = {"kept": _app(path, shelf, 4096), "rendered": _app(path, shelf, 0),
               "rendered, SQLite's default cache, no mmap": _app(path, shelf, 0,
                                                                  sqlite_defaults)}
    turn = iter(range(10**9))

    def view(client) -> Timing:
        def one() -> None:
            assert client.get(f"/orders/{ids[next(turn) % len(ids)]}").status_code == 200
        return one

    for order_id in ids:  # each page viewed once: the shelf keeps it
        clients["kept"].get(f"/orders/{order_id}")
    return interleaved({name: view(client) for name, client in clients.items()}, repeat)


def opening(path: Path, repeat: int) -> dict[str, float]:
    """KeptConnections: what a request would pay to open its connection."""
    def open_and_read() -> None:
        db = connect(path)
        db.execute("SELECT id FROM orders WHERE id = 1").fetchone()
        db.close()

    kept = connect(path)
    found = interleaved({
        "opened per request": open_and_read,
        "kept": lambda: kept.execute("SELECT id FROM orders WHERE id = 1").fetchone()}, repeat)
    kept.close()
    return found


def in_process_caches(path: Path, repeat: int) -> dict[str, float]:
    """The per-process lru_caches of pure functions: one call answered from the cache against
    one computed (the function under the cache), inside a request in Swedish."""
    from datetime import date

    from babel import Locale

    from returns_app.domain import banking_days, money
    from returns_app.support import routes as support_routes
    from returns_app.web import domain_messages, filters, form_base, i18n, security_headers

    client = _app(path, Path(tempfile.mkdtemp()) / "pages.sqlite3", 0)
    calls = {
        "money.format_minor": (money.format_minor, (123450, "SEK")),
        "filters._day": (filters._day, (date(2025, 3, 12), "d MMM yyyy", "sv")),
        "support.routes._when": (support_routes._when,
                                 ("2025-03-12T10:00:00+00:00", Locale.parse("sv"))),
        "i18n._locale": (i18n._locale, ("sv",)),
        "form_base.wtforms_catalog": (form_base.wtforms_catalog, ("sv",)),
        "security_headers.content_security_policy": (
            security_headers.content_security_policy, ("https://provider.example",)),
        "banking_days._closed": (banking_days._closed, (2025,)),
        "domain_messages._patterns": (domain_messages._patterns, ()),
    }
    found = {}
    with client.application.test_request_context(headers={"Accept-Language": "sv"}):
        for name, (cached, args) in calls.items():
            cached(*args)
            found.update(interleaved({f"{name}, cached": lambda c=cached, a=args: c(*a),
                                      f"{name}, computed": lambda c=cached, a=args:
                                          c.__wrapped__(*a)}, max(3, repeat // 10)))
    return found


def hot_reads(before: Path, after: Path, repeat: int) -> dict[str, float]:
    """The queue's, the inbox's and the order page's reads on two databases taking turns (the
    same data before and after a migration): a change to the schema must leave them as fast."""
    import random

    from returns_app.services import inbox, orders, payments, refunds, stuck

    now = datetime.now(UTC)
    sides = {"before": connect(before), "after": connect(after)}
    merchant = biggest_merchant(sides["before"])
    email = sides["before"].execute("SELECT email FROM customer WHERE id = 1").fetchone()[0]
    top = sides["before"].execute("SELECT max(id) FROM orders").fetchone()[0]
    chosen = [random.Random(7).randrange(top) + 1 for _ in range(repeat)]
    reads = {
        "stuck queue page": lambda db: stuck.stuck_queue(db, now, limit=25),
        "stuck queue searched": lambda db: stuck.stuck_queue(db, now, stuck.search(db, email)),
        "inbox page and counts": lambda db: [inbox.counts(db, merchant)] + [
            inbox.list_returns(db, merchant, status) for status in ("all", "overdue",
                                                                      *inbox.STATUSES)],
    }
    found = {}
    for name, read in reads.items():
        found.update(interleaved({f"{name}, {side}": lambda r=read, d=db: r(d)
                                  for side, db in sides.items()}, repeat))
    for side, db in sides.items():
        turn = iter(chosen)

        def order(db=db, turn=turn) -> None:
            order_id = next(turn)
            orders.order_details(db, order_id)
            refunds.refunds_of_order(db, order_id)
            payments.payments_of_order(db, order_id)
        found[f"random orders' reads, {side}"] = median_ms(order, repeat)
    return found


MEASURES = {
    "inbox counts (m007 return_status_count)": inbox_counts,
    "inbox first page (m003 returns.merchant_id)": inbox_by_merchant,
    "stuck queue page (m009 stuck_candidate)": stuck_queue,
    "failed-lookup clean-up (m007 lookup_attempt_at)": failed_lookup_cleanup,
    "unfinished refunds (m007 refund_unfinished_return)": unfinished_refunds,
    "random orders' reads (db.connect's pragmas)": order_reads,
}
APP_MEASURES = {
    "writes (triggers)": write_costs,
    "order page (m008 order_version, the shelf, db.connect's pragmas)": order_pages,
    "connection (KeptConnections)": opening,
    "in-process caches (lru_cache)": in_process_caches,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="measure only the pieces whose title contains this")
    parser.add_argument("--against", type=Path,
                        help="instead: the hot reads on PATH and on this database in turns")
    args = parser.parse_args(argv)
    if args.against:
        found = rounds_of(lambda: hot_reads(args.path, args.against, args.repeat), args.rounds)
        for name, values in found.items():
            print(f"  {name:<48} " + "  ".join(f"{v:9.4f}" for v in values) + "  ms")
        return 0
    db, bare = connect(args.path), connect(args.path)
    for title, measure in {**MEASURES, **APP_MEASURES}.items():
        if args.only and args.only not in title:
            continue
        if measure in APP_MEASURES.values():
            found = rounds_of(lambda m=measure: m(args.path, args.repeat), args.rounds)
        else:
            found = rounds_of(lambda m=measure: m(db, bare, args.repeat), args.rounds)
        print(title if found else f"{title}: not in this database")
        for name, values in found.items():
            print(f"  {name:<48} " + "  ".join(f"{v:9.4f}" for v in values) + "  ms")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
