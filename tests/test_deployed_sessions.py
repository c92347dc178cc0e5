"""Sessions and logs as deployed: gunicorn with three workers on a file database (issue 16,
items 2 and 8). A copied cookie works on every worker while its session lives and is refused
by every worker once its owner signs out; emailed links' tokens reach no log line."""

from __future__ import annotations

import re
import time

import pytest
import requests

from returns_app import links
from returns_app.db import connect, migrate
from tests.builders import make_order
from tests.deployed import gunicorn
from tests.merchant_fixtures import STAFF_PASSWORD, make_shop
from tests.system.forms import Tally, Visitor

WORKERS = 3
SECRET = "deployed-test-secret"  # noqa: S105 (tests/deployed.py's)
# gunicorn's default access-log line with the worker's pid in front: the test sees which worker
# served each request, and every part the default line logs (request line, referrer, ...).
ACCESS_FORMAT = '%(p)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


@pytest.fixture
def served(tmp_path, cheap_hashing):
    database = tmp_path / "returns.sqlite3"
    db = connect(database)
    migrate(db)
    shop = make_shop(db, "Deployed Shop", "staff@deployed.se")
    order = make_order(db, shop["merchant"]["id"])
    db.conn.close()
    log = tmp_path / "gunicorn.log"
    with gunicorn(database, log, workers=WORKERS,
                  GUNICORN_CMD_ARGS=f"--access-logformat '{ACCESS_FORMAT}'") as url:
        yield url, log, shop, order


def worker_pids(log) -> set[str]:
    return set(re.findall(r"Booting worker with pid: (\d+)", log.read_text()))


def served_by(log, marker: str) -> dict[str, str]:
    """{pid: status} of the requests whose User-Agent carried `marker`."""
    return {pid: status for pid, status in re.findall(
        rf'^<(\d+)> .*"GET /merchant/returns HTTP/1.1" (\d+) \S+ "[^"]*" "probe-{marker}-\d+"$',
        log.read_text(), re.M)}


def on_every_worker(url: str, log, cookie: str, marker: str) -> set[str]:
    """GET the portal with `cookie` until every worker has answered; the statuses they gave."""
    pids = worker_pids(log)
    assert len(pids) == WORKERS
    for i in range(300):
        requests.get(f"{url}/merchant/returns", cookies={"session": cookie},
                     headers={"User-Agent": f"probe-{marker}-{i}"}, allow_redirects=False,
                     timeout=30)
        seen = served_by(log, marker)
        if pids <= seen.keys():
            return set(seen.values())
        time.sleep(0.01)  # let the log line land
    raise AssertionError(f"not every worker answered: {seen} of {pids}")


def test_a_copied_cookie_is_refused_by_every_worker_after_sign_out(served):
    url, log, shop, _order = served
    staff = Visitor(url, Tally())
    staff.get("/merchant/signin")
    staff.submit("/merchant/signin", {"email": "staff@deployed.se", "password": STAFF_PASSWORD})
    copied = staff.http.cookies["session"]
    assert on_every_worker(url, log, copied, "before") == {"200"}
    staff.get("/merchant/returns")
    staff.submit("/merchant/signout")
    assert on_every_worker(url, log, copied, "after") == {"302"}


def test_no_link_token_reaches_the_log(served):
    url, log, _shop, order = served
    tokens = {purpose: links.make_token(SECRET, purpose, order["id"])
              for purpose in (links.ORDER, links.PAY, links.PREFERENCES, links.PAYOUT_DETAILS)}
    paths = {links.ORDER: "/links/order/", links.PAY: "/links/pay/",
             links.PREFERENCES: "/preferences/", links.PAYOUT_DETAILS: "/refunds/"}
    statuses = []
    for purpose, token in tokens.items():
        # The referrer a page opened from a link sends with its next request holds it too.
        response = requests.get(url + paths[purpose] + token, allow_redirects=False, timeout=30,
                                headers={"Referer": f"{url}{paths[purpose]}{token}?x=1"})
        statuses.append(response.status_code)
    assert statuses[:3] == [303, 303, 200]  # served, not refused: the preferences page opened
    time.sleep(0.2)  # the access log is written after the answer
    text = log.read_text()
    assert "GET /links/order/[token] HTTP/1.1" in text
    assert f'"{url}/preferences/[token]?x=1"' in text
    for token in tokens.values():
        assert token not in text
        assert token.split(".")[-1] not in text  # not even its signature
