"""A domain error shown on the form that caused it: each field's message next to its field.

Services raise `Invalid` with a message per field, named as the API names them; a page's form
may name its fields otherwise (one field per order line, say). Every page shows such an error
through `show_on_form`, so each message is translated the same way (domain_messages.translate)
on the customer's, the merchant's and support's pages.
"""

from __future__ import annotations

from collections.abc import Callable

from wtforms import Field

from ..domain.errors import DomainError
from .domain_messages import translate


def show_on_form(form, exc: DomainError, *, field_of: Callable[[str], Field | None] | None = None,
                 fallback: Field | None = None) -> None:
    """Put the error's field messages, translated, on the form's fields.

    `field_of` names the form's field for a service's field name (by default the form's field of
    that name). A message whose field the form doesn't have, and the message of an error that
    names no field, go on `fallback`, or above the form when there is none.
    """
    fields = getattr(exc, "fields", None) or {}
    for name, message in fields.items():
        target = field_of(name) if field_of else form._fields.get(name)
        _add(form, target or fallback, message)
    if not fields:
        _add(form, fallback, exc.message)


def _add(form, field: Field | None, message: str) -> None:
    if field is None:
        form.form_errors.append(translate(message))
    else:
        field.errors = [*field.errors, translate(message)]
