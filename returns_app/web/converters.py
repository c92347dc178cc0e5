"""URL converters shared by every blueprint."""

from werkzeug.routing import IntegerConverter

SQLITE_MAX_INTEGER = 2**63 - 1


class IdConverter(IntegerConverter):
    """A database id: a positive integer SQLite can hold, written one way only. A longer number
    is a plain 404, never an OverflowError (500) in the query; so are `088` and `٨٨` (Werkzeug's
    \\d takes any script's digits and int() reads both as 88), so each object has one URL."""

    regex = "[1-9][0-9]*"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INTEGER)
