"""Who is signed in (Flask-Login, one principal per session) and what a customer may see."""

from __future__ import annotations

from dataclasses import dataclass

from flask import session
from flask_login import current_user

from .database_session import get_db
from .extensions import login_manager
from .services import customers
from .services.orders import Viewer

ORDER_ACCESS_KEY = "order_ids"
MAX_REMEMBERED_ORDERS = 20


@dataclass
class Principal:
    kind: str
    id: int
    email: str
    name: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    merchant_id: int | None = None  # set for merchant users: the only merchant they may see

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}"


def _customer(user_id: int) -> Principal | None:
    row = customers.get_customer(get_db(), user_id)
    return Principal("customer", row["id"], row["email"], row["name"]) if row else None


def _merchant_user(user_id: int) -> Principal | None:
    # A disabled account's sessions end at their next request: it is not found.
    row = get_db().execute("SELECT id, email, name, merchant_id FROM merchant_user"
                           " WHERE id = ? AND disabled_at IS NULL", [user_id]).fetchone()
    return Principal("merchant_user", row[0], row[1], row[2], merchant_id=row[3]) if row else None


def _support_user(user_id: int) -> Principal | None:
    row = get_db().execute("SELECT id, email FROM support_user"
                           " WHERE id = ? AND disabled_at IS NULL", [user_id]).fetchone()
    return Principal("support_user", row[0], row[1], row[1]) if row else None


LOADERS = {"customer": _customer, "merchant_user": _merchant_user, "support_user": _support_user}


@login_manager.user_loader
def _load(user_id: str) -> Principal | None:
    kind, _, raw_id = user_id.partition(":")
    if kind in LOADERS and raw_id.isdigit():
        return LOADERS[kind](int(raw_id))
    return None


def signed_in_customer_id() -> int | None:
    if current_user.is_authenticated and current_user.kind == "customer":
        return current_user.id
    return None


def customer_viewer() -> Viewer:
    return Viewer(
        customer_id=signed_in_customer_id(),
        order_ids=frozenset(session.get(ORDER_ACCESS_KEY, [])),
    )


def remember_order(order_id: int) -> None:
    """An order found by number + email stays open in this browser session."""
    known = [i for i in session.get(ORDER_ACCESS_KEY, []) if i != order_id]
    session[ORDER_ACCESS_KEY] = [order_id, *known][:MAX_REMEMBERED_ORDERS]
