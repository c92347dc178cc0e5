"""select(): which stored version of the instructions a customer sees."""

import sqlite3
from dataclasses import dataclass

import pytest

from merchant_instructions import select


@dataclass(frozen=True)
class Version:
    language: str
    version: int


VERSIONS = [
    Version("sv", 1),
    Version("en", 2),
    Version("sv", 3),
    Version("en", 1),
    Version("de", 9),
]


def test_highest_version_in_the_preferred_language() -> None:
    assert select(VERSIONS, "en") == Version("en", 2)
    assert select(VERSIONS, "sv") == Version("sv", 3)
    assert select(VERSIONS, "de") == Version("de", 9)


def test_order_of_the_input_does_not_matter() -> None:
    assert select(reversed(VERSIONS), "en") == Version("en", 2)
    assert select(iter(VERSIONS), "sv") == Version("sv", 3)


@pytest.mark.parametrize("preferred", [None, "", "fi", "xx"])
def test_falls_back_to_swedish_first(preferred: str | None) -> None:
    assert select(VERSIONS, preferred) == Version("sv", 3)


def test_falls_back_to_english_when_there_is_no_swedish() -> None:
    versions = [Version("en", 4), Version("en", 7), Version("de", 12)]
    assert select(versions, "fi") == Version("en", 7)


def test_falls_back_to_the_highest_version_in_any_language() -> None:
    versions = [Version("de", 2), Version("fi", 5), Version("de", 3)]
    assert select(versions, None) == Version("fi", 5)
    assert select(versions, "de") == Version("de", 3)


def test_region_and_case_in_the_preferred_language_are_ignored() -> None:
    assert select(VERSIONS, "en-GB") == Version("en", 2)
    assert select(VERSIONS, "EN_us") == Version("en", 2)
    assert select(VERSIONS, "sv-SE") == Version("sv", 3)


def test_empty_gives_none() -> None:
    assert select([], "sv") is None
    assert select(iter(()), None) is None


def test_dicts_are_accepted_and_returned_as_they_are() -> None:
    versions = [
        {"language": "sv", "version": 1, "id": "a"},
        {"language": "en", "version": 5, "id": "b"},
        {"language": "en", "version": 6, "id": "c"},
    ]
    chosen = select(versions, "en")
    assert chosen is versions[2]
    assert select(versions, "sv") is versions[0]


@pytest.mark.sqlite_only(reason="sqlite3.Row, the row type only SQLite's driver hands out")
def test_sqlite_rows_are_accepted() -> None:
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    connection.execute("create table v (language text, version integer, body text)")
    connection.executemany(
        "insert into v values (?, ?, ?)", [("sv", 1, "one"), ("sv", 2, "two"), ("en", 9, "nine")]
    )
    rows = connection.execute("select * from v").fetchall()
    assert select(rows, "sv")["body"] == "two"
    assert select(rows, "en")["body"] == "nine"
    connection.close()
