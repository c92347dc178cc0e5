"""Who may open the merchant portal: signed-in merchant staff, each only their own merchant."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import abort, redirect, request
from flask_login import current_user


def merchant_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            target = request.full_path.rstrip("?")
            return redirect("/merchant/signin?" + urlencode({"next": target}))
        if current_user.kind != "merchant_user":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def current_merchant_id() -> int:
    return current_user.merchant_id
