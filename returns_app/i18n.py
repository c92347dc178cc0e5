"""Which language a page is in, and the switch between them.

Swedish by default, English selectable: the customer's explicit choice (kept in the session, and
for a signed-in customer saved on the customer, which emails use), else the browser's
Accept-Language, else `BABEL_DEFAULT_LOCALE` (Swedish; the tests' app sets British English).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, has_request_context, redirect, request, session, url_for
from flask_babel import get_locale, get_translations, refresh
from jinja2 import pass_context

from . import auth
from .database_session import get_db
from .services import customers

# Each language in its own name: someone who can't read the page can still find theirs.
LANGUAGES = {"sv": "Svenska", "en": "English"}
# English dates as in Britain and Sweden (23 November 2026), not the US default of "en".
FORMAT_LOCALES = {"sv": "sv_SE", "en": "en_GB"}
SESSION_KEY = "language"

bp = Blueprint("i18n", __name__)


def select_locale() -> str | None:
    """Flask-Babel's locale selector. None falls back to BABEL_DEFAULT_LOCALE."""
    if not has_request_context():
        return None  # outside a request (worker, CLI): the default, or force_locale(...)
    chosen = session.get(SESSION_KEY)
    language = chosen if chosen in LANGUAGES else request.accept_languages.best_match(LANGUAGES)
    return FORMAT_LOCALES[language] if language else None


def current_language() -> str:
    """'sv' or 'en': for <html lang> and to mark the chosen option in the switch."""
    locale = get_locale()
    return locale.language if locale and locale.language in LANGUAGES else "sv"


def safe_next(target: str | None) -> str:
    """A path on this site to go back to, never another site (no open redirect).

    Refused: absolute and scheme-relative URLs, backslashes (browsers read `/\\evil` as
    `//evil`) and any control or space character (browsers drop tabs and newlines, so
    `/\\t/evil` would become `//evil`).
    """
    fallback = url_for("customer.find_order")
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(ch == "\\" or ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


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
        if customer_id := auth.signed_in_customer_id():
            customers.set_language(get_db(), customer_id, language)
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


@pass_context
def _gettext(context, string):
    return _catalog(context).ugettext(string)


@pass_context
def _ngettext(context, singular, plural, n):
    return _catalog(context).ungettext(singular, plural, n)


@pass_context
def _pgettext(context, ctx, string):
    return _catalog(context).upgettext(ctx, string)


@pass_context
def _npgettext(context, ctx, singular, plural, n):
    return _catalog(context).unpgettext(ctx, singular, plural, n)


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext,
        newstyle=True)
    app.register_blueprint(bp)
    app.context_processor(_template_globals)
    # Flask-Babel caches the locale on `g`, which lives as long as the app context: a test
    # client's requests can share one, so each request chooses afresh.
    app.before_request(refresh)
