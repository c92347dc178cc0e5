"""Two creations of the same merchant or staff user at the same instant: the check that the name
is free can't see the other's uncommitted row (READ COMMITTED on PostgreSQL), so the unique
constraint refuses the second, and the command says the user exists instead of a traceback, on
either engine (store/faults.taken_is_a_conflict)."""

from __future__ import annotations

import threading
import time

import pytest

from returns_app.domain.errors import Conflict
from returns_app.services import support
from returns_app.store import faults
from returns_app.store import merchants as merchant_rows
from returns_app.store import staff as staff_rows
from returns_app.store.db import connect, write_transaction
from tests.builders import make_merchant
from tests.rows import all_rows


def run(app, *args):
    # Anything but a clean refusal (an IntegrityError's traceback) fails the test here.
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def refused(result) -> str:
    assert result.exit_code != 0, result.output
    assert "already exists" in result.output and "Traceback" not in result.output
    return result.output


def test_a_support_user_the_check_missed_is_refused_by_the_constraint(app, db, cheap_hashing,
                                                                       monkeypatch):
    assert run(app, "create-support-user", "a@b.se").exit_code == 0
    # The other creation's row not yet committed when this one checked.
    monkeypatch.setattr(staff_rows, "support_user_by_email", lambda db, email: None)
    refused(run(app, "create-support-user", "A@b.se"))
    assert [user["email"] for user in all_rows(db, "support_user")] == ["a@b.se"]


def test_a_merchant_user_the_check_missed_is_refused_by_the_constraint(app, db, cheap_hashing,
                                                                        monkeypatch):
    make_merchant(db, "Shop AB")
    assert run(app, "create-merchant-user", "shop-ab", "a@shop.se").exit_code == 0
    monkeypatch.setattr(staff_rows, "merchant_user_email_taken", lambda db, email: False)
    refused(run(app, "create-merchant-user", "shop-ab", "a@shop.se"))
    assert len(all_rows(db, "merchant_user")) == 1


def test_a_merchant_the_check_missed_is_refused_by_the_constraint(app, db, monkeypatch):
    assert run(app, "create-merchant", "Shop AB").exit_code == 0
    monkeypatch.setattr(merchant_rows, "slug_taken", lambda db, slug: False)
    refused(run(app, "create-merchant", "Shop AB"))
    assert len(all_rows(db, "merchant")) == 1


def test_only_a_unique_constraints_refusal_is_read_as_taken(db):
    with pytest.raises(faults.IntegrityError) as refusal, write_transaction(db), \
            faults.taken_is_a_conflict("taken"):
        # A foreign key, not a name: still the error it is.
        staff_rows.add_support_token(db, 999, "hash", "2026-01-01T00:00:00+00:00")
    assert not faults.is_unique_violation(refusal.value)


def test_two_creations_at_the_same_instant_make_one_user_and_one_clear_refusal(app, db,
                                                                               cheap_hashing):
    """The other creation holds its uncommitted row while this one runs: on PostgreSQL this
    one's check sees nothing and its insert waits for the other's on the unique index, then is
    refused; on SQLite it waits for the other's write lock, then its check sees the row."""
    other = connect(app.config["DATABASE"])
    outcome = []

    def second():
        mine = connect(app.config["DATABASE"])
        try:
            support.create_support_user(mine, "same@b.se")
            outcome.append("created")
        except Exception as exc:  # noqa: BLE001  (what it was is the assertion)
            outcome.append(exc)
        finally:
            mine.close()

    try:
        with write_transaction(other):
            staff_rows.add_support_user(other, "same@b.se", "hash", "2026-01-01T00:00:00+00:00")
            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.3)  # the second is waiting on the first by now
        thread.join(10)
    finally:
        other.close()
    [error] = outcome
    assert isinstance(error, Conflict), error
    assert "already exists" in error.message
    assert [user["email"] for user in all_rows(db, "support_user")] == ["same@b.se"]
