"""Which language a page is in, and the switch between them.

Swedish by default, English selectable: the customer's explicit choice (kept in the session, and
saved on the customer of every order the visitor has opened, signed in or not: emails and the
shop's instructions follow it), else the browser's
Accept-Language, else `BABEL_DEFAULT_LOCALE` (Swedish; the tests' app sets British English).
Signed-in merchant staff see their account's language (merchant_user.language), which the switch
changes for them. The JSON API answers in the best match of the caller's Accept-Language, and in
English when it names neither language: clients written before the API spoke Swedish still get
the English they were written against.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from babel import Locale
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, get_translations, refresh
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from ..domain.day_text import FORMAT_LOCALES
from ..services import customers, merchant_users
from . import auth
from .database_session import get_db
from .safe_redirect import local_path

# Each language in its own name: someone who can't read the page can still find theirs.
LANGUAGES = {"sv": "Svenska", "en": "English"}
SESSION_KEY = "language"
API_DEFAULT_LANGUAGE = "en"

bp = Blueprint("i18n", __name__)


def select_locale() -> Locale | None:
    """Flask-Babel's locale selector. None falls back to BABEL_DEFAULT_LOCALE.

    A Locale, not its name: Flask-Babel parses a name afresh on every request."""
    if not has_request_context():
        return None  # outside a request (worker, CLI): the default, or force_locale(...)
    if is_api_request():
        return _locale(FORMAT_LOCALES[api_language()])
    chosen = staff_language() or session.get(SESSION_KEY)
    language = chosen if chosen in LANGUAGES else request.accept_languages.best_match(LANGUAGES)
    return _locale(FORMAT_LOCALES[language] if language
                   else current_app.config["BABEL_DEFAULT_LOCALE"])


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_language() -> str:
    """The API's language for this request: Accept-Language's best match, else English."""
    return request.accept_languages.best_match(LANGUAGES) or API_DEFAULT_LANGUAGE


def staff_language() -> str | None:
    """A signed-in merchant user's own setting; None for everyone else."""
    if current_user.is_authenticated and current_user.kind == "merchant_user":
        return current_user.language
    return None


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def current_language() -> str:
    """'sv' or 'en': for <html lang> and to mark the chosen option in the switch."""
    locale = get_locale()
    return locale.language if locale and locale.language in LANGUAGES else "sv"


def safe_next(target: str | None) -> str:
    """A path on this site to go back to, never another site (no open redirect)."""
    return local_path(target) or url_for("customer.find_order")


def back_here() -> str:
    """Where the switch returns to: this page, or for a form just posted (whose URL may not
    answer a GET) the page the form was on."""
    if request.method == "GET":
        return request.full_path.removesuffix("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("customer.find_order")


@bp.post("/language")
def switch_language():
    # CSRFProtect has already checked the token: no other site can switch someone's language.
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session[SESSION_KEY] = language
        viewer = auth.customer_viewer()
        if viewer.customer_id:
            customers.set_language(get_db(), viewer.customer_id, language)
        customers.set_language_of_orders(get_db(), viewer.order_ids, language)
        if staff_language():
            merchant_users.set_language(get_db(), current_user.id, language,
                                        f"merchant_user:{current_user.id}")
    return redirect(safe_next(request.form.get("next")), 303)


def _template_globals() -> dict:
    return {"languages": LANGUAGES, "current_language": current_language,
            "language_back_here": back_here, CATALOG: _page_translations()}


# The catalog a render started with, in its template context: a page has dozens of strings and
# finding the catalog through Flask-Babel costs more than translating one. Macros imported
# without the context find it the long way.
CATALOG = "_page_catalog"


def _page_translations():
    """The catalog of the current locale, looked up once per locale and app context. Keyed by
    the locale, so `force_locale` and `refresh` still switch it."""
    locale = get_locale()
    cached = g.get("_page_translations")
    if cached is None or cached[0] is not locale:
        cached = g._page_translations = (locale, get_translations())
    return cached[1]


def _catalog(context):
    return context.get(CATALOG) or _page_translations()


# Jinja's newstyle gettext, without its layers: Jinja routes `_()` through an alias, two
# context calls and a Markup `%` per string, a third of a list page's time. The same semantics
# (always a format string, escaped under autoescape, `num` and `context` filled in), and a
# string without variables formatted once per catalog.
_PLAIN: WeakKeyDictionary = WeakKeyDictionary()


def _format(text: str, autoescape: bool, variables: dict) -> str:
    # The text is our own catalog's (as with Jinja's own gettext); the variables get escaped.
    return (Markup(text) if autoescape else text) % variables  # noqa: S704


@pass_context
def _gettext(context, string, **variables):
    catalog = _catalog(context)
    autoescape = context.eval_ctx.autoescape
    if variables:
        return _format(catalog.ugettext(string), autoescape, variables)
    known = _PLAIN.get(catalog)
    if known is None:
        known = _PLAIN[catalog] = {}
    found = known.get((string, autoescape))
    if found is None:
        found = known[string, autoescape] = _format(catalog.ugettext(string), autoescape, {})
    return found


@pass_context
def _ngettext(context, singular, plural, num, **variables):
    variables.setdefault("num", num)
    return _format(_catalog(context).ungettext(singular, plural, num),
                   context.eval_ctx.autoescape, variables)


@pass_context
def _pgettext(context, string_context, string, **variables):
    variables.setdefault("context", string_context)
    return _format(_catalog(context).upgettext(string_context, string),
                   context.eval_ctx.autoescape, variables)


@pass_context
def _npgettext(context, string_context, singular, plural, num, **variables):
    variables.setdefault("context", string_context)
    variables.setdefault("num", num)
    return _format(_catalog(context).unpgettext(string_context, singular, plural, num),
                   context.eval_ctx.autoescape, variables)


def init_app(app: Flask) -> None:
    app.jinja_env.newstyle_gettext = True  # how {% trans %} calls them
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext,
                                 pgettext=_pgettext, npgettext=_npgettext)
    app.register_blueprint(bp)
    app.context_processor(_template_globals)
    # Flask-Babel caches the locale on `g`, which lives as long as the app context: a test
    # client's requests can share one, so each request chooses afresh.
    app.before_request(refresh)
    app.after_request(_api_language_headers)


def _api_language_headers(response):
    """The API's answers say which language they are in and that it follows Accept-Language,
    so a shared cache keeps a Swedish and an English answer apart."""
    if has_request_context() and is_api_request():
        response.headers["Content-Language"] = api_language()
        response.vary.add("Accept-Language")
    return response
