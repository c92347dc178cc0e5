"""The payment provider: the one client of its HTTP API (client.py), the app's instance of it
(access.py), and the sandbox that stands in for it in development and tests (sandbox/)."""
