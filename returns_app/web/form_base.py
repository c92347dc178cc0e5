"""The base of every form: Flask-WTF's, with WTForms' own messages read once per language, and
the one check every text field gets: no control characters.

Flask-WTF reads WTForms' message catalog from disk for every request that builds a form (a
third of a millisecond, more than the page's queries); the catalog never changes while the
process runs.
"""

from __future__ import annotations

from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.i18n import messages_path

from ..domain.validation import has_control_characters


@lru_cache(maxsize=8)
def wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    # Fields whose text another layer checks with a better message (an instructions document
    # names the line of each control character).
    control_characters_checked_elsewhere: tuple[str, ...] = ()

    class Meta:
        def get_translations(self, form):
            return wtforms_catalog(str(get_locale()))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if (isinstance(field, StringField) and isinstance(field.data, str)
                    and field.short_name not in self.control_characters_checked_elsewhere
                    and has_control_characters(
                        field.data, multiline=isinstance(field, TextAreaField))):
                field.errors = [*field.errors, _l(
                    "Remove the invisible control characters (such as NUL) from this text.")]
                valid = False
        return valid
