"""What every request relies on underneath the pages: the kept database connection and the
form messages' language."""

from __future__ import annotations

import threading

from flask import g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import refresh
from wtforms import IntegerField

from returns_app.store.db import write_transaction
from returns_app.web.database_session import get_db
from returns_app.web.form_base import Form


def test_requests_of_one_thread_share_a_connection_and_other_threads_get_their_own(app):
    with app.app_context():
        first = get_db()
    with app.app_context():
        assert get_db() is first
    other = []
    thread = threading.Thread(target=lambda: other.append(_connection_in_context(app)))
    thread.start()
    thread.join()
    assert other[0] is not first


def _connection_in_context(app):
    with app.app_context():
        return get_db()


def test_a_request_that_dies_inside_a_transaction_does_not_pass_it_on(app, db):
    with app.app_context():
        get_db().conn.execute("BEGIN IMMEDIATE")
        get_db().execute("INSERT INTO merchant (slug, name, created_at) VALUES ('x', 'X', 'now')")
    with app.app_context():
        assert not get_db().conn.in_transaction
        assert get_db().execute("SELECT count(*) FROM merchant").fetchone()[0] == 0
    # ...and the write lock went with it: another connection can write at once.
    with write_transaction(db):
        db.execute("INSERT INTO merchant (slug, name, created_at) VALUES ('y', 'Y', 'now')")


def test_a_kept_connection_sees_what_others_committed_since_the_last_request(app, db):
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM merchant").fetchone()[0] == 0
    db.execute("INSERT INTO merchant (slug, name, created_at) VALUES ('z', 'Z', 'now')")
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM merchant").fetchone()[0] == 1


def test_another_database_path_gets_another_connection(app, tmp_path):
    with app.app_context():
        first = get_db()
    app.config["DATABASE"] = str(tmp_path / "other.sqlite3")
    with app.app_context():
        assert get_db() is not first
        assert "db" in g


class _Quantity(Form):
    quantity = IntegerField()


def test_wtforms_own_messages_follow_the_page_language(app):
    for accept, message in (("sv-SE", "Inte ett giltigt heltal"),
                            ("en-GB", "Not a valid integer value.")):
        with app.test_request_context("/", method="POST", data={"quantity": "two"},
                                      headers={"Accept-Language": accept}):
            refresh()  # pytest-flask's app context (and Flask-Babel's choice on g) spans both
            form = _Quantity()
            assert not form.validate()
            assert form.quantity.errors == [message]


def test_sessions_follow_a_key_rotation(app):
    old = _signed(app, {"language": "en"})
    with app.test_request_context(headers={"Cookie": f"session={old}"}):
        assert app.session_interface.open_session(app, request)["language"] == "en"
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a-new-secret"
    for cookie, language in ((old, "en"), (_signed(app, {"language": "sv"}), "sv")):
        with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
            assert app.session_interface.open_session(app, request)["language"] == language
    with app.test_request_context(headers={"Cookie": f"session={old[:-2]}xx"}):
        assert "language" not in app.session_interface.open_session(app, request)


def _signed(app, data: dict) -> str:
    """Signed by Flask's own interface, with the app's current key."""
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)
