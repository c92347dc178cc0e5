"""bench/machinery.py, which measures what each piece of speed machinery buys (README), still
finds every piece it takes away: run once, briefly, on a small generated database."""

from __future__ import annotations

import shutil

import pytest

from bench import generate, machinery


@pytest.mark.sqlite_only(reason="bench/machinery.py measures SQLite's speed machinery on a"
                                " SQLite file bench/generate.py writes")
def test_every_measure_runs_and_names_its_piece(tmp_path, capsys):
    path = tmp_path / "bench.sqlite3"
    generate.build(path, 800, log=lambda *_: None)
    before = tmp_path / "before.sqlite3"
    shutil.copy(path, before)
    assert machinery.main([str(path), "--repeat", "3", "--rounds", "1"]) == 0
    printed = capsys.readouterr().out
    for title in (*machinery.MEASURES, *machinery.APP_MEASURES):
        assert title in printed
    assert "its views" in printed and "no order_version" in printed
    assert machinery.main([str(path), "--against", str(before), "--repeat", "2",
                           "--rounds", "1"]) == 0
    assert "stuck queue page, after" in capsys.readouterr().out
