"""Demo data for `make run`: three merchants with their real instructions, two customers
(one who lives by email, one with the app and a bank account), and orders in useful states."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from .demo_support import STUCK_ORDERS, SUPPORT_USERS, load_support_demo
from .domain import clock
from .domain.passwords import hash_password
from .domain.payout_details import parse_payout_details
from .services import (
    bank_accounts,
    bank_payments,
    decisions,
    merchant_users,
    merchants,
    orders,
    returns,
)
from .services.bank_payments import DEFAULT_BANKGIRO
from .services.orders import Viewer
from .store import customers as customer_rows
from .store import merchants as merchant_rows
from .store.db import Database, write_transaction

SAMPLES = Path(__file__).resolve().parent.parent / "merchant_instructions" / "samples"
DEMO_PASSWORD = "returns-demo"  # noqa: S105  (printed on purpose: demo data only)
DEMO_MERCHANTS = (
    ("Nordic Outfitters", "nordic-outfitters.md"),
    ("Hemma Design", "hemma-design.md"),
    ("Techbolaget", "techbolaget.md"),
)
# A person's name for each shop's staff account: emails greet them by it.
DEMO_STAFF_NAMES = {"Nordic Outfitters": "Karin Lund", "Hemma Design": "Sara Holm",
                    "Techbolaget": "Jonas Berg"}
CUSTOMERS = {
    "anna": {"email": "anna.svensson@example.se", "name": "Anna Svensson", "uses_app": 0,
             "bank_account": None},
    # A Swedbank account with a valid check digit, as the app would have linked it.
    "erik": {"email": "erik.lind@example.se", "name": "Erik Lind", "uses_app": 1,
             "bank_account": {"clearing_number": "8327-9", "account_number": "1234567897"}},
}


def merchant_user_email(merchant_name: str) -> str:
    """nordic-outfitters@example.se: the portal sign-in of each demo merchant's staff."""
    return f"{merchants.slug_of(merchant_name)}@example.se"


def _order(db, merchant_id, who, reference, payment_method, delivered_days_ago, lines,
           number):
    now = clock.now()
    customer = CUSTOMERS[who]
    payload = {
        "merchant_reference": reference,
        "customer": {"email": customer["email"], "name": customer["name"]},
        "currency": "SEK",
        "payment_method": payment_method,
        "purchased_at": clock.iso(now - timedelta(days=(delivered_days_ago or 0) + 2)),
        "lines": [{"sku": s, "name": n, "quantity": q, "unit_price": p} for s, n, q, p in lines],
    }
    if delivered_days_ago is not None:
        payload["delivered_at"] = clock.iso(now - timedelta(days=delivered_days_ago))
    return orders.create_order(db, merchant_id, payload, order_number=number)


def load_demo(db: Database, bankgiro: str = DEFAULT_BANKGIRO) -> str | None:
    """Returns what to print (API keys are shown this once), or None when already loaded.
    `bankgiro`: the provider's (RETURNS_BANKGIRO), which the demo bank file is sent to."""
    if merchant_rows.merchant_count(db):
        return None
    out = []
    ids = {}
    staff_password_hash = hash_password(DEMO_PASSWORD)
    for name, sample in DEMO_MERCHANTS:
        merchant, key = merchants.create_merchant(db, name, actor="demo")
        merchants.publish_instructions(db, merchant["id"], (SAMPLES / sample).read_text(),
                                       published_by="demo")
        merchant_users.create_merchant_user(db, merchant["slug"], merchant_user_email(name),
                                            name=DEMO_STAFF_NAMES[name], actor="demo",
                                            password_hash=staff_password_hash,
                                            # The published demo password keeps working for
                                            # every newcomer (README): no forced change.
                                            must_change_password=False)
        ids[name] = merchant["id"]
        out.append(f"  {name:<18} API key: {key}")

    nordic, hemma, tech = (ids[name] for name, _ in DEMO_MERCHANTS)
    _order(db, nordic, "anna", "NO-10023", "invoice", 3, [
        ("JEANS-32-BLU", "Straight jeans, blue, W32", 1, 79900),
        ("TEE-M-WHT", "Organic T-shirt, white, M", 2, 19900),
        ("UW-BRIEF-M", "Cotton briefs, 3-pack", 1, 14900),
    ], "482-913-057")
    _order(db, tech, "anna", "TB-5531", "invoice", 20, [
        ("HP-WL-200", "Wireless headphones WL-200", 1, 129900),
    ], "733-204-118")
    lamp = _order(db, hemma, "anna", "HD-8812", "card", 5, [
        ("LAMP-OAK", "Oak table lamp", 1, 89500),
        ("CUSH-LIN-GRN", "Linen cushion cover, green", 2, 24900),
    ], "615-880-342")
    erik = _order(db, nordic, "erik", "NO-10031", "invoice", 2, [
        ("JKT-L-NVY", "Rain jacket, navy, L", 1, 149900),
        ("SOCK-WOOL-42", "Wool socks, size 42", 3, 8900),
    ], "290-117-664")
    _order(db, tech, "erik", "TB-5580", "card", None, [
        ("KB-MECH-SE", "Mechanical keyboard, Swedish layout", 1, 119900),
        ("GC-500", "Gift card 500 kr", 1, 50000),
    ], "904-552-731")

    _link_customers(db)
    returns.report_return(db, Viewer(order_ids=frozenset({lamp["id"]})), lamp["id"], {"items": [
        {"line_id": lamp["lines"][0]["id"], "quantity": 1, "reason": "not_as_described",
         "comment": "Skärmen är mycket mörkare än på bilderna."}]})
    returns.report_return(db, Viewer(order_ids=frozenset({erik["id"]})), erik["id"], {"items": [
        {"line_id": erik["lines"][0]["id"], "quantity": 1, "reason": "too_large"}]})
    _refund_waiting_for_details(db, nordic, bankgiro)
    load_support_demo(db, DEMO_PASSWORD)
    return "\n".join(["Demo merchants (API keys are shown only now):", *out])


