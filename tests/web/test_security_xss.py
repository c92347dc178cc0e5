"""No merchant instructions, however hostile, put active content in front of a customer.

Every payload of tests/xss_payloads.py is published as a merchant's instructions (in the
Markdown body, and in the front matter's return address and non-returnable rules), then the
customer reports a return through the API and opens the pages that show the instructions.
Each place is parsed the way a browser parses it (html5lib implements the WHATWG algorithm),
and inside the instructions nothing may be a script, frame, form, svg, math, object, embed,
style, meta, base or link element, carry an on* or style attribute, or point anywhere but an
https: or mailto: URL.
"""

from __future__ import annotations

import json
import re

import html5lib
import pytest

from returns_app.domain.errors import Invalid, TooLarge
from returns_app.services import merchants
from tests.api.test_api_customer import token_for
from tests.api_helpers import bearer
from tests.builders import checkout_payload
from tests.xss_payloads import PAYLOADS

UNSAFE_ELEMENTS = {
    "script", "iframe", "frame", "frameset", "form", "svg", "math", "object", "embed", "style",
    "meta", "base", "link", "input", "button", "textarea", "select", "isindex", "template",
    "noscript", "img", "video", "audio", "source", "applet",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                  "background", "srcset", "srcdoc", "ping", "cite", "longdesc"}
SAFE_SCHEMES = {"https", "mailto"}
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# What browsers drop from a URL before reading its scheme.
URL_NOISE = re.compile(r"[\x00-\x20\x7f]")

BODY = """---
language: en
return_window_days: 30
days_to_send: 14
send_methods: [post]
return_address: |
  Test Shop AB
  Box 1
non_returnable:
  - what: Gift cards
    skus: ["GC-*"]
---
# How to return

{payload}

Post it to the address above.
"""
FRONT_MATTER = """---
language: en
return_window_days: 30
days_to_send: 14
send_methods: [post]
return_address: |
  Test Shop AB
{address}
non_returnable:
  - what: {what}
    skus: ["GC-*"]
---
# How to return

Post it to the address above.
"""


def in_body(payload: str) -> str:
    return BODY.format(payload=payload)


def in_front_matter(payload: str) -> str:
    address = "\n".join(f"  {line}" for line in payload.splitlines())
    return FRONT_MATTER.format(address=address, what=json.dumps(payload))


# --- the judge ----------------------------------------------------------------------------------

def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def attribute_name(name: str) -> str:
    if name.startswith("{http://www.w3.org/1999/xlink}"):
        return "xlink:" + local_name(name)
    return local_name(name)


def unsafe_parts(root) -> list[str]:
    """Everything unsafe in the tree under `root`, described; [] when it is all harmless."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # a comment
        tag = local_name(element.tag)
        if tag in UNSAFE_ELEMENTS or element.tag.startswith("{http://www.w3.org/2000/svg}") \
                or element.tag.startswith("{http://www.w3.org/1998/Math/MathML}"):
            found.append(f"<{tag}> element")
        for raw_name, value in element.attrib.items():
            name = attribute_name(raw_name)
            if name.startswith("on") or name == "style":
                found.append(f"{name}= on <{tag}>")
            elif name in URL_ATTRIBUTES:
                scheme = SCHEME.match(URL_NOISE.sub("", value))
                if not scheme or scheme[1].lower() not in SAFE_SCHEMES:
                    found.append(f"{name}={value!r} on <{tag}>")
    return found


RUNNABLE = {"script", "iframe", "frame", "object", "embed", "applet", "base", "svg", "math"}


def runnable_anywhere(page) -> list[str]:
    """Elements and handlers that run or redirect, anywhere on a whole page (its own forms
    and stylesheet link are fine there)."""
    found = []
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        tag = local_name(element.tag)
        if tag in RUNNABLE:
            found.append(f"<{tag}> element")
        found += [f"{name}= on <{tag}>" for name in map(attribute_name, element.attrib)
                  if name.startswith("on")]
    return found


def parse_page(html: str):
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def parse_fragment(html: str):
    return html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)


def region(page, tag: str, **attributes) -> object:
    """The one element of `page` that holds the instructions; fails loudly if the page has
    been changed so that it can't be found (the check would else pass on nothing)."""
    matches = [e for e in page.iter(tag)
               if all(name in (e.get(key) or "").split() for key, name in attributes.items())]
    assert len(matches) == 1, f"expected one <{tag} {attributes}> holding the instructions"
    return matches[0]


