"""Where a `next` parameter may send someone: a path on this site, never another site (an open
redirect), and for the staff areas never outside their own area."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None, area: str = "/") -> str | None:
    """`target` if it is a path under `area` on this site, else None.

    Refused: absolute and scheme-relative URLs, backslashes (browsers read `/\\evil` as
    `//evil`) and any control or space character (browsers drop tabs and newlines, so
    `/\\t/evil` would become `//evil`, and a control character in a Location header is a 500).
    """
    # No "//" anywhere: harmless after a path's start, but no page of ours has one, and a
    # proxy or a framework that collapses slashes could turn it into a scheme-relative URL.
    if not target or not target.startswith(area) or "//" in target:
        return None
    if any(ch == "\\" or ord(ch) <= 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
