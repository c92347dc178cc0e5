"""What each piece of speed machinery buys, measured in-process on a benchmark database:
`python -m bench.machinery PATH [--repeat 200] [--rounds 3] [--only TEXT]` (PATH from
bench.generate; work on a copy: the app's sign-in writes a session row). With `--against
OTHER`, the queue's, the inbox's and the order page's reads on PATH and OTHER in turns (the
same data before and after a migration).

Each figure is the median of `repeat` timings, the variants taking turns, taken `rounds` times
so the spread shows (the benchmark machine is shared). For a read, the piece is taken away on a
second connection inside a transaction that is rolled back (DROP TRIGGER / INDEX / TABLE are
transactional in SQLite, and the first connection still sees the database whole). Writes run on
copies with the piece dropped (made once beside PATH), each in a transaction rolled back, so
they show the triggers' work without the commit's fsync (about 4 ms a report with
synchronous=FULL, the same with or without them). README.md's "What each piece of speed
machinery buys" quotes these figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from returns_app.domain.states import RETURN_STATUSES
from returns_app.store.db import Database, connect

from .machinery_app import in_process_caches, opening, order_pages, order_reads
from .timing import Timing, interleaved, median_ms, rounds_of, without

# Indexes made for the stuck queue's SQL before m009 moved it to stuck_candidate: since then
# only stuck_items (the rules in Python, run by the tests) reads them. m023 drops them; the
# measures that take them away find nothing to take on a database built after it, and give
# docs/decisions.md's before figures on one built before.
ONLY_STUCK_ITEMS_READS = ("refund_unfinished_return", "refund_unknown_since", "refund_objected",
                          "returns_status_sent_at", "returns_status_refund_due_by")


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
    unfinished refunds. (stuck_items, the rules in Python that the tests hold the queue's SQL
    to, read it too; it lives in the tests now and runs only on their small databases.)"""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'refund_unfinished_return'"
                      ).fetchone():
        return {}  # dropped by m023
    return_id = db.execute("SELECT return_id FROM refund WHERE status != 'succeeded'"
                           " AND return_id IS NOT NULL LIMIT 1").fetchone()[0]

    def trigger_read(on: Database) -> Timing:
        return lambda: on.execute("SELECT id FROM refund WHERE return_id = ?"
                                  " AND status != 'succeeded'", [return_id]).fetchall()

    return without(bare, ["DROP INDEX refund_unfinished_return"], lambda: interleaved(
        {"trigger's read": trigger_read(db), "trigger's read, no index": trigger_read(bare)},
        repeat))


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
                                                                      *RETURN_STATUSES)],
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
