"""What goes wrong in a merchant's document, said so that the merchant can fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing to fix; ``line`` is 1-based and counts the front matter lines too."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class InstructionsInvalid(Exception):
    """The document cannot be published; ``problems`` lists everything found, by line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        # A stable sort keeps problems on the same line in the order they were found,
        # which follows the order of the keys as the merchant wrote them.
        self.problems: list[Problem] = sorted(problems, key=lambda problem: problem.line)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class DocumentTooLarge(InstructionsInvalid):
    """A subclass so that a web layer can answer 413 instead of 400."""
