"""Statements written for sqlite3 run on psycopg: ? and :name become its markers, everything
quoted keeps its text, and a literal % survives psycopg's reading of it."""

from __future__ import annotations

import pytest

from returns_app.store.postgres import translate


@pytest.mark.parametrize(("sqlite", "psycopg"), [
    ("SELECT * FROM orders WHERE id = ?", "SELECT * FROM orders WHERE id = %s"),
    ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES (%s, %s)"),
    ("SELECT :number AS n, :number AS m", "SELECT %(number)s AS n, %(number)s AS m"),
    ("SELECT x::text FROM t WHERE y = ?", "SELECT x::text FROM t WHERE y = %s"),
    ("SELECT 'is it?' , ?", "SELECT 'is it?' , %s"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
    ("SELECT '12:30' , :at", "SELECT '12:30' , %(at)s"),
    ("SELECT \"odd?name\" FROM t WHERE a = ?", "SELECT \"odd?name\" FROM t WHERE a = %s"),
    ("SELECT 1 -- why? because\n, ?", "SELECT 1 -- why? because\n, %s"),
    ("SELECT /* :not_a_param? */ ?", "SELECT /* :not_a_param? */ %s"),
    ("WHERE reason LIKE 'Return %' AND id = ?", "WHERE reason LIKE 'Return %%' AND id = %s"),
    ("SELECT 10 % 3, ?", "SELECT 10 %% 3, %s"),
    ("DO $body$ BEGIN RAISE NOTICE '% ?', 1; END $body$",
     "DO $body$ BEGIN RAISE NOTICE '%% ?', 1; END $body$"),
])
def test_translate(sqlite, psycopg):
    assert translate(sqlite) == psycopg


def test_a_statement_without_markers_is_unchanged():
    sql = "SELECT id, status FROM refund WHERE status = 'unknown' ORDER BY id"
    assert translate(sql) == sql
