"""The domain's English messages, in the page's language.

Services raise errors in English (the API's words as well) and import no Flask, so they are not
rewritten for translation: a page shows a domain message through `translate`, which knows each
message a customer page can show, as a template whose `%(name)s` parts stand for the values the
service put in (an amount, a bank's name, a date). A message not listed here stays English;
tests/web/test_i18n_domain_messages.py produces each one from the real service code, so a template
that drifts from its service fails there.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import gettext

from . import api_messages, instruction_messages
from .message_marks import N_

TEMPLATES = (
    # services/customers.py
    N_("We couldn't find an order with that order number and email address. Check both against "
       "your order confirmation email."),
    N_("Too many attempts. Wait 15 minutes and try again."),
    N_("That email and password don't match."),
    # services/orders.py, returns.py, payments.py, refunds.py: objects not found or changed
    N_("We couldn't find that order."),
    N_("We couldn't find that return."),
    N_("We couldn't find that refund."),
    N_("We couldn't find that payment."),
    N_("The return changed meanwhile; reload and try again."),
    N_("The refund changed meanwhile."),
    N_("The payment changed meanwhile."),
    # states.py: a customer acting on a return that has moved on (another tab, the shop)
    N_("This can't be done while the return is sent."),
    N_("This can't be done while the return is received."),
    N_("This can't be done while the return is resolved."),
    N_("This can't be done while the return is cancelled."),
    N_("This can't be done while the return is expired."),
    N_("This refund already has somewhere to go."),
    N_("This refund already has somewhere to go and has been sent."),
    # services/approvals.py, destination_changes.py: a change support asked for
    N_("A request about this refund is waiting for a second support user's approval: nothing "
       "else can be done with its money until it is decided."),
    N_("Too late to stop it here: the payout has already left. Contact customer service."),
    N_("This change was decided on meanwhile: open the link again."),
    N_("Another payment for this order is being started. Retry in a moment."),
    # services/returns.py: reporting and sending a return
    N_("Choose at least one item to return."),
    N_("Some items can't be returned as asked."),
    N_("Tell us in a few words why it goes back."),
    N_("The %(days)s-day return window for this order closed on %(date)s, %(days2)s days after "
       "delivery."),
    N_("That item is not on this order."),
    N_("The same item is listed twice."),
    N_("%(merchant)s can't take this item back: %(reason)s."),
    N_("You have already reported this item for return."),
    N_("You can return at most %(count)s of this item."),
    N_("A tracking number has only letters, digits, spaces and dashes, at most %(max)s "
       "characters."),
    # validation.py, as the customer forms can reach it
    N_("This is required."),
    N_("Must be between %(minimum)s and %(maximum)s."),
    N_("Must be at most %(max)s characters."),
    # money.py and services/payments.py: paying
    N_("Enter an amount such as 249,50."),
    N_("Enter an amount of zero or more."),
    N_("Use at most two decimals (öre)."),
    N_("You can pay at most %(amount)s now."),
    N_("You can pay at most %(amount)s now: items you are returning are paused, not due."),
    N_("You can pay at most %(amount)s now: a payment of %(under_way)s is already under way."),
    N_("You can pay at most %(amount)s now: that is what you owe for the items you keep."),
    N_("There is nothing to pay on this order now."),
    N_("No bank account is linked with a confirmed direct-debit mandate. Pay by card instead."),
    # services/bank_accounts.py and due_date_debits.py: the linked account and its debits
    N_("Link a bank account first."),
    N_("Only a Swedish bank account can be linked."),
    N_("Only an invoice can be paid on its due date."),
    N_("Nothing is left to pay on this invoice."),
    N_("A payment can be cancelled until the day before it is taken."),
    N_("This payment is no longer scheduled."),
    N_("The bank account was changed"),
    N_("The bank account was removed"),
    N_("Cancelled by you"),
    N_("There is no direct-debit mandate for the linked bank account any more"),
    # services/checkouts.py: how a card payment that was started ended unpaid
    N_("Cancelled on the card page"),
    N_("The card payment expired: it was not paid within 30 minutes"),
    N_("Cancelled when you started another payment"),
    N_("Cancelled because what you owe changed while it was open"),
    N_("Only a card payment that is still open can be cancelled here."),
    N_("There wasn't enough money in the account on three banking days"),
    N_("The bank declined"),
    N_("The bank account is closed"),
    N_("The payment provider refused the debit"),
    N_("No bank account is linked any more"),
    # payout_details.py: where a refund goes
    N_("Choose one: a Swedish bank account, an IBAN or a Swish number."),
    N_("This is too long to be a payout detail."),
    N_("Swedish clearing numbers have 4 digits (5 for some Swedbank accounts, like 8327-9)."),
    N_("A clearing number has digits only, like 6789 or 8327-9."),
    N_("Swedbank clearing numbers that start with 8 have 5 digits, like 8327-9: add the digit "
       "after the dash."),
    N_("The last digit of this Swedbank clearing number doesn't match the first four. Check it "
       "against your bank's app."),
    N_("An account number has digits only."),
    N_("Enter the clearing number too: the 4 or 5 digits before the account number."),
    N_("Enter the account number too."),
    N_("There is no bank with clearing number %(clearing)s."),
    N_("Refunds can't be paid to clearing number %(clearing)s (%(holder)s). Use another bank "
       "account, an IBAN or Swish."),
    N_("%(bank)s personal accounts (clearing %(clearing)s) have 10 digits: your personal "
       "identity number without the century (YYMMDDNNNN)."),
    N_("%(bank)s account numbers have %(least)s to %(most)s digits."),
    N_("%(bank)s account numbers have %(count)s digits."),
    N_("The account number doesn't match %(bank)s's check digit. Check it against your bank's "
       "app."),
    N_("The account number doesn't match %(bank)s's check digit. Check it against your bank's "
       "app. If it is right, give your IBAN instead."),
    N_("IBANs start with a two-letter country code, like SE or DE."),
    N_("An IBAN has only letters and digits."),
    N_("This IBAN's check digits don't add up. Check it for a typo."),
    N_("%(code)s is not the country code of a country that uses IBANs, like SE or DE."),
    N_("IBANs from %(country)s have %(expected)s characters; this one has %(count)s. Check it "
       "for a missing or extra character."),
    N_("IBANs from %(country)s have %(expected)s characters. Check it for a typo."),
    N_("This doesn't look like an IBAN from %(country)s. Check it for a typo."),
    N_("Swish payouts go to a Swedish mobile number, like 070-123 45 67."),
    # services/refunds.py and payout_details.py: where a refund goes, as the customer sees it
    N_("%(bank)s %(clearing)s, account %(account)s"),
    N_("Card •••• %(last4)s"),
    N_("The card you paid with"),
    # services/decisions.py and payments.py: why a refund was created (support's refund page)
    N_("Return %(id)s: items accepted"),
    N_("Paid more than was owed"),
    # services/decisions.py, returns.py, bank_accounts.py: why the app itself changed something
    N_("returned items were rejected"),
    N_("not sent before the send-by date"),
    N_("The customer linked a bank account"),
    # services/merchants.py: the key every new merchant starts with
    N_("first key"),
    # merchant/access.py and support/access.py: a page for another kind of account
    N_("This page is for merchant staff. Sign out, then sign in with your merchant account."),
    N_("This page is for support staff. Sign out, then sign in with your support account."),
    # services/staff_credentials.py, staff_second_factor.py: staff passwords and codes
    N_("Use at least %(least)s characters."),
    N_("Use at most %(most)s characters."),
    N_("Don't use your email address as your password."),
    N_("Choose a password other than the one you have now."),
    N_("That is not your current password."),
    N_("That code isn't right. Enter the 6 digits your app shows now, or a recovery code."),
    N_("That code isn't right. Check that the app shows this account, and enter the 6 digits "
       "it shows now."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    compiled = []
    for template in (*TEMPLATES, *api_messages.TEMPLATES, *instruction_messages.TEMPLATES):
        parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ...
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                        for i, part in enumerate(parts))
        compiled.append((re.compile(regex, re.DOTALL), template))
    return tuple(compiled)


def translate(message: str | None) -> str:
    """The message in the current locale, or as it is when it isn't a known one."""
    if not message:
        return message or ""
    for pattern, template in _patterns():
        if match := pattern.fullmatch(str(message)):
            return gettext(template, **match.groupdict())
    return message
