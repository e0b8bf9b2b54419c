"""Trouble a test makes for the bot's database from outside, as another process would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(database_file: Path) -> Iterator[None]:
    """Another process holds the SQLite database's write lock."""
    other = sqlite3.connect(database_file, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
