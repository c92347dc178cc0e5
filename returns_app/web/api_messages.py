"""The API's own English messages, for `domain_messages.translate`: what a client of the JSON
API can be told that no customer page shows. Each is a template whose `%(name)s` parts stand
for the values the code put in; tests/api/test_api_language.py makes the API say them in Swedish."""

from __future__ import annotations

from .message_marks import N_

TEMPLATES = (
    # validation.py: one field's value, in its own terms
    N_("Must be a whole number of items, such as 1."),
    N_("Must be a whole number of minor units (öre), such as 24950 for 249,50 kr."),
    N_("Must be an id: a whole number such as 42."),
    N_("Must be from %(minimum)s to %(maximum)s items."),
    N_("Must be from %(minimum)s to %(maximum)s minor units (öre)."),
    N_("Must be an id from %(minimum)s to %(maximum)s."),
    N_("Must be text (a JSON string)."),
    N_("Must be at most %(max)s characters; this has %(count)s."),
    N_("Must be one of: %(choices)s."),
    N_("Choose why this item goes back, one of: %(choices)s."),
    N_("Must be a valid email address."),
    N_("Must be an ISO-8601 date and time, e.g. 2026-11-20T10:00:00Z."),
    N_("Must be an object."),
    N_("Must not contain control characters (such as NUL)."),
    N_("Some values are not valid."),
    N_("Must be a whole number from %(minimum)s to %(maximum)s."),
    N_("Must be a whole number from 0 up."),
    N_("Not a cursor this list gave out."),
    N_("Must be sv (Swedish, the default) or en."),
    N_("Must be true or false."),
    # request_body.py and http_errors.py: the request itself
    N_("The body must be a JSON object."),
    N_("The body has a string that is not valid Unicode text (a lone surrogate escape such as "
       "\\ud800)."),
    N_("The body nests deeper than %(max)s levels."),
    N_("Send the body as %(wanted)s, not as %(sent)s."),
    N_("The request could not be read."),
    N_("Not found, or not yours."),
    N_("This method is not allowed here; the Allow header names those that are."),
    N_("The body is too large."),
    N_("The body is not of the media type this operation reads."),
    N_("Something went wrong on our side; try again later."),
    N_("The service can't store anything at the moment. Try again shortly."),
    # credentials
    N_("Send your session token as 'Authorization: Bearer <token>'."),
    N_("That session token is not valid or has expired."),
    N_("Send the merchant API key as 'Authorization: Bearer <key>'."),
    N_("That API key is not valid or has been revoked."),
    N_("Only support staff may use this endpoint."),
    # services/idempotency.py
    N_("Send an Idempotency-Key header, unique for each new payment or registration, and the "
       "same when you retry one."),
    N_("The Idempotency-Key may be at most %(max)s characters."),
    N_("This Idempotency-Key was already used for a different request. Use a new key for a "
       "new request."),
    N_("Already used with another body."),
    N_("A request with this Idempotency-Key is still being processed. Retry in a moment to get "
       "its result."),
    # services/orders.py, returns.py, decisions.py, payments.py: the merchant's and the app's
    N_("Send the customer as an object with email and name."),
    N_("Send at least one line."),
    N_("At most %(max)s lines per order."),
    N_("An order with merchant_reference %(reference)s already exists."),
    N_("No such order."),
    N_("No such return."),
    N_("No such payment."),
    N_("No such customer."),
    N_("Register at least one item."),
    N_("Accept or reject at least one of this item."),
    N_("That item is not part of this return."),
    N_("This return is %(status)s; nothing more can be registered."),
    N_("These items were reported again in return %(id)s after this one expired: register "
       "them there."),
    N_("Only %(left)s of this item is still undecided."),
    N_("Only %(left)s of this item are still undecided."),
    N_("%(received)s of the %(quantity)s returned have already arrived: at most %(more)s more "
       "can arrive."),
    # services/webhook_endpoints.py and webhooks/urls.py
    N_("Must be a non-empty list of event types (strings)."),
    N_("Unknown event type %(type)s; known: %(known)s."),
    N_("A merchant can have at most %(max)s webhook endpoints; delete one first."),
    N_("No such webhook endpoint."),
    N_("Enter the URL that should receive the events."),
    N_("A webhook URL can be at most %(max)s characters."),
    N_("A URL has no spaces in it."),
    N_("The port in this URL is not a number from 1 to 65535."),
    N_("Enter a full URL, like https://shop.example.com/webhooks/returns."),
    N_("The URL must start with https:// so the events are sent encrypted."),
    N_("Leave the user name and password out of the URL: every request is signed with your "
       "signing secret instead."),
    N_("Leave out the part after #: it is never sent to your server."),
    N_("The URL must point to a public server on the internet."),
    # services/merchants.py: publishing instructions
    N_("The instructions document is larger than %(kb)s KB."),
    N_("The instructions document has problems."),
    # routes: the card provider
    N_("Card payments can't be reached right now. Nothing was charged; retry with the same "
       "Idempotency-Key."),
)
