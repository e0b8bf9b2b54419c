"""`yogabot backup PATH`: a consistent copy of the SQLite database while the bot runs."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import User
from cli import main


@pytest.mark.backends("sqlite")
async def test_backup_copies_every_row_into_a_new_file(
    db_engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with create_sessionmaker(db_engine).begin() as db:
        db.add_all(
            User(id=n, chat_id=n, first_name=f"user {n}", created_at=datetime.now(UTC))
            for n in range(1, 51)
        )
    monkeypatch.setenv("DATABASE_URL", database_url)
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    assert main(["backup", str(target)]) == 0
    assert f"into {target}" in capsys.readouterr().out
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT count(*) FROM users").fetchone() == (50,)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    finally:
        copy.close()
    # Never over an existing file: a backup does not silently replace an older one.
    assert main(["backup", str(target)]) == 1
    assert "exists already" in capsys.readouterr().err


@pytest.mark.backends("postgresql")
def test_backup_of_postgresql_points_to_pg_dump(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["backup", str(tmp_path / "copy.db")]) == 1
    error = capsys.readouterr().err.strip()
    assert "pg_dump" in error and len(error.splitlines()) == 1
    assert not (tmp_path / "copy.db").exists()