def test_the_judge_sees_what_a_browser_would_run():
    dangerous = parse_fragment(
        '<p><a href=" jav&#x09;ascript:alert(1)">x</a><svg><a xlink:href="data:,x">y</a></svg>'
        '<b onclick="x">z</b><a href="/ours">o</a><a href="https://fine.example">f</a></p>')
    assert unsafe_parts(dangerous) == [
        "href=' jav\\tascript:alert(1)' on <a>", "<svg> element", "<a> element",
        "xlink:href='data:,x' on <a>", "onclick= on <b>", "href='/ours' on <a>"]
    assert unsafe_parts(parse_fragment(
        '<h2>Return</h2><a href="mailto:a@b.se" rel="nofollow">mail</a>')) == []


# --- the pages ----------------------------------------------------------------------------------

@pytest.fixture
def shop(db):
    merchant, key = merchants.create_merchant(db, "Test Shop", actor="test")
    return merchant


def publish(db, shop, document: str) -> bool:
    try:
        merchants.publish_instructions(db, shop["id"], document, published_by="test")
    except (Invalid, TooLarge):
        return False
    return True


def every_place_shown(client, db, shop) -> dict[str, object]:
    """Order, API return and pages: each place the instructions reach a customer, parsed."""
    from returns_app.services import orders

    order = orders.create_order(db, shop["id"], checkout_payload())
    with client.session_transaction() as session:
        session["order_ids"] = [order["id"]]
    report_page = client.get(f"/orders/{order['id']}/returns/new")
    assert report_page.status_code == 200
    created = client.post(f"/api/v1/orders/{order['id']}/returns", headers=bearer(
        token_for(client, order)), json={"items": [{"line_id": order["lines"][0]["id"],
                                                    "quantity": 1, "reason": "too_small"}]})
    assert created.status_code == 201, created.get_data(as_text=True)
    ret = created.get_json()
    return_page = client.get(f"/returns/{ret['id']}")
    assert return_page.status_code == 200
    return {
        "report-return page": region(parse_page(report_page.get_data(as_text=True)), "section",
                                     **{"aria-labelledby": "kept-heading"}),
        "return page": region(parse_page(return_page.get_data(as_text=True)), "section",
                              **{"class": "instructions"}),
        "API instructions.html": parse_fragment(ret["instructions"]["html"]),
        "report-return page, anywhere": parse_page(report_page.get_data(as_text=True)),
        "return page, anywhere": parse_page(return_page.get_data(as_text=True)),
    }


@pytest.mark.parametrize("placement", [in_body, in_front_matter], ids=["body", "front_matter"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_yields_active_content(client, db, shop, payload, placement):
    if not publish(db, shop, placement(payload)):
        # Refused by validation: then the customer sees nothing of it at all.
        assert merchants.current_instructions(db, shop["id"], "en") is None
        pytest.skip("refused by validation")
    for place, root in every_place_shown(client, db, shop).items():
        if place.endswith("anywhere"):
            # The page's own stylesheet link and forms are fine; nothing may run, anywhere.
            assert runnable_anywhere(root) == [], f"{place}: {payload!r}"
        else:
            assert unsafe_parts(root) == [], f"{place}: {payload!r}"


def test_the_corpus_is_large_and_mostly_published(db, shop):
    """The check above means something only if payloads get through to the pages."""
    assert len(set(PAYLOADS)) == len(PAYLOADS) >= 50
    published = sum(publish(db, shop, in_body(p)) for p in PAYLOADS)
    assert published >= 0.9 * len(PAYLOADS)
    published = sum(publish(db, shop, in_front_matter(p)) for p in PAYLOADS)
    assert published >= 0.5 * len(PAYLOADS)


def test_the_instructions_still_show_their_safe_parts(client, db, shop):
    """A sanitizer that dropped everything would pass the checks: the safe link survives."""
    assert publish(db, shop, in_body(
        '[Track it](https://track.example/1) or <a href="javascript:alert(1)">this</a>'))
    places = every_place_shown(client, db, shop)
    for place in ("return page", "API instructions.html"):
        links = [a.get("href") for a in places[place].iter("a")]
        assert "https://track.example/1" in links, place
