"""The hosted card payment page: its one template, the test cards and the checks on what the
customer types. The card number stays here; the app only ever learns last4 and brand."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

from markupsafe import Markup

PAYS = "4242424242424242"
DECLINES = "4000000000000002"
DECLINED = "Your card was declined. Try another card."
_EXPIRY = re.compile(r"(\d{1,2})\s*/\s*(\d{2})")
_SUFFIX = {"SEK": "kr", "NOK": "kr", "DKK": "kr.", "EUR": "€"}
NBSP = "\u00a0"


def format_amount(minor: int, currency: str) -> str:
    """1234_50, "SEK" -> "1 234,50 kr" (Swedish style, no-break spaces)."""
    major, cents = divmod(minor, 100)
    grouped = f"{major:,}".replace(",", NBSP)
    return f"{grouped},{cents:02d}{NBSP}{_SUFFIX.get(currency, currency)}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_card(form: dict[str, str], now: datetime | None = None) -> tuple[dict[str, str], str]:
    """Field -> message for each problem, and the card number's digits."""
    now = now or datetime.now(UTC)
    errors: dict[str, str] = {}
    number = re.sub(r"[\s-]", "", form.get("card_number", ""))
    if not number:
        errors["card_number"] = "Enter the card number."
    elif not number.isdigit() or len(number) != 16:
        errors["card_number"] = "Enter the 16-digit card number."
    elif not luhn_ok(number):
        errors["card_number"] = "Check the card number: it is not a valid card number."
    elif number not in (PAYS, DECLINES):
        errors["card_number"] = "This sandbox takes only the test cards listed below."
    expiry = _EXPIRY.fullmatch(form.get("expiry", "").strip())
    if not expiry or not 1 <= int(expiry.group(1)) <= 12:
        errors["expiry"] = "Enter the expiry date as MM/YY, for example 08/29."
    elif (2000 + int(expiry.group(2)), int(expiry.group(1))) < (now.year, now.month):
        errors["expiry"] = "This card has expired. Check the expiry date."
    cvc = form.get("cvc", "").strip()
    if not (cvc.isdigit() and len(cvc) == 3):
        errors["cvc"] = "Enter the 3-digit security code from the back of the card."
    return errors, number


