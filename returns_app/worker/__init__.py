"""The background worker (`python -m returns_app.worker`): its rounds (rounds.py) and what it
does with each kind of outbox row (deliveries.py)."""
