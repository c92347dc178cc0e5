"""Merchant webhooks: return.reported, return.sent and refund.succeeded told to the merchant's
own URL, signed, through the outbox.

- `signing`: the signature scheme (what a receiver verifies)
- `urls`: which URLs a merchant may set, and which addresses the worker may call
- `subscriber`: an event becomes one outbox row, in the transaction that caused it
- `delivery`: the worker's handler for outbox rows of kind "webhook"
"""
