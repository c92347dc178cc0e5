"""A password sign-in form submitted on any of the three doors (customer, merchant, support):
the account it opens, or the refusal on the form with the status the door answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..domain.errors import RateLimited, Unauthorized
from .form_errors import show_on_form

T = TypeVar("T")


def attempt_sign_in(form, sign_in: Callable[[], T]) -> tuple[T | None, int, dict]:
    """(the account, 200, {}) when the password is right; otherwise (None, status, headers):
    200 for a form not yet sent, 422 for a wrong or incomplete one, 429 with Retry-After when
    the door's limit is reached. The refusal is shown above the form, in the reader's
    language."""
    if not form.validate_on_submit():
        return None, 422 if form.errors else 200, {}
    try:
        return sign_in(), 200, {}
    except Unauthorized as exc:
        show_on_form(form, exc)
        return None, 422, {}
    except RateLimited as exc:
        return None, *rate_limited(form, exc)


def rate_limited(form, exc: RateLimited) -> tuple[int, dict]:
    """A door's limit reached: the refusal above the form, and the 429 with Retry-After that
    every staff and customer form answers it with."""
    show_on_form(form, exc)
    return 429, {"Retry-After": str(exc.details["retry_after"])}
