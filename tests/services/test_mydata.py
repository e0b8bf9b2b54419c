"""/mydata holds everything stored about the user, and /forget_me deletes all of it: held to
the schema itself, so a table or column added about users cannot be left out.

The test walks the SQLAlchemy schema for every table about a user (users itself, a table
with a user_id column, and any table with a foreign key to one of those), writes a row to
each with every column set to a value of its own, and reads the /mydata file back: each
value must be there, under its column's name, in its table's part of the file.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from enum import Enum as PyEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from bot.account import TITLE_COLUMNS, AccountService, Forgotten
from bot.clock import ManualClock
from bot.models import Base
from bot.practice.service import PracticeService
from bot.reminders import ReminderService
from bot.store import Store
from handlers.render.account import record_csv
from sequences import YogaClass
from tests.harness.fakes import FakeTeamChat, FakeTimers
from tests.harness.mydata import mydata_parts

ZONE = "Asia/Kathmandu"  # +05:45: a time shown in the user's zone cannot pass for UTC


@pytest.fixture
def account(
    store: Store,
    practice: PracticeService,
    clock: ManualClock,
    tiny_class: YogaClass,
    timers: FakeTimers,
) -> AccountService:
    return AccountService(
        store,
        {tiny_class.id: tiny_class},
        "UTC",
        practice=practice,
        reminders=ReminderService(store, clock),
        timers=timers,
    )


def about_a_user(metadata: MetaData) -> list[Table]:
    """users, every table with a user_id column, and every table with a foreign key to one
    of those, parents first."""
    found = {metadata.tables["users"]}
    while True:
        more = {
            table
            for table in metadata.sorted_tables
            if table not in found
            and ("user_id" in table.c or any(fk.column.table in found for fk in table.foreign_keys))
        }
        if not more:
            return [table for table in metadata.sorted_tables if table in found]
        found |= more


def own_value(column: Column[Any], n: int) -> object:
    """A value for `column` that no other column of the row has, and not its default."""
    kind = column.type
    if isinstance(kind, TypeDecorator):  # UTCDateTime: what it stores
        kind = kind.impl_instance
    if isinstance(kind, SqlEnum):
        members = cast(list[PyEnum], list(kind.enum_class or []))
        default = getattr(column.default, "arg", None)
        return next(m for m in reversed(members) if m != default)
    if isinstance(kind, Boolean):
        return not getattr(column.default, "arg", False)
    if isinstance(kind, DateTime):
        return datetime(2026, 2, 3, 4, 5, tzinfo=UTC) + timedelta(minutes=n)
    if isinstance(kind, Float):
        return n + 0.25
    if isinstance(kind, Integer):  # BigInteger too
        return 90_000 + n
    if isinstance(kind, String):  # Text too
        return f"v{n}"[: kind.length or None]
    raise AssertionError(f"no value for {column.table.name}.{column.name} ({kind!r})")


async def fill(
    engine: AsyncEngine, metadata: MetaData, user_id: int, first: int
) -> dict[str, dict[str, object]]:
    """One row about the user in every table about a user, every column its own value (keys
    follow their foreign keys), numbered from `first`; what was written, by table."""
    written: dict[str, dict[str, object]] = {}
    numbers = itertools.count(first)
    async with engine.begin() as db:
        for table in about_a_user(metadata):
            row: dict[str, object] = {}
            for column in table.columns:
                [fk, *_] = [*column.foreign_keys, None]
                if fk is not None:
                    row[column.name] = written[fk.column.table.name][fk.column.name]
                elif table.name == "users" and column.name == "id":
                    row[column.name] = user_id
                elif table.name == "users" and column.name == "timezone":
                    row[column.name] = ZONE
                else:
                    row[column.name] = own_value(column, next(numbers))
            await db.execute(insert(table).values(row))
            written[table.name] = row
    return written


def as_written(value: object) -> str:
    """A stored value as the /mydata file shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(ZONE)).isoformat(timespec="seconds")
    if isinstance(value, PyEnum):
        return str(value.value)
    return str(value)


async def left_out(
    account: AccountService, engine: AsyncEngine, metadata: MetaData, user_id: int = 77
) -> list[str]:
    """Every column about a user (in `metadata`) whose value /mydata does not show."""
    written = await fill(engine, metadata, user_id, first=1)
    record = await account.record(user_id)
    assert record is not None
    parts = mydata_parts(record_csv(record))
    missing = []
    for table in about_a_user(metadata):
        [row] = parts.get(table.name) or [{}]
        for column in table.columns:
            shown = row.get(column.name)
            if shown != as_written(written[table.name][column.name]):
                missing.append(f"{table.name}.{column.name}")
    return missing


async def test_every_table_and_column_about_a_user_is_in_mydata(
    account: AccountService, db_engine: AsyncEngine
) -> None:
    tables = about_a_user(Base.metadata)
    # The walk finds the tables it is meant to: the test would prove little otherwise.
    assert {t.name for t in tables} >= {
        "users",
        "reminders",
        "practice_sessions",
        "step_events",
        "feedback",
    }
    assert await left_out(account, db_engine, Base.metadata) == []
    # The titles /mydata adds never hide a stored column of the same name.
    assert not {c.name for t in tables for c in t.columns} & set(TITLE_COLUMNS)


async def test_a_column_or_table_added_about_users_and_not_exported_is_caught(
    account: AccountService, db_engine: AsyncEngine
) -> None:
    """The check above fails for a schema that grew without /mydata following: here a
    throwaway column on users and a throwaway table about users, added to a copy of the
    schema and to the database, neither of which /mydata knows."""
    grown = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(grown)
    grown.tables["users"].append_column(Column("shoe_size", Integer))
    moods = Table(
        "moods",
        grown,
        Column("id", Integer, primary_key=True),
        Column("user_id", BigInteger, ForeignKey("users.id")),
        Column("mood", String(16)),
    )
    async with db_engine.begin() as db:
        await db.execute(text("ALTER TABLE users ADD COLUMN shoe_size INTEGER"))
        await db.run_sync(lambda sync: moods.create(sync))
    assert sorted(await left_out(account, db_engine, grown)) == [
        "moods.id",
        "moods.mood",
        "moods.user_id",
        "users.shoe_size",
    ]


async def test_forget_me_leaves_no_row_in_any_table_about_a_user(
    account: AccountService, db_engine: AsyncEngine
) -> None:
    await fill(db_engine, Base.metadata, 77, first=1)
    await fill(db_engine, Base.metadata, 78, first=1000)
    tables = about_a_user(Base.metadata)

    async def rows() -> dict[str, int]:
        async with db_engine.connect() as db:
            return {
                t.name: (await db.scalar(select(func.count()).select_from(t))) or 0 for t in tables
            }

    assert set((await rows()).values()) == {2}
    team = FakeTeamChat()
    assert await account.forget(77, team.remove) == Forgotten(copies_left=0)
    assert len(team.asked) == 1  # the copy of the note, from the columns that keep it
    # Only the other user's row is left, in every table about a user.
    assert set((await rows()).values()) == {1}
