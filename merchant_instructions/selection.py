"""Choosing which stored version of a merchant's instructions to show a customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

# When the customer's language is missing, Swedish comes first: the provider is Swedish.
FALLBACK_LANGUAGES = ("sv", "en")

V = TypeVar("V")


def select(versions: Iterable[V], preferred_language: str | None) -> V | None:
    """The highest version in the preferred language, else in sv, else en, else any.

    ``versions`` may hold mappings (including sqlite3.Row) or objects with ``language``
    and ``version``. "sv-SE" and "en_GB" count as "sv" and "en".
    """
    by_language: dict[str, list[V]] = {}
    for candidate in versions:
        language = _primary_language(_get(candidate, "language"))
        by_language.setdefault(language, []).append(candidate)
    if not by_language:
        return None
    preferred = _primary_language(preferred_language)
    for language in ([preferred] if preferred else []) + list(FALLBACK_LANGUAGES):
        if language in by_language:
            return _newest(by_language[language])
    return _newest([candidate for group in by_language.values() for candidate in group])


def _newest(candidates: list[V]) -> V:
    return max(candidates, key=lambda candidate: int(_get(candidate, "version")))


def _get(candidate: Any, name: str) -> Any:
    if isinstance(candidate, Mapping) or hasattr(candidate, "keys"):
        return candidate[name]
    return getattr(candidate, name)


def _primary_language(language: object) -> str:
    if not isinstance(language, str):
        return ""
    return language.replace("_", "-").split("-")[0].strip().lower()
