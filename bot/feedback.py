"""Feedback from users: what is accepted, how often, and the practice it is filed under.

The hourly limit is counted from stored rows and the "waiting for your note" state is a
column, so neither is lost or reset by a restart. A wait ends with the note, a cancel, or
once the user has moved on or left it too long: then its prompt is withdrawn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TextIO

from bot import spreadsheet
from bot.clock import Clock
from bot.models import Feedback
from bot.progress import pose_title, step_of
from bot.store import Store, UnitOfWork
from bot.store.feedback import Copy
from bot.store.practice import state_of
from sequences import YogaClass

MAX_CHARS = 2000
PER_HOUR = 10
WINDOW = timedelta(hours=1)
# A /feedback left unanswered this long no longer claims the user's next message: by then
# the user has most likely forgotten it and is talking about something else.
WAIT_FOR = timedelta(minutes=10)


class Refusal(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    length: int = 0


@dataclass(frozen=True)
class Prompt:
    """The message that asked for a note, withdrawn: it should now say it has expired."""

    chat_id: int
    message_id: int


@dataclass(frozen=True)
class FeedbackItem:
    """One note with its context, as forwarded and exported."""

    id: int
    created_at: datetime
    user_id: int
    practice_id: int | None
    class_id: str | None
    step_index: int | None
    step_id: str | None
    pose: str | None
    text: str
    # True when the note came during a practice, False when it refers to the last one.
    during_practice: bool = False


# The export's columns are a file format that people's scripts read: the practice's id
# keeps its first column name, session_id.
EXPORT_COLUMNS = {
    "id": "id",
    "created_at": "created_at",
    "user_id": "user_id",
    "session_id": "practice_id",
    "class_id": "class_id",
    "step_index": "step_index",
    "step_id": "step_id",
    "pose": "pose",
    "text": "text",
}


def has_visible_text(text: str) -> bool:
    # isprintable() is False for format characters such as a zero-width space, so a note
    # made only of those counts as empty too.
    return any(c.isprintable() and not c.isspace() for c in text)


def check_text(text: str) -> Refused | None:
    text = text.strip()
    if not has_visible_text(text):
        return Refused(Refusal.EMPTY)
    if len(text) > MAX_CHARS:
        return Refused(Refusal.TOO_LONG, len(text))
    return None


class FeedbackService:
    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        *,
        only_writer: bool = False,
    ) -> None:
        """`only_writer`: this process is the database's only writer (SQLite), so what it
        knows of who is waiting for a note stays true until it changes it itself."""
        self._store = store
        self._catalog = catalog
        self._clock = clock
        # Users known to have no wait for a note: their updates need no look for one. A
        # wait begins only in begin_waiting, which takes the user off; kept only when no
        # other process can begin one.
        self._not_waiting: set[int] | None = set() if only_writer else None

    async def submit(
        self, user_id: int, chat_id: int, first_name: str, text: str
    ) -> FeedbackItem | Refused:
        refused = check_text(text)
        if refused is not None:
            return refused
        now = self._clock()
        async with self._store.write() as uow:
            refused = await self._over_limit(uow, user_id)
            if refused is not None:
                # Refused for the hour: stop claiming the user's messages as notes.
                await uow.feedback.set_waiting(user_id, None)
                return refused
            await uow.users.save(user_id, chat_id, first_name, now)
            practice = await uow.practices.latest_of(user_id)
            row = Feedback(user_id=user_id, created_at=now, text=text.strip())
            state = state_of(practice) if practice is not None else None
            if state is not None:
                row.practice_id, row.class_id = state.id, state.class_id
                # The position is the practice's own: in a short or gentle practice, step 3
                # is the short selection's third pose, not the full class's.
                row.step_index = state.step
                step = step_of(self._catalog, state)
                row.step_id = step.id if step is not None else None
            await uow.feedback.add(row)
        return self._item(row, during_practice=state is not None and state.open)

    async def begin_waiting(self, user_id: int, chat_id: int, first_name: str) -> Refused | None:
        """Claim the user's next message as feedback, unless they are already at the limit."""
        now = self._clock()
        async with self._store.write() as uow:
            refused = await self._over_limit(uow, user_id)
            if refused is not None:
                return refused
            if self._not_waiting is not None:
                self._not_waiting.discard(user_id)
            await uow.users.save(user_id, chat_id, first_name, now)
            await uow.feedback.set_waiting(user_id, now)
        if self._not_waiting is not None:
            self._not_waiting.discard(user_id)
        return None

    async def prompt_sent(self, user_id: int, message_id: int) -> None:
        """Remember the message that asked for the note, to withdraw it later."""
        async with self._store.write() as uow:
            await uow.feedback.set_prompt(user_id, message_id)

    async def copy_sent(self, feedback_id: int, copy: Copy) -> bool:
        """Record where the note's copy went in the team's chat, for /forget_me to delete
        it there. False when the note was deleted while its copy was on the way: the copy
        should then go too."""
        async with self._store.write() as uow:
            return await uow.feedback.set_copy(feedback_id, copy)

    async def waiting_prompt(self, user_id: int) -> Prompt | None:
        """The message that asked for the note now awaited, if it was sent."""
        async with self._store.read() as uow:
            wait = await uow.feedback.wait_of(user_id)
        if wait is None or wait.prompt_message_id is None:
            return None
        return Prompt(wait.chat_id, wait.prompt_message_id)

    async def is_waiting(self, user_id: int) -> bool:
        async with self._store.read() as uow:
            since = await uow.feedback.waiting_since(user_id)
        # A wait past its time is left for withdraw_prompt to end, so its prompt says so.
        return since is not None and not self._expired(since)

    async def withdraw_prompt(self, user_id: int, *, moved_on: bool) -> Prompt | None:
        """End a wait the user has moved on from (another command, a practice starting) or
        left longer than WAIT_FOR. The prompt to mark expired comes back once: a repeat,
        or a wait that ended otherwise, gives None."""
        if self._not_waiting is not None and user_id in self._not_waiting:
            return None
        async with self._store.peek() as uow:  # on every update: one query, or none
            wait = await uow.feedback.wait_of(user_id)
        if wait is None:
            if self._not_waiting is not None:
                self._not_waiting.add(user_id)
            return None
        if not (moved_on or self._expired(wait.since)):
            return None
        async with self._store.write() as uow:
            if not await uow.feedback.end_wait(user_id, wait.since):
                return None
        if wait.prompt_message_id is None:
            return None  # it was never sent, e.g. the bot stopped right after the wait began
        return Prompt(wait.chat_id, wait.prompt_message_id)

    async def cancel_waiting(self, user_id: int) -> bool:
        async with self._store.write() as uow:
            return await uow.feedback.set_waiting(user_id, None)

    async def export(self, since: date | None = None) -> list[FeedbackItem]:
        start = datetime.combine(since, time(), tzinfo=UTC) if since else None
        async with self._store.read() as uow:
            return [self._item(row) for row in await uow.feedback.since(start)]

    def _expired(self, since: datetime) -> bool:
        return self._clock() - since > WAIT_FOR

    async def _over_limit(self, uow: UnitOfWork, user_id: int) -> Refused | None:
        recent = await uow.feedback.count_since(user_id, self._clock() - WINDOW)
        return Refused(Refusal.TOO_MANY) if recent >= PER_HOUR else None

    def _item(self, row: Feedback, *, during_practice: bool = False) -> FeedbackItem:
        pose = None
        if row.class_id is not None and row.step_id is not None:
            pose = pose_title(self._catalog, row.class_id, row.step_id)
        return FeedbackItem(
            id=row.id,
            created_at=row.created_at,
            user_id=row.user_id,
            practice_id=row.practice_id,
            class_id=row.class_id,
            step_index=row.step_index,
            step_id=row.step_id,
            pose=pose,
            text=row.text,
            during_practice=during_practice,
        )


def _export_row(item: FeedbackItem) -> dict[str, object]:
    row = asdict(item)
    row["created_at"] = item.created_at.isoformat()
    return {column: row[field] for column, field in EXPORT_COLUMNS.items()}


def write_csv(items: Sequence[FeedbackItem], out: TextIO) -> None:
    spreadsheet.write_csv(out, list(EXPORT_COLUMNS), (_export_row(item) for item in items))


def write_json(items: Sequence[FeedbackItem], out: TextIO) -> None:
    out.write(json.dumps([_export_row(i) for i in items], ensure_ascii=False, indent=2))
    out.write("\n")