STYLE = """
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:100%;
line-height:1.5;color:#1a1a1a;background:#f3f4f6}
body{margin:0;padding:1rem}
main{max-width:28rem;margin:0 auto;background:#fff;border:1px solid #d1d5db;border-radius:.75rem;
padding:1.25rem}
.badge{display:inline-block;margin:0 0 .75rem;padding:.125rem .5rem;border-radius:999px;
background:#fef3c7;color:#713f12;font-size:.875rem;font-weight:600}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.0625rem;margin:0 0 .5rem}
dl{margin:0 0 1.25rem;padding:.75rem 1rem;background:#f9fafb;border:1px solid #e5e7eb;
border-radius:.5rem}
dl div{display:flex;justify-content:space-between;gap:1rem;padding:.25rem 0}
dt{color:#4b5563}
dd{margin:0;font-weight:600;text-align:right;overflow-wrap:anywhere}
.amount{font-size:1.25rem}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
.hint{display:block;color:#4b5563;font-size:.875rem;margin:0 0 .25rem}
input{display:block;width:100%;font:inherit;font-size:1.125rem;padding:.625rem .75rem;
border:2px solid #6b7280;border-radius:.375rem;background:#fff;color:#1a1a1a}
input.short{max-width:8rem}
.error{color:#b91c1c;font-weight:600;margin:0 0 .25rem}
.invalid input{border-color:#b91c1c}
button,.button{display:block;width:100%;font:inherit;font-weight:700;font-size:1.0625rem;
padding:.75rem 1rem;border-radius:.375rem;border:2px solid #1d4ed8;cursor:pointer;
text-align:center;text-decoration:none}
.pay{background:#1d4ed8;color:#fff;margin-top:.5rem}
.secondary{background:#fff;color:#1d4ed8;margin-top:.75rem}
:focus-visible{outline:3px solid #111827;outline-offset:2px}
input:focus-visible{outline:3px solid #111827;outline-offset:1px;border-color:#1d4ed8}
.summary-box{border:2px solid #b91c1c;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1rem}
.summary-box ul{margin:0;padding-left:1.25rem}
.summary-box a{color:#b91c1c;font-weight:600}
.test-cards{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #e5e7eb;font-size:.9375rem}
.test-cards ul{margin:0;padding-left:1.25rem}
code{font-size:1em;white-space:nowrap}
a{color:#1d4ed8}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

FIELDS = {"card_number": "Card number", "expiry": "Expiry date", "cvc": "Security code (CVC)"}
_SHORT = ("expiry", "cvc")

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% if errors %}Error: {% endif %}Sandbox card payment</title>
<style>{{ style }}</style>
</head>
<body>
<main>
<p class="badge">Sandbox: no real money moves</p>
<h1>Sandbox card payment</h1>
<dl>
<div><dt>Amount</dt><dd class="amount">{{ amount }}</dd></div>
<div><dt>Reference</dt><dd>{{ s.reference }}</dd></div>
</dl>
{% if s.status == "paid" %}
<p>This payment is already paid
{%- if s.payment %} with the card ending in {{ s.payment.card_last4 }}{% endif %}.</p>
<a class="button pay" href="{{ back_url }}">Back to the shop</a>
{% elif s.status == "cancelled" %}
<p>This payment was cancelled. Nothing was charged.</p>
<a class="button pay" href="{{ s.cancel_url }}">Back to the shop</a>
{% elif s.status == "expired" %}
<p>This payment has expired: it was not paid within 30 minutes. Nothing was charged.</p>
<a class="button pay" href="{{ s.cancel_url }}">Back to the shop</a>
{% else %}
{% if errors %}
<div class="summary-box" role="alert" aria-labelledby="problem-heading">
<h2 id="problem-heading">There is a problem</h2>
<ul>{% for name, message in errors.items() %}
<li><a href="#{{ name }}">{{ message }}</a></li>{% endfor %}
</ul>
</div>
{% endif %}
<form method="post" action="/checkout/{{ s.id }}" novalidate>
{% macro field(name, hint, autocomplete, maxlength, inputmode="numeric") %}
<div class="field{% if errors[name] %} invalid{% endif %}">
<label for="{{ name }}">{{ labels[name] }}</label>
{% if hint %}<span class="hint" id="{{ name }}-hint">{{ hint }}</span>{% endif %}
{% if errors[name] %}<p class="error" id="{{ name }}-error">{{ errors[name] }}</p>{% endif %}
<input id="{{ name }}" name="{{ name }}" type="text" inputmode="{{ inputmode }}"
 {%- if name in short %} class="short"{% endif %}
 autocomplete="{{ autocomplete }}" maxlength="{{ maxlength }}" required
 value="{{ form.get(name, '') }}" spellcheck="false"
{%- set described = ([name ~ "-hint"] if hint else [])
      + ([name ~ "-error"] if errors[name] else []) %}
{%- if described %} aria-describedby="{{ described|join(' ') }}"{% endif %}
{%- if errors[name] %} aria-invalid="true"{% endif %}>
</div>
{% endmacro %}
{{ field("card_number", "16 digits, as on the front of the card", "cc-number", 23) }}
{{ field("expiry", "MM/YY, for example 08/29", "cc-exp", 7, "text") }}
{{ field("cvc", "The last 3 digits on the back of the card", "cc-csc", 4) }}
<button type="submit" class="pay">Pay {{ amount }}</button>
</form>
<form method="post" action="/checkout/{{ s.id }}/cancel">
<button type="submit" class="secondary">Cancel</button>
</form>
<section class="test-cards" aria-labelledby="test-cards-heading">
<h2 id="test-cards-heading">Test cards</h2>
<ul>
<li><code>4242 4242 4242 4242</code> pays</li>
<li><code>4000 0000 0000 0002</code> is declined</li>
</ul>
<p>With any future expiry date and any three digits as the security code.</p>
</section>
{% endif %}
</main>
</body>
</html>
"""


def context(session: dict, back_url: str, form: dict | None = None,
            errors: dict | None = None) -> dict:
    return {
        "s": session,
        "amount": format_amount(session["amount"], session["currency"]),
        "back_url": back_url,
        "form": form or {},
        "errors": errors or {},
        "labels": FIELDS,
        "short": _SHORT,
        "style": Markup(STYLE),  # noqa: S704 (our own constant; its hash is in the CSP)
    }
