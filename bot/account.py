"""A user's own record: their history (/mydata), deleting it (/forget_me), and what
follows when their chat can no longer be reached (they blocked the bot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import EventKind, PracticeStatus, ScreenAnswer
from bot.practice import PracticeService, Timers
from bot.progress import class_title, pose_title
from bot.reminders import ReminderService
from bot.store import Store
from bot.timezones import user_zone
from sequences import YogaClass


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

    async def forget(self, user_id: int) -> bool:
        """Delete everything about the user, and stop the timers of their open practices;
        False when nothing was stored."""
        async with self._store.write() as uow:
            open_practices = await uow.users.delete(user_id)
        if open_practices is None:
            return False
        await self._store.leave_no_trace()
        for practice_id in open_practices:
            self._timers.cancel(practice_id)
        return True

    async def unreachable(self, chat_id: int) -> None:
        """Telegram refuses to deliver to this chat (the user blocked the bot): end its open
        practices and turn its users' reminders off, until they come back by themselves."""
        await self._practice.abandon_chat(chat_id)
        async with self._store.read() as uow:
            users = await uow.users.in_chat(chat_id)
        for user_id in users:
            await self._reminders.turn_off(user_id)
