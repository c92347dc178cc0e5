"""The system tier: the product as deployed, once per test session.

The checkout is built into a wheel, the wheel installed into a fresh virtual environment, and
the README's production commands ("Serving it in production", read from the README itself, so
the two can't drift apart) run from a folder outside the checkout: migrations and demo data
through the installed package's CLI, gunicorn with three workers, the worker, beside the sandbox
provider and a mail catcher standing in for the SMTP relay. Nothing here imports the checkout's
code into the served processes: they run the installed package only.

SYSTEM_TEST_PORTS=LOW-HIGH picks the ports from a range (shared machines); by default the
system chooses free ones.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.databases import POSTGRES_URL, Owned, own_database
from tests.system.forms import Tally

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORKERS = 3
START_TIMEOUT = 60.0
# Not part of the package, or made by using the checkout: left out of the copy that is built.
NOT_BUILT = {".venv", ".git", "instance", "screenshots", "build", "dist", "bench", "tests",
             ".pytest_cache", ".ruff_cache", ".hypothesis"}
TALLY = Tally()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.system)


def pytest_terminal_summary(terminalreporter):
    if TALLY.tried:
        terminalreporter.write_line(
            f"system tier: {TALLY.tried} form submits across {WORKERS} gunicorn workers, "
            f"{TALLY.csrf_failed} refused by the CSRF check")


def production_commands() -> list[list[str]]:
    """The commands of the README's "Serving it in production" block, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Serving it in production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    return [shlex.split(line) for line in block.splitlines()
            if line.split(" ", 1)[0] in ("flask", "gunicorn", "python")]


def production_command(first_word: str) -> list[str]:
    return next(c for c in production_commands() if c[0] == first_word
                and (first_word != "flask" or "migrate" in c))


_taken: set[int] = set()


def free_port() -> int:
    low, _, high = os.environ.get("SYSTEM_TEST_PORTS", "").partition("-")
    candidates = range(int(low), int(high) + 1) if high else [0] * 20
    for port in candidates:
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = sock.getsockname()[1]
        _taken.add(port)
        return port
    raise RuntimeError("no free port")


@dataclass
class Installed:
    wheel: Path
    venv: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()


def run(command: list, **kwargs) -> str:
    """Run a set-up command to its end; its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode:
        pytest.fail(f"{shlex.join(map(str, command))} exited with {done.returncode}:\n"
                    f"{done.stdout}\n{done.stderr}")
    return done.stdout


def _not_built(folder: str, names: list[str]) -> set[str]:
    at_root = Path(folder).resolve() == ROOT
    return {n for n in names if (at_root and n in NOT_BUILT) or n == "__pycache__"
            or n.endswith(".egg-info") or ".sqlite3" in n}


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    """The checkout built as a wheel (from a copy: the build leaves nothing in the checkout)
    and installed into a new virtual environment."""
    tmp = tmp_path_factory.mktemp("system-install")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_not_built)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--wheel-dir", str(tmp / "dist"), str(source)])
    (wheel,) = (tmp / "dist").glob("returns_assistant-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    return Installed(wheel, venv)


@dataclass
class Deployment:
    base_url: str
    provider_url: str
    folder: Path
    api_keys: dict[str, str]
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Where the README's commands keep the data: SQLite's default file in the instance folder,
    # or the database made for the session on PostgreSQL (RETURNS_DATABASE_URL).
    database: Owned | None = None

    commands: dict[str, list[str]] = field(default_factory=dict)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def restart_web(self) -> None:
        """Stop gunicorn and start it again, as a deploy of the same version or a restart after
        a crash does: the kept pages' file stays, the workers are new processes."""
        _stop(self.procs.pop("web"))
        _start(self, "web", self.commands["web"])
        _wait_for(self, self.base_url + "/", "web")


def _start(deployment: Deployment, name: str, command: list[str]) -> None:
    deployment.commands[name] = command
    with open(deployment.logs / f"{name}.log", "ab") as log:
        deployment.procs[name] = subprocess.Popen(
            command, cwd=deployment.folder, env=deployment.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what it started
    if proc.poll() is None:
        proc.wait(timeout=5)


def _wait_for(deployment: Deployment, url: str, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code < 500:
                return
        proc = deployment.procs[name]
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer on {url}:\n{deployment.log(name)}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def deployment(installed, tmp_path_factory):
    """The installed package served as the README says, from a folder outside the checkout."""
    folder = tmp_path_factory.mktemp("system-served")
    assert ROOT not in folder.resolve().parents
    with contextlib.ExitStack() as stack:
        database = None
        if POSTGRES_URL:  # a database of its own on the server; SQLite's default file otherwise
            database = stack.enter_context(own_database(folder, migrated=False))
        yield from _deploy(installed, folder, database)


def _deploy(installed: Installed, folder: Path, database: Owned | None):
    logs = folder / "logs"
    logs.mkdir()
    web, provider, mail = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{web}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RETURNS_", "FLASK_", "PYTHON", "VIRTUAL_ENV", "WEB_"))}
    env.update({
        "PATH": f"{installed.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        # What the README's block exports (production: RETURNS_ENV is left unset).
        "RETURNS_SECRET_KEY": secrets.token_hex(32),
        "RETURNS_BIND": f"127.0.0.1:{web}",
        "WEB_CONCURRENCY": str(WORKERS),
        "RETURNS_PUBLIC_URL": base_url,
        "RETURNS_PROVIDER_URL": f"http://127.0.0.1:{provider}",
        "RETURNS_SMTP_HOST": "127.0.0.1",
        "RETURNS_SMTP_PORT": str(mail),
        **(database.env if database else {}),
    })
    served = Deployment(base_url, env["RETURNS_PROVIDER_URL"], folder, {}, env, logs,
                        database=database or Owned(str(folder / "instance" / "returns.sqlite3")))
    python = installed.bin("python")
    try:
        _start(served, "sandbox-provider", [python, "-m", "returns_app.provider.sandbox",
                                            "--port", str(provider), "--quiet"])
        _start(served, "mail-relay", [python, "-m", "returns_app.mailcatcher",
                                      "--port", str(mail)])
        migrate = production_command("flask")
        run([installed.bin(migrate[0]), *migrate[1:]], cwd=folder, env=env)
        demo = run([installed.bin("flask"), "--app", "returns_app", "load-demo"],
                   cwd=folder, env=env)
        served.api_keys = dict(re.findall(r"^\s+(.+?)\s+API key: (\S+)$", demo, re.M))
        for name in ("gunicorn", "python"):
            command = production_command(name)
            _start(served, "web" if name == "gunicorn" else "worker",
                   [installed.bin(command[0]), *command[1:]])
        _wait_for(served, served.provider_url + "/checkout/none", "sandbox-provider")
        _wait_for(served, base_url + "/", "web")
        yield served
    finally:
        for proc in reversed(served.procs.values()):
            _stop(proc)


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY
