"""The baseline: a bare Flask app that answers a short string, served exactly like the real one.

Every figure of the benchmark is a ratio to this app's throughput on the same machine, under
the same gunicorn settings, in the same run: what is left is the cost of the product itself.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"
