"""Sessions and logs as deployed: gunicorn with three workers on a file database (issue 16,
items 2 and 8). A copied cookie works on every worker while its session lives and is refused
by every worker once its owner signs out; emailed links' tokens reach no log line."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from returns_app.services import links
from tests.builders import make_order
from tests.deployed import gunicorn
from tests.merchant_fixtures import STAFF_PASSWORD, make_shop
from tests.system.forms import Tally, Visitor

WORKERS = 3
SECRET = "deployed-test-secret"  # noqa: S105 (tests/deployed.py's)


@pytest.fixture
def served(tmp_path, owned_database, cheap_hashing):
    db = owned_database.connect()
    shop = make_shop(db, "Deployed Shop", "staff@deployed.se")
    order = make_order(db, shop["merchant"]["id"])
    db.conn.close()
    log = tmp_path / "gunicorn.log"
    with gunicorn(owned_database, log, workers=WORKERS) as url:
        yield url, log, shop, order


def worker_pids(log) -> set[str]:
    return set(re.findall(r"Booting worker with pid: (\d+)", log.read_text()))


def served_by(log, start: int) -> dict[str, str]:
    """{pid: status} of the portal requests logged (the app's JSON request lines) after `start`
    bytes of the log."""
    seen = {}
    for line in log.read_text()[start:].splitlines():
        if line.startswith("{") and '"route": "/merchant/returns"' in line:
            entry = json.loads(line)
            seen[str(entry["pid"])] = str(entry["status"])
    return seen


def on_every_worker(url: str, log, cookie: str) -> set[str]:
    """GET the portal with `cookie` until every worker has answered; the statuses they gave."""
    pids = worker_pids(log)
    assert len(pids) == WORKERS
    start = len(log.read_text())
    seen: dict[str, str] = {}
    for _ in range(300):
        requests.get(f"{url}/merchant/returns", cookies={"session": cookie},
                     allow_redirects=False, timeout=30)
        seen = served_by(log, start)
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
    assert on_every_worker(url, log, copied) == {"200"}
    staff.get("/merchant/returns")
    staff.submit("/merchant/signout")
    assert on_every_worker(url, log, copied) == {"302"}


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
    assert '"route": "/links/order/<token>"' in text  # the app's line names the route only
    for token in tokens.values():
        assert token not in text
        assert token.split(".")[-1] not in text  # not even its signature