def _link_customers(db: Database) -> None:
    with write_transaction(db):
        for data in CUSTOMERS.values():
            linked = parse_payout_details(data["bank_account"]) if data["bank_account"] else None
            customer_rows.set_password_and_bank_account(
                db, data["email"], hash_password(DEMO_PASSWORD), data["uses_app"],
                json.dumps(linked.as_provider_destination()) if linked else None,
                linked.masked if linked else None)
    # The app customer confirmed the direct-debit mandate when she linked her account.
    for data in CUSTOMERS.values():
        if data["bank_account"]:
            customer_id = customer_rows.customer_id_by_email(db, data["email"])
            bank_accounts.confirm_mandate(db, customer_id, "sv", "demo")


def _refund_waiting_for_details(db: Database, merchant_id: int, bankgiro: str) -> None:
    """Anna paid an invoice by hand and returned a sweater the shop accepted: her refund has
    started, but she has no card or bank account with us, so it waits for her to choose."""
    order = _order(db, merchant_id, "anna", "NO-9981", "invoice", 12, [
        ("SWTR-L-GRY", "Merino sweater, grey, L", 1, 99900),
        ("SCARF-RED", "Wool scarf, red", 1, 34900),
    ], "371-526-804")
    # Paid from her bank: the file the bank sends, booked like any other (and, in the same
    # file, a payment with a mistyped reference that support has to match by hand).
    today = clock.today()
    bank_file = bank_payments.sandbox_file(
        db, bankgiro, [(order["order_number"], 134800)], [("37152680", 25000)],
        booked_on=today - timedelta(days=5 if today.weekday() in (0, 1, 6) else 3))
    bank_payments.import_file(db, bank_file, "application/xml", bankgiro, "demo")
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    ret = returns.report_return(db, viewer, order["id"], {"items": [
        {"line_id": order["lines"][0]["id"], "quantity": 1, "reason": "too_large"}]})
    returns.mark_sent(db, viewer, ret["id"], "JJSE0012345678")
    decisions.register(db, merchant_id, ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="demo")


def sign_in_help(base_url: str) -> str:
    a, e = CUSTOMERS["anna"], CUSTOMERS["erik"]
    return "\n".join([
        f"Returns assistant: {base_url}/",
        "  Find an order without an account: order 482-913-057 with "
        f"{a['email']}",
        f"  A refund waiting for Anna to choose an account: order 371-526-804, {a['email']}",
        "  Anna pays order 482-913-057 from her bank: .venv/bin/flask --app returns_app"
        " sandbox-bank-file --pay 482-913-057 1346 --out bank.xml, then"
        " .venv/bin/flask --app returns_app import-bank-file bank.xml",
        f"  Or sign in at {base_url}/signin as {a['email']} or {e['email']}, "
        f"password {DEMO_PASSWORD}",
        f"  Merchant portal: {base_url}/merchant/signin as "
        f"{merchant_user_email(DEMO_MERCHANTS[0][0])} (or "
        f"{', '.join(merchant_user_email(n) for n, _ in DEMO_MERCHANTS[1:])}), "
        f"password {DEMO_PASSWORD}",
        f"  API document: {base_url}/api/v1/openapi.json",
        f"  Support console: {base_url}/support/ as {SUPPORT_USERS[0]} (or {SUPPORT_USERS[1]},"
        f" to approve a big manual payment), password {DEMO_PASSWORD}; stuck orders "
        f"{', '.join(STUCK_ORDERS)}",
        "  Support staff set up two-step sign-in at their first sign-in: have an authenticator"
        " app ready (or reset it: .venv/bin/flask --app returns_app reset-second-factor"
        " support support@example.se)",
    ])
