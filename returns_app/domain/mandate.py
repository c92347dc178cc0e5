"""The direct-debit mandate a customer confirms before any debit from their account.

A mandate is a legal text, so its wording is versioned here in each language as a whole (not
assembled from translated fragments) and stored exactly as the customer saw it, with the time
they confirmed it. A new wording gets a new VERSION; mandates already given keep theirs.
"""

from __future__ import annotations

VERSION = "2026-12-03"
LANGUAGES = ("sv", "en")

_WORDING = {
    "sv": (
        "Jag, {name}, ger Returhjälpen tillåtelse att dra betalningar för mina fakturor "
        "från mitt bankkonto {account}. En dragning görs bara för en faktura som jag själv har "
        "valt att betala på förfallodagen, eller för alla mina fakturor om jag har valt det, och "
        "aldrig med mer än det som är att betala den dagen. Jag kan avbryta en planerad dragning "
        "fram till dagen före och återkalla detta medgivande när jag vill genom att ta bort "
        "kontot. Saknas pengar på kontot försöker vi igen de två följande bankdagarna och "
        "meddelar mig varje gång."
    ),
    "en": (
        "I, {name}, authorise Returns assistant to take payments for my invoices from my bank "
        "account {account}. A payment is taken only for an invoice I have chosen to pay on its "
        "due date, or for all my invoices if I have chosen that, and never for more than is "
        "owed on that day. I can cancel a scheduled payment until the day before, and withdraw "
        "this authorisation at any time by removing the account. If the account lacks funds, "
        "you try again on the next two banking days and tell me each time."
    ),
}


def wording(language: str, name: str, account_masked: str) -> str:
    """The exact text shown to, and confirmed by, the customer."""
    return _WORDING[language if language in LANGUAGES else "sv"].format(
        name=name, account=account_masked)
