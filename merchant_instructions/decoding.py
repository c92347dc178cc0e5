"""Turning uploaded bytes or text into clean text with predictable line numbers."""

from __future__ import annotations

import re

from .problems import DocumentTooLarge, InstructionsInvalid, Problem

MAX_DOCUMENT_BYTES = 256 * 1024

# Characters no text editor puts in a document on purpose. NEL, U+2028 and U+2029 are
# here as well because YAML counts them as line breaks while we count only "\n", so
# they would make the line numbers in our messages point at the wrong lines.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Past this many lines with control characters the upload is a binary file, and a
# problem per line would only bury the one message that matters.
_MAX_LINES_WITH_CONTROL_CHARACTERS = 10

_NOT_UTF8 = (
    "The document must be UTF-8 text, but this line has a byte (0x{byte:02x}) that is not "
    "UTF-8; save the file as UTF-8 and upload it again."
)


def decode(document: str | bytes, problems: list[Problem]) -> str:
    """Return the document as text, adding a problem if it is not valid UTF-8.

    Raises DocumentTooLarge before any other work, so a huge upload costs little.
    """
    if isinstance(document, str):
        # Each character is at least one byte, so this settles most large texts
        # without encoding them.
        if len(document) > MAX_DOCUMENT_BYTES:
            raise _too_large(len(document.encode("utf-8", "surrogatepass")))
        size = len(document.encode("utf-8", "surrogatepass"))
        if size > MAX_DOCUMENT_BYTES:
            raise _too_large(size)
        surrogate = _SURROGATE.search(document)
        if surrogate is None:
            return document
        # A lone surrogate has no UTF-8 form, so this text could never be stored.
        problems.append(
            Problem(
                _line_of(document, surrogate.start()),
                None,
                "The document must be UTF-8 text, but this line has a character that "
                "cannot be written as UTF-8; save the file as UTF-8 and upload it again.",
            )
        )
        return _SURROGATE.sub("\ufffd", document)
    if isinstance(document, bytes | bytearray | memoryview):
        raw = bytes(document)
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise _too_large(len(raw))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            problems.append(Problem(line, None, _NOT_UTF8.format(byte=raw[exc.start])))
            # Carry on with replacement characters so the merchant also hears about
            # every other problem in the same round.
            return raw.decode("utf-8", "replace")
    raise TypeError(f"a document is str or bytes, not {type(document).__name__}")


def normalize(text: str) -> str:
    """Strip a byte order mark and make every line end with a plain "\\n"."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def remove_control_characters(text: str, problems: list[Problem]) -> str:
    """Report control characters and return the text without them.

    Raises InstructionsInvalid (with the problems found so far) when the text is
    really a binary file: reading it any further would only produce noise.
    """
    nul = text.find("\x00")
    if nul != -1:
        problems.append(Problem(_line_of(text, nul), None, _binary_message()))
        raise InstructionsInvalid(problems)
    lines_seen: dict[int, str] = {}
    for match in _CONTROL_CHARACTER.finditer(text):
        lines_seen.setdefault(_line_of(text, match.start()), match.group())
        if len(lines_seen) > _MAX_LINES_WITH_CONTROL_CHARACTERS:
            problems.append(Problem(min(lines_seen), None, _binary_message()))
            raise InstructionsInvalid(problems)
    for line, character in lines_seen.items():
        problems.append(
            Problem(
                line,
                None,
                f"This line contains an invisible control character (U+{ord(character):04X}) "
                "that does not belong in text; delete it.",
            )
        )
    return _CONTROL_CHARACTER.sub("", text) if lines_seen else text


def _binary_message() -> str:
    return (
        "The document contains binary content (such as NUL bytes), so it is not a text "
        "file; upload the Markdown document itself, saved as UTF-8 text."
    )


def _too_large(size: int) -> DocumentTooLarge:
    return DocumentTooLarge(
        [
            Problem(
                1,
                None,
                f"The document is {size} bytes; the largest document accepted is "
                f"{MAX_DOCUMENT_BYTES} bytes (256 KiB).",
            )
        ]
    )


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1
