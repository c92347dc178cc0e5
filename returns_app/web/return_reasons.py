"""Why an item goes back, in the customer's words: the customer's form offers these reasons and
the merchant's return page names them (the code is what the API and the database hold)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASON_LABELS = {
    "changed_mind": _l("Changed my mind"),
    "too_small": _l("Too small"),
    "too_large": _l("Too large"),
    "not_as_described": _l("Not as described"),
    "damaged": _l("Arrived damaged or faulty"),
    "wrong_item": _l("Wrong item sent"),
    "arrived_late": _l("Arrived too late"),
    "other": _l("Other (tell us below)"),
}
