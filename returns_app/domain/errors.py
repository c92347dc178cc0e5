"""The domain's own exceptions. `http_errors` maps them to status codes, pages and the API shape."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    """Values that break a rule. `fields` maps each bad field to its own message."""

    code = "invalid"

    def __init__(self, message: str = "", fields: dict[str, str] | None = None, **details):
        self.fields = dict(fields or {})
        super().__init__(message or self.joined(self.fields), **details)

    @staticmethod
    def joined(fields: dict[str, str]) -> str:
        """The message of an error given only per-field messages."""
        return "; ".join(f"{k}: {v}" for k, v in fields.items())


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class RateLimited(DomainError):
    code = "rate_limited"


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedMediaType(DomainError):
    """A body of a media type the endpoint doesn't read."""

    code = "unsupported_media_type"


class Malformed(DomainError):
    """The request itself can't be read (not JSON, wrong top-level type, missing header)."""

    code = "malformed"
