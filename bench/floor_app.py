"""The product's own stack answering a short string: the app factory (session cookie, sign-in,
CSRF, languages, security headers, the kept database connection) with one extra route that does
nothing else.

Served like the real app and loaded with a signed-in customer's cookie, it shows the ceiling
any signed-in page of this stack can reach on this machine, next to the bare Flask app's.
"""

from returns_app import create_app

app = create_app()


@app.get("/_floor")
def floor() -> str:
    return "ok"
