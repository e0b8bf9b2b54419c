"""Feedback rows and the /feedback waiting state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import Feedback, User


@dataclass(frozen=True)
class Wait:
    """A /feedback waiting for its note: since when, and the message that asked for it
    (None until that message is sent)."""

    since: datetime
    chat_id: int
    prompt_message_id: int | None


@dataclass(frozen=True)
class Copy:
    """A note's copy as forwarded to the team's chat."""

    chat_id: int
    message_id: int


class FeedbackRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def count_since(self, user_id: int, since: datetime) -> int:
        count = await self._db.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(Feedback.user_id == user_id, Feedback.created_at > since)
        )
        return count or 0

    async def add(self, item: Feedback) -> Feedback:
        """Store the note and end any wait for one."""
        self._db.add(item)
        await self._db.flush()
        await self.set_waiting(item.user_id, None)
        return item

    async def waiting_since(self, user_id: int) -> datetime | None:
        return await self._db.scalar(select(User.awaiting_feedback_since).where(User.id == user_id))

    async def wait_of(self, user_id: int) -> Wait | None:
        query = select(
            User.awaiting_feedback_since, User.chat_id, User.feedback_prompt_message_id
        ).where(User.id == user_id)
        row = (await self._db.execute(query)).one_or_none()
        if row is None:
            return None
        since, chat_id, prompt_message_id = row
        return None if since is None else Wait(since, chat_id, prompt_message_id)

    async def set_waiting(self, user_id: int, since: datetime | None) -> bool:
        """False when nothing changed (no such user, or no wait to end). Either way the
        prompt of any earlier wait is forgotten: a new one is yet to be sent."""
        query = (
            update(User)
            .where(User.id == user_id)
            .values(awaiting_feedback_since=since, feedback_prompt_message_id=None)
            .execution_options(synchronize_session=False)
        )
        if since is None:
            query = query.where(User.awaiting_feedback_since.is_not(None))
        changed = await self._db.execute(query)
        return changed_rows(changed) == 1

    async def end_wait(self, user_id: int, since: datetime) -> bool:
        """End the wait that began at `since`; False when it has ended already (a double
        tap) or a newer one has begun, so only one caller gets to say it expired."""
        changed = await self._db.execute(
            update(User)
            .where(User.id == user_id, User.awaiting_feedback_since == since)
            .values(awaiting_feedback_since=None, feedback_prompt_message_id=None)
            .execution_options(synchronize_session=False)
        )
        return changed_rows(changed) == 1

    async def set_prompt(self, user_id: int, message_id: int) -> None:
        """Remember the message that asked for the note, while the wait still holds."""
        await self._db.execute(
            update(User)
            .where(User.id == user_id, User.awaiting_feedback_since.is_not(None))
            .values(feedback_prompt_message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def set_copy(self, feedback_id: int, copy: Copy) -> bool:
        """Remember where the note's copy went; False when the note is gone (deleted by
        /forget_me while its copy was on the way)."""
        changed = await self._db.execute(
            update(Feedback)
            .where(Feedback.id == feedback_id)
            .values(copy_chat_id=copy.chat_id, copy_message_id=copy.message_id)
            .execution_options(synchronize_session=False)
        )
        return changed_rows(changed) == 1

    async def copies_of(self, user_id: int) -> list[Copy]:
        """The recorded copies of the user's notes, newest first."""
        rows = await self._db.execute(
            select(Feedback.copy_chat_id, Feedback.copy_message_id)
            .where(Feedback.user_id == user_id, Feedback.copy_message_id.is_not(None))
            .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        )
        return [
            Copy(chat_id, message_id)
            for chat_id, message_id in rows.all()
            if chat_id is not None and message_id is not None
        ]

    async def since(self, start: datetime | None) -> Sequence[Feedback]:
        query = select(Feedback).order_by(Feedback.created_at, Feedback.id)
        if start is not None:
            query = query.where(Feedback.created_at >= start)
        return (await self._db.scalars(query)).all()
