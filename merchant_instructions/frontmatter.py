"""Splitting a document into YAML front matter and Markdown body, and reading the front
matter so that every key and list item still knows its line in the whole document."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Problem

DELIMITER = "---"
_UNCLOSED_CONTEXTS = ("while parsing a flow", "while scanning a quoted", "while scanning a double")


@dataclass(frozen=True)
class Split:
    front_matter: str
    first_line: int  # document line of the front matter's first line
    closing_line: int  # document line of the closing delimiter
    body: str
    body_line: int  # document line where the body starts


class FrontMatterError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class UnreadableValue(Exception):
    """A scalar YAML cannot turn into a value, e.g. an unknown ``!tag``."""


def split(text: str) -> Split:
    lines = text.split("\n")
    if lines[0].rstrip() != DELIMITER:
        raise FrontMatterError(
            Problem(
                1,
                None,
                "The document must start with front matter: a line with three dashes (---), "
                "the settings such as language and return_window_days, and another --- line "
                "before the instructions.",
            )
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == DELIMITER:
            return Split(
                front_matter="\n".join(lines[1:index]),
                first_line=2,
                closing_line=index + 1,
                body="\n".join(lines[index + 1 :]),
                body_line=index + 2,
            )
    raise FrontMatterError(
        Problem(
            1,
            None,
            "The front matter that starts on line 1 is never closed; add a line with three "
            "dashes (---) after the last setting.",
        )
    )


class Value:
    """A node of the front matter, read lazily.

    Only the parts the validation asks for are ever visited. That matters because YAML
    aliases can make a small document describe an enormous tree.
    """

    __slots__ = ("_node", "_offset")

    def __init__(self, node: Node, offset: int) -> None:
        self._node = node
        self._offset = offset

    @property
    def line(self) -> int:
        return self._node.start_mark.line + self._offset

    @property
    def is_scalar(self) -> bool:
        return isinstance(self._node, ScalarNode)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self._node, SequenceNode)

    @property
    def is_mapping(self) -> bool:
        return isinstance(self._node, MappingNode)

    @property
    def is_literal_block(self) -> bool:
        """True for ``key: |`` text, whose lines map one to one onto document lines."""
        return isinstance(self._node, ScalarNode) and self._node.style == "|"

    @property
    def text(self) -> str:
        """The scalar as written in the document, before YAML interprets it."""
        return self._node.value if isinstance(self._node, ScalarNode) else ""

    def scalar(self) -> object:
        if not isinstance(self._node, ScalarNode):
            raise UnreadableValue("not a single value")
        try:
            # A fresh constructor each time: a failed construction leaves state behind
            # that would poison the next one.
            return SafeConstructor().construct_object(self._node, deep=True)
        except Exception as exc:  # any failure at all means the value cannot be read
            raise UnreadableValue(str(exc)) from exc

    def items(self) -> list[Value]:
        if not isinstance(self._node, SequenceNode):
            return []
        return [Value(item, self._offset) for item in self._node.value]

    def entries(self) -> list[Entry]:
        if not isinstance(self._node, MappingNode):
            return []
        return [
            Entry(
                key=key.value if isinstance(key, ScalarNode) else None,
                line=key.start_mark.line + self._offset,
                value=Value(value, self._offset),
            )
            for key, value in self._node.value
        ]

    @property
    def size(self) -> int:
        """How many items or entries, without visiting them (a property, not __len__,
        so that a scalar Value is never falsy by accident)."""
        if isinstance(self._node, SequenceNode | MappingNode):
            return len(self._node.value)
        return 0


@dataclass(frozen=True)
class Entry:
    key: str | None  # None when the key is not plain text, e.g. a list used as a key
    line: int
    value: Value


def load(part: Split) -> Value | None:
    """Compose the front matter with the safe loader; None when it holds no settings."""
    offset = part.first_line
    last_line = max(part.first_line, part.closing_line - 1)
    try:
        node = yaml.compose(part.front_matter, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        # An unclosed bracket or quote is noticed lines later, where the merchant did
        # nothing wrong; the place to fix is where the unfinished thing began.
        unclosed = (exc.context or "").startswith(_UNCLOSED_CONTEXTS)
        at_end = mark is None or mark.index >= len(part.front_matter.rstrip())
        if (unclosed or at_end) and exc.context_mark is not None:
            mark = exc.context_mark
        line = offset + mark.line if mark is not None else offset
        raise FrontMatterError(
            Problem(min(line, last_line), None, _syntax_message(exc.problem or exc.context))
        ) from exc
    except yaml.reader.ReaderError as exc:
        line = offset + part.front_matter.count("\n", 0, exc.position)
        raise FrontMatterError(
            Problem(min(line, last_line), None, _syntax_message(exc.reason))
        ) from exc
    except yaml.YAMLError as exc:
        raise FrontMatterError(Problem(offset, None, _syntax_message(None))) from exc
    except RecursionError as exc:
        raise FrontMatterError(
            Problem(offset, None, "The front matter is nested too deeply to be read.")
        ) from exc
    if node is None:
        return None
    return Value(node, offset)


def _syntax_message(detail: str | None) -> str:
    found = f" (the YAML reader says: {detail})" if detail else ""
    return (
        f"The front matter is not valid YAML{found}; check the colons, quotes and "
        "indentation on this line and the one before it."
    )
