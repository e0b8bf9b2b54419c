"""A throwaway PostgreSQL server for the tests: a cluster in a temporary folder on a free
loopback port, started once per test run and removed at its end.

initdb refuses to run as root, so as root the cluster runs as Debian's ``postgres`` user
(through runuser). Each pytest-xdist worker starts its own. Each test gets its own database,
copied from a template that was migrated once (tests/conftest.py), so a test costs a
CREATE DATABASE rather than every migration.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE = "yogabot_template"
USER = "yogabot"


def server_binaries() -> Path | None:
    """The folder with initdb and pg_ctl: Debian's newest server, else whatever PATH has."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    if found and Path(found).with_name("initdb").exists():
        return Path(found).parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One running cluster. ``url(name)`` is an asyncpg URL for one of its databases."""

    bin_dir: Path
    folder: Path
    port: int = field(default_factory=_free_port)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def _as_postgres(self) -> list[str]:
        # initdb and the server refuse to run as root.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_postgres, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        # Durability is not what the tests are about: fsync off makes a test database cheap.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"),
            "-m", "immediate", "-w", "stop",
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    def admin_url(self) -> str:
        return self.url("postgres")

    def next_database_name(self) -> str:
        return f"test_{next(self._numbers)}"


PREFIX = "yogabot-pg-"
# The test run that owns a cluster: a run killed before its teardown leaves the server
# behind, and the next run stops it.
OWNER_FILE = "owner.pid"
PORT_TRIES = 3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(bin_dir: Path) -> None:
    """Stop and delete the clusters of earlier test runs that were killed."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        orphan = PostgresServer(bin_dir, folder)
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            orphan.stop()
        shutil.rmtree(folder, ignore_errors=True)


def start_server() -> PostgresServer | str:
    """A started server, or why there is none (no PostgreSQL installed)."""
    bin_dir = server_binaries()
    if bin_dir is None:
        return "PostgreSQL's server (initdb, pg_ctl) is not installed; `make test` installs it"
    remove_orphans(bin_dir)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    problem = ""
    # A free port can be taken between the look and the server's own bind (pytest-xdist
    # workers start their servers at the same moment): a failed start tries another port.
    for _ in range(PORT_TRIES):
        server = PostgresServer(bin_dir, folder)
        try:
            server.start()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            problem = f"{exc} {detail.decode()[-400:]}"
            shutil.rmtree(folder / "data", ignore_errors=True)
            continue
        return server
    shutil.rmtree(folder, ignore_errors=True)
    return f"the throwaway PostgreSQL cluster did not start: {problem}"


def remove(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)
