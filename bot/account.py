"""A user's own record: everything stored about them (/mydata), deleting it (/forget_me)
with the copies of their notes in the team's chat, and what follows when their chat can
no longer be reached (they blocked the bot)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from bot.practice.service import PracticeService, Timers
from bot.progress import class_title, plan_step, pose_title
from bot.reminders import ReminderService
from bot.store import Store
from bot.store.feedback import Copy
from bot.timezones import user_zone
from sequences import YogaClass

log = logging.getLogger(__name__)

# Deleting the copies of a user's notes never holds /forget_me up longer than this (a team
# chat that does not answer, a long queue of deletes at Telegram's 20 calls a minute to a
# group): the rest are left, and the user is told how many.
COPIES_SECONDS = 10.0


class CopyRemoval(StrEnum):
    """What became of one try to delete a note's copy in the team's chat."""

    # Deleted now, or gone already (someone in the chat deleted it).
    GONE = "gone"
    # Telegram will not delete this one (older than 48 hours, or no right to): it stays.
    REFUSED = "refused"
    # The chat or Telegram cannot be reached now (the bot was removed from the chat, the
    # network fails): it stays, and the chat's other copies are not tried.
    UNREACHABLE = "unreachable"


# Deletes one copy in the team's chat (Telegram's side, from handlers/): never raises for
# what Telegram or the network answer, only says what became of it.
RemoveCopy = Callable[[Copy], Awaitable[CopyRemoval]]


@dataclass(frozen=True)
class Forgotten:
    """Everything about the user is deleted; `copies_left` of their notes' copies are
    still in the team's chat."""

    copies_left: int = 0


# What /mydata adds beside the stored ids: the titles they stand for. No table has a
# column of these names (tests/services/test_mydata.py holds the schema to it).
TITLE_COLUMNS = ("class", "pose")


def _local(value: object, zone: tzinfo) -> object:
    return value.astimezone(zone) if isinstance(value, datetime) else value


@dataclass(frozen=True)
class StoredRecord:
    """Everything stored about a user (/mydata): each table's rows about them, by table
    name, every column as stored (times in the user's zone), and beside them the class and
    pose titles the ids stand for (`class`, `pose`)."""

    tables: dict[str, list[dict[str, object]]]


class AccountService:
    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        default_timezone: str,
        *,
        practice: PracticeService,
        reminders: ReminderService,
        timers: Timers,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._default_zone = default_timezone
        self._practice = practice
        self._reminders = reminders
        self._timers = timers

    async def record(self, user_id: int) -> StoredRecord | None:
        """Every row stored about the user, whole; None when nothing is stored."""
        async with self._store.read() as uow:
            tables = await uow.users.record_of(user_id)
        if not tables:
            return None
        [user] = tables["users"]
        zone = user_zone(user["timezone"], self._default_zone)
        practices = {p["id"]: p for p in tables["practice_sessions"]}

        def shown(table: str, row: dict[str, Any]) -> dict[str, object]:
            local = {key: _local(value, zone) for key, value in row.items()}
            return local | self._titles(table, row, practices)

        return StoredRecord(
            {table: [shown(table, row) for row in rows] for table, rows in tables.items()}
        )

    def _titles(
        self, table: str, row: dict[str, Any], practices: dict[int, dict[str, Any]]
    ) -> dict[str, object]:
        """The class and pose a row's ids stand for, as the user saw them; nothing for a
        table without such ids."""
        if table == "practice_sessions":
            # The pose it is on, or ended on: found in the practice's own plan.
            class_id = row["class_id"]
            step = plan_step(self._catalog, class_id, row["class_length"], row["current_step"])
            step_id = step.id if step is not None else None
        elif table == "step_events":
            class_id, step_id = practices[row["session_id"]]["class_id"], row["step_id"]
        elif table == "feedback":
            class_id, step_id = row["class_id"], row["step_id"]
        else:
            return {}
        if class_id is None:
            return dict.fromkeys(TITLE_COLUMNS)
        pose = pose_title(self._catalog, class_id, step_id) if step_id is not None else None
        return dict(zip(TITLE_COLUMNS, (class_title(self._catalog, class_id), pose), strict=True))

    async def forget(self, user_id: int, remove_copy: RemoveCopy) -> Forgotten | None:
        """Delete everything about the user, with the copies of their notes in the team's
        chat as far as Telegram lets it, and stop the timers of their open practices;
        None when nothing was stored.

        The copies go first, from the ids stored with the notes, and the rows after: a
        process that dies in between leaves the rows, their ids and the question
        unanswered, and the user's next /forget_me deletes the rest (a copy deleted already
        counts as gone). Rows first would lose the ids of copies not yet deleted. No
        transaction is open while Telegram is called, so a slow team chat holds up nobody
        else; and whatever Telegram answers, the rows are deleted."""
        async with self._store.read() as uow:
            if await uow.users.get(user_id) is None:
                return None
            copies = await uow.feedback.copies_of(user_id)
        left = await self._remove_copies(copies, remove_copy)
        async with self._store.write() as uow:
            # A note forwarded since the read: its copy is deleted once the rows are.
            late = [c for c in await uow.feedback.copies_of(user_id) if c not in copies]
            open_practices = await uow.users.delete(user_id)
        if open_practices is None:
            return None  # deleted meanwhile by a second tap
        await self._store.leave_no_trace()
        for practice_id in open_practices:
            self._timers.cancel(practice_id)
        left += await self._remove_copies(late, remove_copy)
        return Forgotten(copies_left=left)

    async def _remove_copies(self, copies: list[Copy], remove_copy: RemoveCopy) -> int:
        """Delete the copies, newest first (older than 48 hours Telegram mostly refuses);
        how many are left in the team's chat."""
        left = len(copies)
        unreachable: set[int] = set()
        try:
            async with asyncio.timeout(COPIES_SECONDS):
                for copy in copies:
                    if copy.chat_id in unreachable:
                        continue
                    removal = await remove_copy(copy)
                    if removal is CopyRemoval.GONE:
                        left -= 1
                    elif removal is CopyRemoval.UNREACHABLE:
                        unreachable.add(copy.chat_id)
        except TimeoutError:
            log.warning("deleting feedback copies took over %s s; %d left", COPIES_SECONDS, left)
        return left

    async def unreachable(self, chat_id: int) -> None:
        """Telegram refuses to deliver to this chat (the user blocked the bot): end its open
        practices and turn its users' reminders off, until they come back by themselves."""
        await self._practice.abandon_chat(chat_id)
        async with self._store.read() as uow:
            users = await uow.users.in_chat(chat_id)
        for user_id in users:
            await self._reminders.turn_off(user_id)
