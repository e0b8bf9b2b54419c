"""A user's own record: their history (/mydata), deleting it (/forget_me) with the copies
of their notes in the team's chat, and what follows when their chat can no longer be
reached (they blocked the bot)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.models import EventKind, PracticeStatus, ScreenAnswer
from bot.practice.service import PracticeService, Timers
from bot.progress import class_title, pose_title
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


@dataclass(frozen=True)
class PracticeRecord:
    at: datetime  # local to the user
    class_title: str
    status: PracticeStatus
    minutes: float
    poses_done: int
    easier_used: int
    back_before: int | None
    back_after: int | None
    # Every pose in its easier version (a sore day).
    gentle: bool


@dataclass(frozen=True)
class NoteRecord:
    at: datetime  # local to the user
    class_title: str | None
    pose: str | None
    text: str


@dataclass(frozen=True)
class ScreenRecord:
    """The last answer to the red-flag screen."""

    at: datetime  # local to the user
    answer: ScreenAnswer


@dataclass(frozen=True)
class History:
    practices: list[PracticeRecord]
    notes: list[NoteRecord]
    screen: ScreenRecord | None


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

    async def history(self, user_id: int) -> History | None:
        """Practices, then notes, each oldest first, and the red-flag screen's answer, times
        in the user's zone; None when nothing is stored about the user."""
        async with self._store.read() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return None
            counts = await uow.users.event_counts_of(user_id)
            practices = await uow.users.practices_of(user_id)
            notes = await uow.users.feedback_of(user_id)
        zone = user_zone(user.timezone, self._default_zone)
        return History(
            practices=[
                PracticeRecord(
                    at=p.started_at.astimezone(zone),
                    class_title=class_title(self._catalog, p.class_id),
                    status=p.status,
                    minutes=round(p.practised_seconds / 60, 1),
                    poses_done=counts.get((p.id, EventKind.SHOWN), 0),
                    easier_used=counts.get((p.id, EventKind.EASIER), 0),
                    back_before=p.back_before,
                    back_after=p.back_after,
                    gentle=p.gentle,
                )
                for p in practices
            ],
            notes=[
                NoteRecord(
                    at=n.created_at.astimezone(zone),
                    class_title=class_title(self._catalog, n.class_id) if n.class_id else None,
                    pose=(
                        pose_title(self._catalog, n.class_id, n.step_id)
                        if n.class_id and n.step_id
                        else None
                    ),
                    text=n.text,
                )
                for n in notes
            ],
            screen=(
                ScreenRecord(user.screened_at.astimezone(zone), user.screen_answer)
                if user.screen_answer is not None and user.screened_at is not None
                else None
            ),
        )

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
