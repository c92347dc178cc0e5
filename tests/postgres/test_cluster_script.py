"""scripts/postgres_cluster.py: the commands it builds, and (where PostgreSQL is installed) that
a cluster is stopped and its folder removed whatever the command did."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from scripts import postgres_cluster as cluster

BIN = Path("/usr/lib/postgresql/15/bin")


def test_root_drops_to_the_system_user_and_others_run_as_themselves():
    assert cluster.as_user(["pg_ctl", "start"], "returns-pg") == [
        "runuser", "-u", "returns-pg", "--", "pg_ctl", "start"]
    assert cluster.as_user(["pg_ctl", "start"], None) == ["pg_ctl", "start"]


def test_initdb_makes_a_trusting_utf8_cluster_with_our_superuser(tmp_path):
    command = cluster.initdb_command(BIN, tmp_path / "data")
    assert command[:3] == [str(BIN / "initdb"), "-D", str(tmp_path / "data")]
    assert {"-U", "returns", "--auth=trust", "--encoding=UTF8", "--no-sync"} <= set(command)


def test_the_server_listens_on_loopback_and_a_socket_in_the_folder_only(tmp_path):
    command = cluster.start_command(BIN, tmp_path / "data", tmp_path / "log", 55411, tmp_path)
    options = command[command.index("-o") + 1]
    assert "-c listen_addresses=127.0.0.1 " in options
    assert "-c port=55411 " in options
    assert f"-c unix_socket_directories={tmp_path} " in options
    assert command[-1] == "start" and "-w" in command
    assert cluster.stop_command(BIN, tmp_path / "data")[-3:] == ["-m", "fast", "stop"]


def test_the_database_and_its_address():
    assert cluster.createdb_command(BIN, 55411)[-1] == "returns"
    assert "127.0.0.1" in cluster.createdb_command(BIN, 55411)
    assert cluster.database_url(55411) == "postgresql://returns@127.0.0.1:55411/returns"


def test_apt_lists_are_refreshed_before_installing():
    first, second = cluster.install_commands()
    assert first[:2] == ["apt-get", "update"]
    assert second[:3] == ["apt-get", "install", "-y"] and second[-1] == "postgresql"


def test_without_postgresql_and_without_root_it_says_what_to_do(monkeypatch):
    monkeypatch.setattr(cluster, "find_bin_dir", lambda: None)
    with pytest.raises(SystemExit, match="apt-get install postgresql"):
        cluster.ensure_installed(is_root=False)


def test_the_newest_installed_version_wins(tmp_path):
    for version in ("13", "15", "9"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "initdb").touch()
        (bin_dir / "pg_ctl").touch()
    assert cluster.find_bin_dir(str(tmp_path / "*" / "bin")) == tmp_path / "15" / "bin"
    assert cluster.find_bin_dir(str(tmp_path / "none" / "*")) is None


def test_ports_come_from_the_range_given():
    assert cluster.parse_ports("55400-55499") == range(55400, 55500)
    assert cluster.parse_ports(None) is None
    assert cluster.free_port(range(55400, 55500)) in range(55400, 55500)


def test_the_command_follows_the_double_dash(monkeypatch):
    seen = {}
    monkeypatch.setattr(cluster, "run", lambda command, ports: seen.update(
        command=command, ports=ports) or 0)
    assert cluster.main(["--ports", "55400-55401", "--", "pytest", "-x"]) == 0
    assert seen == {"command": ["pytest", "-x"], "ports": range(55400, 55402)}
    with pytest.raises(SystemExit):
        cluster.main([])


@pytest.mark.skipif(cluster.find_bin_dir() is None, reason="PostgreSQL is not installed here")
def test_a_failing_command_still_stops_the_cluster_and_removes_its_folder(monkeypatch, capfd):
    folders = []
    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(cluster.tempfile, "mkdtemp",
                        lambda **kw: folders.append(real_mkdtemp(**kw)) or folders[-1])
    status = cluster.run(["sh", "-c", 'test -n "$RETURNS_DATABASE_URL" && exit 3'],
                         range(55400, 55500))
    assert status == 3
    assert folders and not Path(folders[0]).exists()
    assert "stopped and removed" in capfd.readouterr().err
