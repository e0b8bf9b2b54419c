"""What the player's look at a practice costs the database (bot/practice/player.py). Every
open page asks for it every 15 s and at the end of each hold: it is the player's most
frequent query, and the largest part of what a class in the player costs a worker
(bench/player.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.models import Surface
from bot.practice.service import PracticeService

USER, CHAT = 42, 42


@pytest.mark.backends("sqlite")
async def test_on_sqlite_the_players_look_at_the_users_practice_is_one_statement(
    db_engine: AsyncEngine, practice: PracticeService
) -> None:
    started = await practice.start(USER, CHAT, "Ana")
    await practice.play(USER, started.practice_id)
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(db_engine.sync_engine, "before_cursor_execute", note)
    shown = await practice.open_for_player(USER)
    assert shown is not None
    assert (shown.cue.practice_id, shown.surface) == (started.practice_id, Surface.PLAYER)
    # One query needs no snapshot: no BEGIN (and no rollback) around it.
    assert seen == ["SELECT"]
