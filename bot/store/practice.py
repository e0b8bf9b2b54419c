"""Practice sessions and their step events.

The repository layer is this package: one module per aggregate, each opening and
committing its own short transactions.

Moves that must not happen twice (advancing, pausing, finishing) are conditional updates
on the session's current step, so a double tap or a timer racing a button changes the row
once and the loser learns it lost from the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import OPEN_STATUSES, EventKind, PracticeSession, SessionStatus, StepEvent
from bot.store.users import upsert_user


class PracticeStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def upsert_user(self, user_id: int, chat_id: int, first_name: str, now: datetime) -> None:
        async with self._sessions.begin() as db:
            await upsert_user(db, user_id, chat_id, first_name, now)

    async def open_sessions_of(self, user_id: int) -> Sequence[PracticeSession]:
        async with self._sessions() as db:
            rows = await db.scalars(
                select(PracticeSession)
                .where(
                    PracticeSession.user_id == user_id, PracticeSession.status.in_(OPEN_STATUSES)
                )
                .order_by(PracticeSession.id)
            )
            return rows.all()

    async def open_sessions(self) -> Sequence[PracticeSession]:
        async with self._sessions() as db:
            rows = await db.scalars(
                select(PracticeSession)
                .where(PracticeSession.status.in_(OPEN_STATUSES))
                .order_by(PracticeSession.id)
            )
            return rows.all()

    async def get_session(self, session_id: int) -> PracticeSession | None:
        async with self._sessions() as db:
            return await db.get(PracticeSession, session_id)

    async def create_session(
        self,
        *,
        user_id: int,
        chat_id: int,
        class_id: str,
        first_step_id: str,
        now: datetime,
        hold_ends_at: datetime,
        back_before: int | None = None,
        checkin_message_id: int | None = None,
    ) -> PracticeSession | None:
        """The new session, or None when its check-in message already started one."""
        try:
            async with self._sessions.begin() as db:
                session = PracticeSession(
                    user_id=user_id,
                    chat_id=chat_id,
                    class_id=class_id,
                    status=SessionStatus.ACTIVE,
                    started_at=now,
                    current_step=0,
                    hold_ends_at=hold_ends_at,
                    practised_seconds=0.0,
                    back_before=back_before,
                    checkin_message_id=checkin_message_id,
                )
                db.add(session)
                await db.flush()
                db.add(_event(session.id, 0, first_step_id, EventKind.SHOWN, now))
        except IntegrityError:
            return None
        return session

    async def move_to_step(
        self,
        seen: PracticeSession,
        *,
        to_step: int,
        to_step_id: str,
        hold_ends_at: datetime,
        practised_seconds: float,
        skipped_step_id: str | None,
        now: datetime,
    ) -> bool:
        """Advance one step if the session is still exactly as the caller saw it."""
        return await self._settle(
            seen,
            dict(
                current_step=to_step,
                status=SessionStatus.ACTIVE,
                hold_ends_at=hold_ends_at,
                remaining_seconds=None,
                cue_message_id=None,
                practised_seconds=practised_seconds,
            ),
            skipped_step_id=skipped_step_id,
            shown=(to_step, to_step_id),
            now=now,
        )

    async def close_session(
        self,
        seen: PracticeSession,
        *,
        status: SessionStatus,
        practised_seconds: float,
        skipped_step_id: str | None,
        now: datetime,
    ) -> bool:
        """End the session if it is still exactly as the caller saw it."""
        return await self._settle(
            seen,
            dict(
                status=status,
                finished_at=now,
                hold_ends_at=None,
                remaining_seconds=None,
                practised_seconds=practised_seconds,
            ),
            skipped_step_id=skipped_step_id,
            shown=None,
            now=now,
        )

    async def _settle(
        self,
        seen: PracticeSession,
        values: dict[str, object],
        *,
        skipped_step_id: str | None,
        shown: tuple[int, str] | None,
        now: datetime,
    ) -> bool:
        """Apply `values` and record the step events in one transaction, or nothing at all
        when the row changed since the caller read it."""
        async with self._sessions.begin() as db:
            updated = await db.execute(_as_seen(seen).values(**values))
            if updated.rowcount != 1:
                return False
            if skipped_step_id is not None:
                db.add(_event(seen.id, seen.current_step, skipped_step_id, EventKind.SKIPPED, now))
            if shown is not None:
                db.add(_event(seen.id, *shown, EventKind.SHOWN, now))
            return True

    async def record_back_after(
        self, user_id: int, session_id: int, score: int
    ) -> PracticeSession | None:
        """Store the after-practice score once, on the user's own finished session; the
        updated session, or None when refused (not theirs, not finished, already answered)."""
        async with self._sessions.begin() as db:
            stored = await db.execute(
                update(PracticeSession)
                .where(
                    PracticeSession.id == session_id,
                    PracticeSession.user_id == user_id,
                    PracticeSession.status == SessionStatus.FINISHED,
                    PracticeSession.back_after.is_(None),
                )
                .values(back_after=score)
            )
            if stored.rowcount != 1:
                return None
            return await db.get(PracticeSession, session_id)

    async def pause(self, session_id: int, step: int, remaining_seconds: float) -> bool:
        return await self._switch(
            session_id,
            step,
            SessionStatus.ACTIVE,
            status=SessionStatus.PAUSED,
            hold_ends_at=None,
            remaining_seconds=remaining_seconds,
        )

    async def resume(self, session_id: int, step: int, hold_ends_at: datetime) -> bool:
        return await self._switch(
            session_id,
            step,
            SessionStatus.PAUSED,
            status=SessionStatus.ACTIVE,
            hold_ends_at=hold_ends_at,
            remaining_seconds=None,
        )

    async def _switch(
        self, session_id: int, step: int, from_status: SessionStatus, /, **values: object
    ) -> bool:
        async with self._sessions.begin() as db:
            switched = await db.execute(_on_step(session_id, step, from_status).values(**values))
            return switched.rowcount == 1

    async def confirm_cue(self, session_id: int, step: int, message_id: int) -> bool:
        """Remember the cue's message; False when the session has already moved past it."""
        async with self._sessions.begin() as db:
            confirmed = await db.execute(
                update(PracticeSession)
                .where(
                    PracticeSession.id == session_id,
                    PracticeSession.current_step == step,
                    PracticeSession.status.in_(OPEN_STATUSES),
                )
                .values(cue_message_id=message_id)
            )
            return confirmed.rowcount == 1

    async def record_easier(self, session_id: int, step: int, step_id: str, now: datetime) -> bool:
        """Record the reveal once per step; False when it was already revealed."""
        async with self._sessions.begin() as db:
            already = await db.scalar(
                select(func.count())
                .select_from(StepEvent)
                .where(
                    StepEvent.session_id == session_id,
                    StepEvent.step_index == step,
                    StepEvent.kind == EventKind.EASIER,
                )
            )
            if already:
                return False
            db.add(_event(session_id, step, step_id, EventKind.EASIER, now))
            return True

    async def easier_revealed(self, session_id: int, step: int) -> bool:
        async with self._sessions() as db:
            found = await db.scalar(
                select(StepEvent.id).where(
                    StepEvent.session_id == session_id,
                    StepEvent.step_index == step,
                    StepEvent.kind == EventKind.EASIER,
                )
            )
            return found is not None

    async def event_counts(self, session_id: int) -> dict[EventKind, int]:
        async with self._sessions() as db:
            rows = await db.execute(
                select(StepEvent.kind, func.count(func.distinct(StepEvent.step_index)))
                .where(StepEvent.session_id == session_id)
                .group_by(StepEvent.kind)
            )
            return {EventKind(kind): count for kind, count in rows.all()}


def _on_step(session_id: int, step: int, status: SessionStatus):  # type: ignore[no-untyped-def]
    return update(PracticeSession).where(
        PracticeSession.id == session_id,
        PracticeSession.current_step == step,
        PracticeSession.status == status,
    )


def _as_seen(seen: PracticeSession):  # type: ignore[no-untyped-def]
    # The cue's message id is part of what was seen: the caller retires those buttons, so a
    # cue confirmed meanwhile must make this update miss rather than leave them behind.
    return _on_step(seen.id, seen.current_step, seen.status).where(
        PracticeSession.cue_message_id.is_not_distinct_from(seen.cue_message_id)
    )


def _event(session_id: int, step: int, step_id: str, kind: EventKind, at: datetime) -> StepEvent:
    return StepEvent(session_id=session_id, step_index=step, step_id=step_id, kind=kind, at=at)
