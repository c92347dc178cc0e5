"""The page the "a new account was given for your refund" email links to: it shows the change
and lets whoever holds the link stop it before the payout leaves. The link opens nothing else:
no order is added to the browser's session."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..domain.errors import Conflict
from ..services import audit, destination_changes, links
from ..services.orders import get_order
from ..web.database_session import get_db
from ..web.domain_messages import translate
from .blueprint import bp
from .forms import ObjectionForm


@bp.route("/refunds/object/<token>", methods=["GET", "POST"])
def object_destination_change(token: str):
    db = get_db()
    try:
        change_id = links.read_token(current_app.secret_key, links.OBJECT_CHANGE, token)
    except links.LinkExpired:
        return render_template("customer/object_change.html", change=None, form=None), 410
    change = destination_changes.change_for_customer(db, change_id)
    order = get_order(db, change["refund"]["order_id"])
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            destination_changes.object_to_change(db, change_id,
                                                 audit.link_holder(order["customer_email"]))
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("Stopped. Nothing will be sent to %(destination)s, and our customer service "
                    "will contact you.",
                    destination=translate(change["payload"]["destination_masked"])), "success")
        return redirect(url_for(".object_destination_change", token=token), 303)
    return render_template("customer/object_change.html", change=change, order=order,
                           form=form), 422 if form.errors else 200
