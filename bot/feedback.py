"""Feedback from users: what is accepted, how often, and the practice it is filed under.

The hourly limit is counted from stored rows and the "waiting for your note" state is a
column, so neither is lost or reset by a restart.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TextIO

from bot.clock import Clock
from bot.models import Feedback, SessionStatus
from bot.progress import pose_title
from bot.store import FeedbackStore, PracticeStore
from sequences import YogaClass

MAX_CHARS = 2000
PER_HOUR = 10
WINDOW = timedelta(hours=1)
# A /feedback left unanswered this long no longer claims the user's next message.
WAIT_FOR = timedelta(hours=1)


class Refusal(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    length: int = 0


@dataclass(frozen=True)
class FeedbackItem:
    """One note with its context, as forwarded and exported."""

    id: int
    created_at: datetime
    user_id: int
    session_id: int | None
    class_id: str | None
    step_index: int | None
    step_id: str | None
    pose: str | None
    text: str
    # True when the note came during a practice, False when it refers to the last one.
    during_practice: bool = False


EXPORT_FIELDS = [
    "id",
    "created_at",
    "user_id",
    "session_id",
    "class_id",
    "step_index",
    "step_id",
    "pose",
    "text",
]


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
        store: FeedbackStore,
        users: PracticeStore,
        catalog: dict[str, YogaClass],
        clock: Clock,
    ) -> None:
        self._store = store
        self._users = users
        self._catalog = catalog
        self._clock = clock

    async def submit(
        self, user_id: int, chat_id: int, first_name: str, text: str
    ) -> FeedbackItem | Refused:
        refused = check_text(text)
        if refused is not None:
            return refused
        refused = await self._over_limit(user_id)
        if refused is not None:
            # Refused for the hour: stop claiming the user's messages as notes.
            await self._store.set_waiting(user_id, None)
            return refused
        now = self._clock()
        await self._users.upsert_user(user_id, chat_id, first_name, now)
        session = await self._store.latest_session(user_id)
        row = Feedback(user_id=user_id, created_at=now, text=text.strip())
        if session is not None:
            row.session_id, row.class_id = session.id, session.class_id
            row.step_index = session.current_step
            yoga_class = self._catalog.get(session.class_id)
            if yoga_class is not None and session.current_step < len(yoga_class.steps):
                row.step_id = yoga_class.steps[session.current_step].id
        await self._store.add(row)
        during = session is not None and session.status in (
            SessionStatus.ACTIVE,
            SessionStatus.PAUSED,
        )
        return self._item(row, during_practice=during)

    async def begin_waiting(self, user_id: int, chat_id: int, first_name: str) -> Refused | None:
        """Claim the user's next message as feedback, unless they are already at the limit."""
        refused = await self._over_limit(user_id)
        if refused is not None:
            return refused
        now = self._clock()
        await self._users.upsert_user(user_id, chat_id, first_name, now)
        await self._store.set_waiting(user_id, now)
        return None

    async def is_waiting(self, user_id: int) -> bool:
        since = await self._store.waiting_since(user_id)
        if since is None:
            return False
        if self._clock() - since > WAIT_FOR:
            await self._store.set_waiting(user_id, None)
            return False
        return True

    async def cancel_waiting(self, user_id: int) -> bool:
        return await self._store.set_waiting(user_id, None)

    async def export(self, since: date | None = None) -> list[FeedbackItem]:
        start = datetime.combine(since, time(), tzinfo=UTC) if since else None
        return [self._item(row) for row in await self._store.since(start)]

    async def _over_limit(self, user_id: int) -> Refused | None:
        recent = await self._store.count_since(user_id, self._clock() - WINDOW)
        return Refused(Refusal.TOO_MANY) if recent >= PER_HOUR else None

    def _item(self, row: Feedback, *, during_practice: bool = False) -> FeedbackItem:
        pose = None
        if row.class_id is not None and row.step_id is not None:
            pose = pose_title(self._catalog, row.class_id, row.step_id)
        return FeedbackItem(
            id=row.id,
            created_at=row.created_at,
            user_id=row.user_id,
            session_id=row.session_id,
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
    return {name: row[name] for name in EXPORT_FIELDS}


def write_csv(items: Sequence[FeedbackItem], out: TextIO) -> None:
    # The csv module quotes commas, quotes and line breaks, so any text reads back intact.
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(_export_row(item) for item in items)


def write_json(items: Sequence[FeedbackItem], out: TextIO) -> None:
    out.write(json.dumps([_export_row(i) for i in items], ensure_ascii=False, indent=2))
    out.write("\n")
