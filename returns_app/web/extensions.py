"""Flask extensions, created unbound here and bound to the app in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# Flask-Login's own session protection compares a hash of the client's address and browser with
# sign-in's: "basic" only marks the session not fresh, which nothing here reads, but rewrites the
# cookie on every request of a phone that changed networks; "strong" would sign that phone out.
# The server-side session row (services/web_sessions.py) is what ends a session.
login_manager.session_protection = None
babel = Babel()
