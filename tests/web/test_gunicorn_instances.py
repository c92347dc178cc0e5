"""Two instances of the app on one host, as deployed (`-c python:returns_app.gunicorn_conf`):
neither opens gunicorn's per-user control socket, which they would take from each other."""

from __future__ import annotations

from tests.deployed import gunicorn


def test_two_instances_under_one_user_share_no_control_socket(tmp_path, owned_database):
    home = tmp_path / "home"
    home.mkdir()
    with gunicorn(owned_database, tmp_path / "a.log", workers=1, HOME=str(home)), \
            gunicorn(owned_database, tmp_path / "b.log", workers=1, HOME=str(home)):
        assert not (home / ".gunicorn").exists()
    for log in ("a.log", "b.log"):
        assert "control" not in (tmp_path / log).read_text().lower()
