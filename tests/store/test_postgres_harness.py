"""The throwaway PostgreSQL cluster of the tests: a run killed before its teardown leaves
its server behind, and the next run stops it rather than letting servers pile up."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.harness.postgres import (
    OWNER_FILE,
    PREFIX,
    PostgresServer,
    remove_orphans,
    server_binaries,
)


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_killed_runs_cluster_is_stopped_and_removed_by_the_next_run(
    postgres_server: PostgresServer,
) -> None:
    bin_dir = server_binaries()
    assert bin_dir is not None
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    orphan = PostgresServer(bin_dir, folder)
    orphan.start()
    (folder / OWNER_FILE).write_text(dead)
    assert answers(orphan.port)
    remove_orphans(bin_dir)
    assert not folder.exists()
    assert not answers(orphan.port)
    # The running test server belongs to this live run, and is left alone.
    assert answers(postgres_server.port)
