"""A throwaway PostgreSQL cluster around one command: `make test-postgres` runs pytest in it.

    python scripts/postgres_cluster.py [--ports 55400-55499] -- COMMAND ...

Installs Debian's `postgresql` if no initdb is found (as root; otherwise says how), makes a
temporary folder, runs initdb and pg_ctl there as an unprivileged user (PostgreSQL refuses to
run as root: as root, the system user `returns-pg`), listens on a unix socket in that folder and
on 127.0.0.1 only, creates a database, runs COMMAND with RETURNS_DATABASE_URL pointing at it,
and always stops the cluster and deletes the folder, also after a failure, Ctrl-C or SIGTERM.
Exits with COMMAND's status. Durability is off (fsync, full pages): nothing here outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SYSTEM_USER = "returns-pg"
DATABASE = "returns"
SUPERUSER = "returns"
BIN_GLOB = "/usr/lib/postgresql/*/bin"


def find_bin_dir(pattern: str = BIN_GLOB) -> Path | None:
    """The newest installed PostgreSQL's bin folder holding initdb and pg_ctl, or None."""
    found = [Path(d) for d in glob.glob(pattern)
             if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


def install_commands() -> list[list[str]]:
    return [["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]]


def ensure_installed(is_root: bool) -> Path:
    if bin_dir := find_bin_dir():
        return bin_dir
    if not is_root:
        raise SystemExit("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and"
                         " can't be installed without root: run `apt-get install postgresql`"
                         " as root, or run this as root.")
    for command in install_commands():
        subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if bin_dir := find_bin_dir():
        return bin_dir
    raise SystemExit("apt-get installed postgresql, yet no initdb was found under " + BIN_GLOB)


def ensure_system_user(name: str = SYSTEM_USER) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True)


def as_user(command: list[str], user: str | None) -> list[str]:
    """``command`` run as ``user`` (root drops to it with runuser), or as is for None."""
    return ["runuser", "-u", user, "--", *command] if user else command


def initdb_command(bin_dir: Path, data: Path) -> list[str]:
    return [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]


def server_options(port: int, socket_dir: Path, durable: bool = False) -> str:
    # Only this machine: loopback and a socket in the private folder. Durability off: a test
    # cluster is thrown away, and fsync per commit would be most of its time. The benchmark
    # (bench/run.py) keeps PostgreSQL's durable defaults: its writes pay for their commits as
    # in production.
    options = (f"-c listen_addresses=127.0.0.1 -c port={port}"
               f" -c unix_socket_directories={socket_dir}")
    return options if durable else (
        options + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off")


def start_command(bin_dir: Path, data: Path, log: Path, port: int, socket_dir: Path,
                  durable: bool = False) -> list[str]:
    return [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
            "-o", server_options(port, socket_dir, durable), "start"]


def stop_command(bin_dir: Path, data: Path) -> list[str]:
    return [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-m", "fast", "stop"]


def createdb_command(bin_dir: Path, port: int) -> list[str]:
    return [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER,
            DATABASE]


def database_url(port: int) -> str:
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


def parse_ports(text: str | None) -> range | None:
    if not text:
        return None
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def free_port(ports: range | None = None) -> int:
    """A port nothing listens on at 127.0.0.1: any (the system's choice) or one of ``ports``."""
    for port in ports or [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


def _stop_on_sigterm():
    """SIGTERM (a CI runner giving up) cleans up as Ctrl-C does; the previous handler."""
    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    return signal.signal(signal.SIGTERM, stop)


@contextlib.contextmanager
def cluster(ports: range | None = None, durable: bool = False) -> Iterator[str]:
    """A cluster started in a temporary folder, as the address of its database; stopped and
    its folder removed on the way out, also after a failure, Ctrl-C or SIGTERM."""
    is_root = os.geteuid() == 0
    bin_dir = ensure_installed(is_root)
    user = SYSTEM_USER if is_root else None
    if user:
        ensure_system_user(user)
    folder = Path(tempfile.mkdtemp(prefix="returns-pg-"))
    data, log = folder / "data", folder / "server.log"
    started = ready = False
    previous_sigterm = _stop_on_sigterm()
    try:
        if user:
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        began = time.monotonic()
        subprocess.run(as_user(initdb_command(bin_dir, data), user), check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port(ports)
        started = True  # from here on, stop it whatever happens (pg_ctl start may half-succeed)
        subprocess.run(as_user(start_command(bin_dir, data, log, port, folder, durable), user),
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(createdb_command(bin_dir, port), check=True)
        url = database_url(port)
        print(f"postgres_cluster: {url} ready in {time.monotonic() - began:.1f} s"
              f" (PostgreSQL {bin_dir.parent.name}, {folder})", file=sys.stderr, flush=True)
        ready = True
        yield url
    except subprocess.CalledProcessError:
        if log.exists() and not ready:  # the server's own account of why it did not start
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        # Ignore further Ctrl-C while cleaning up: a half-removed cluster is worse than a wait.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        began = time.monotonic()
        if started:
            subprocess.run(as_user(stop_command(bin_dir, data), user),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"postgres_cluster: stopped and removed in {time.monotonic() - began:.1f} s",
              file=sys.stderr)
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_sigterm)


def run(command: list[str], ports: range | None = None) -> int:
    try:
        with cluster(ports) as url:
            return subprocess.run(command,
                                  env={**os.environ, "RETURNS_DATABASE_URL": url}).returncode
    except subprocess.CalledProcessError as failed:
        print(f"postgres_cluster: {' '.join(failed.cmd)} failed ({failed.returncode})",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", help="pick the port from this range, e.g. 55400-55499")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run, after --")
    return run(command, parse_ports(args.ports))


if __name__ == "__main__":
    sys.exit(main())
