"""Practices and their step events.

Moves that must not happen twice (advancing, pausing, finishing) are conditional updates
on the practice's current step, so a double tap or a timer racing a button changes the row
once and the loser learns it lost from the row count.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import (
    OPEN_STATUSES,
    ClassLength,
    EasierReason,
    EventKind,
    Practice,
    PracticeQuestion,
    PracticeStatus,
    StepEvent,
    StopReason,
)
from bot.pose_memory import LOOK_BACK, PastEvent, PastPractice, unpack


class PracticeRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def get(self, practice_id: int) -> Practice | None:
        return await self._db.get(Practice, practice_id, populate_existing=True)

    async def open_of(self, user_id: int, *, lock: bool = False) -> Sequence[Practice]:
        """The user's open practices; with `lock`, held until the unit of work ends."""
        return await self._open(Practice.user_id == user_id, lock=lock)

    async def open_in_chat(self, chat_id: int) -> Sequence[Practice]:
        return await self._open(Practice.chat_id == chat_id)

    async def all_open(self) -> Sequence[Practice]:
        return await self._open()

    async def _open(self, *where: ColumnElement[bool], lock: bool = False) -> Sequence[Practice]:
        query = select(Practice).where(Practice.status.in_(OPEN_STATUSES), *where)
        if lock:
            # SQLite has no row locks (a writing unit holds the whole database instead).
            query = query.with_for_update()
        return (await self._db.scalars(query.order_by(Practice.id))).all()

    async def overdue(self, before: datetime, limit: int) -> list[tuple[int, int, int, bool]]:
        """Active practices whose hold ended before `before`, or whose cue is not confirmed
        delivered and not waiting for its next try (a failed send's `cue_retry_at` after
        `before`), oldest deadline first: (id, step, chat id, cue confirmed). On PostgreSQL
        rows another worker is reading for the same purpose are skipped, so sweeping
        workers share the work instead of queueing on each other's row locks."""
        unconfirmed = Practice.cue_message_id.is_(None)
        query = (
            select(
                Practice.id,
                Practice.current_step,
                Practice.chat_id,
                Practice.cue_message_id.is_not(None),
            )
            .where(
                Practice.status == PracticeStatus.ACTIVE,
                Practice.hold_ends_at.is_not(None),
                (Practice.cue_message_id.is_not(None) & (Practice.hold_ends_at < before))
                | (
                    unconfirmed
                    & (Practice.cue_retry_at.is_(None) | (Practice.cue_retry_at < before))
                ),
            )
            .order_by(Practice.hold_ends_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._db.execute(query)
        return [(id_, step, chat, bool(confirmed)) for id_, step, chat, confirmed in rows.all()]

    async def owing_summary(self) -> Sequence[Practice]:
        """Closed practices whose closing message was never delivered."""
        rows = await self._db.scalars(
            select(Practice).where(Practice.summary_pending.is_(True)).order_by(Practice.id)
        )
        return rows.all()

    async def summary_shown(self, practice_id: int) -> None:
        await self._db.execute(
            _update().where(Practice.id == practice_id).values(summary_pending=False)
        )

    async def latest_of(self, user_id: int) -> Practice | None:
        """The open practice if there is one (it is always the newest), else the last one."""
        return await self._db.scalar(
            select(Practice)
            .where(Practice.user_id == user_id)
            .order_by(Practice.id.desc())
            .limit(1)
        )

    async def latest_of_each(self, user_ids: Collection[int]) -> dict[int, Practice]:
        """Each user's newest practice, in one query."""
        newest = (
            select(func.max(Practice.id))
            .where(Practice.user_id.in_(user_ids))
            .group_by(Practice.user_id)
        )
        rows = await self._db.scalars(select(Practice).where(Practice.id.in_(newest)))
        return {practice.user_id: practice for practice in rows}

    async def started_by(self, chat_id: int, checkin_message_id: int) -> bool:
        """A practice was started by this check-in message already."""
        found = await self._db.scalar(
            select(Practice.id).where(
                Practice.chat_id == chat_id, Practice.checkin_message_id == checkin_message_id
            )
        )
        return found is not None

    async def create(
        self,
        *,
        user_id: int,
        chat_id: int,
        class_id: str,
        now: datetime,
        hold_ends_at: datetime,
        back_before: int | None = None,
        checkin_message_id: int | None = None,
        gentle: bool = False,
        easier_from_start: str = "",
        class_length: ClassLength = ClassLength.FULL,
        pace_factor: float = 1.0,
        pictures: bool = True,
    ) -> Practice | None:
        """The new practice, or None when its check-in message already started one."""
        practice = Practice(
            user_id=user_id,
            chat_id=chat_id,
            class_id=class_id,
            status=PracticeStatus.ACTIVE,
            started_at=now,
            current_step=0,
            hold_ends_at=hold_ends_at,
            practised_seconds=0.0,
            back_before=back_before,
            checkin_message_id=checkin_message_id,
            gentle=gentle,
            easier_from_start=easier_from_start,
            question=None,
            class_length=class_length,
            pace_factor=pace_factor,
            extra_seconds=0.0,
            pictures=pictures,
        )
        try:
            # A savepoint: a refused duplicate leaves the rest of the unit of work intact.
            async with self._db.begin_nested():
                self._db.add(practice)
                await self._db.flush()
        except IntegrityError:
            return None
        return practice

    async def move_to_step(
        self,
        seen: Practice,
        *,
        to_step: int,
        hold_ends_at: datetime,
        practised_seconds: float,
        skipped_step_id: str | None,
        now: datetime,
    ) -> bool:
        """Advance one step if the practice is still exactly as the caller saw it."""
        return await self._settle(
            seen,
            dict(
                current_step=to_step,
                status=PracticeStatus.ACTIVE,
                hold_ends_at=hold_ends_at,
                remaining_seconds=None,
                cue_message_id=None,
                cue_attempts=0,
                cue_retry_at=None,
                practised_seconds=practised_seconds,
                question=None,
                extra_seconds=0.0,
            ),
            skipped_step_id=skipped_step_id,
            now=now,
        )

    async def close(
        self,
        seen: Practice,
        *,
        status: PracticeStatus,
        practised_seconds: float,
        skipped_step_id: str | None,
        now: datetime,
        announce: bool = False,
        stop_reason: StopReason | None = None,
    ) -> bool:
        """End the practice if it is still exactly as the caller saw it; with `announce`,
        its closing message is owed to the user until `summary_shown`."""
        return await self._settle(
            seen,
            dict(
                status=status,
                finished_at=now,
                hold_ends_at=None,
                remaining_seconds=None,
                practised_seconds=practised_seconds,
                summary_pending=announce,
                question=None,
                stop_reason=stop_reason,
            ),
            skipped_step_id=skipped_step_id,
            now=now,
        )

    async def _settle(
        self,
        seen: Practice,
        values: dict[str, object],
        *,
        skipped_step_id: str | None,
        now: datetime,
    ) -> bool:
        """Apply `values` and record a skip, or nothing at all when the row changed since
        the caller read it."""
        updated = await self._db.execute(_as_seen(seen).values(**values))
        if changed_rows(updated) != 1:
            return False
        if skipped_step_id is not None:
            self._db.add(
                _event(seen.id, seen.current_step, skipped_step_id, EventKind.SKIPPED, now)
            )
        await self._db.flush()
        return True

    async def record_back_after(
        self, user_id: int, practice_id: int, score: int
    ) -> Practice | None:
        """Store the after-practice score once, on the user's own finished practice; the
        updated practice, or None when refused (not theirs, not finished, already answered)."""
        stored = await self._db.execute(
            _update()
            .where(
                Practice.id == practice_id,
                Practice.user_id == user_id,
                Practice.status == PracticeStatus.FINISHED,
                Practice.back_after.is_(None),
            )
            .values(back_after=score)
        )
        if changed_rows(stored) != 1:
            return None
        return await self.get(practice_id)

    async def ask(
        self, seen: Practice, question: PracticeQuestion, remaining_seconds: float
    ) -> bool:
        """Stop the clock (if it runs) and ask `question`, if the practice is still exactly
        as the caller saw it."""
        asked = await self._db.execute(
            _as_seen(seen).values(
                status=PracticeStatus.PAUSED,
                hold_ends_at=None,
                remaining_seconds=remaining_seconds,
                question=question,
            )
        )
        return changed_rows(asked) == 1

    async def reopen(self, seen: Practice, hold_ends_at: datetime) -> bool:
        """A stopped practice goes on where it stopped, with that pose's cue sent afresh."""
        reopened = await self._db.execute(
            _as_seen(seen).values(
                status=PracticeStatus.ACTIVE,
                finished_at=None,
                hold_ends_at=hold_ends_at,
                remaining_seconds=None,
                cue_message_id=None,
                cue_attempts=0,
                cue_retry_at=None,
                summary_pending=False,
                stop_reason=None,
                question=None,
                extra_seconds=0.0,
            )
        )
        return changed_rows(reopened) == 1

    async def pause(self, practice_id: int, step: int, remaining_seconds: float) -> bool:
        return await self._switch(
            practice_id,
            step,
            PracticeStatus.ACTIVE,
            status=PracticeStatus.PAUSED,
            hold_ends_at=None,
            remaining_seconds=remaining_seconds,
        )

    async def resume(self, practice_id: int, step: int, hold_ends_at: datetime) -> bool:
        return await self._switch(
            practice_id,
            step,
            PracticeStatus.PAUSED,
            status=PracticeStatus.ACTIVE,
            hold_ends_at=hold_ends_at,
            remaining_seconds=None,
            question=None,
        )

    async def _switch(
        self, practice_id: int, step: int, from_status: PracticeStatus, /, **values: object
    ) -> bool:
        switched = await self._db.execute(_on_step(practice_id, step, from_status).values(**values))
        return changed_rows(switched) == 1

    async def confirm_cue(
        self,
        practice_id: int,
        step: int,
        step_id: str,
        message_id: int,
        *,
        now: datetime,
        hold_ends_at: datetime,
    ) -> bool:
        """Remember the cue's message; False when the practice has already moved past it.

        The first confirmation of a step records it as shown. If the cue arrives late (after
        failed sends, or re-sent after a restart past its deadline), its hold starts again
        at `hold_ends_at`: the user has the whole hold with the pose, however late it came.
        A later confirmation (the cue sent afresh) only replaces the message."""
        on_step = (
            Practice.id == practice_id,
            Practice.current_step == step,
            Practice.status.in_(OPEN_STATUSES),
        )
        first = await self._db.execute(
            _update()
            .where(*on_step, Practice.cue_message_id.is_(None))
            .values(
                cue_message_id=message_id,
                cue_attempts=0,
                cue_retry_at=None,
                hold_ends_at=case(
                    (
                        (Practice.status == PracticeStatus.ACTIVE)
                        & ((Practice.cue_attempts > 0) | (Practice.hold_ends_at <= now)),
                        hold_ends_at,
                    ),
                    else_=Practice.hold_ends_at,
                ),
            )
        )
        if changed_rows(first) == 1:
            self._db.add(_event(practice_id, step, step_id, EventKind.SHOWN, now))
            await self._db.flush()
            return True
        again = await self._db.execute(_update().where(*on_step).values(cue_message_id=message_id))
        return changed_rows(again) == 1

    async def cue_failed(self, practice_id: int, step: int) -> Practice | None:
        """Count a failed send of the step's cue; the practice as it is now, or None when
        it has moved on or the cue was delivered meanwhile. Its next try is `retry_cue_at`'s."""
        counted = await self._db.execute(
            _update()
            .where(
                Practice.id == practice_id,
                Practice.current_step == step,
                Practice.status.in_(OPEN_STATUSES),
                Practice.cue_message_id.is_(None),
            )
            .values(cue_attempts=Practice.cue_attempts + 1)
        )
        return await self.get(practice_id) if changed_rows(counted) == 1 else None

    async def retry_cue_at(self, practice_id: int, step: int, at: datetime) -> None:
        """When the step's cue, not delivered yet, is sent again (by whichever worker)."""
        await self._db.execute(
            _update()
            .where(
                Practice.id == practice_id,
                Practice.current_step == step,
                Practice.cue_message_id.is_(None),
            )
            .values(cue_retry_at=at)
        )

    async def record_once(
        self, practice_id: int, step: int, step_id: str, kind: EventKind, now: datetime
    ) -> bool:
        """Record `kind` for the step once; False when it was already recorded."""
        if kind in await self.events_at(practice_id, step):
            return False
        await self.record(practice_id, step, step_id, kind, now)
        return True

    async def record(
        self, practice_id: int, step: int, step_id: str, kind: EventKind, now: datetime
    ) -> None:
        self._db.add(_event(practice_id, step, step_id, kind, now))
        await self._db.flush()

    async def events_at(self, practice_id: int, step: int) -> list[EventKind]:
        """The step's events in the order they happened."""
        kinds = await self._db.scalars(
            select(StepEvent.kind)
            .where(StepEvent.practice_id == practice_id, StepEvent.step_index == step)
            .order_by(StepEvent.id)
        )
        return [EventKind(kind) for kind in kinds]

    async def past_practices(self, user_id: int, class_id: str) -> list[PastPractice]:
        """The user's last few practices of the class with their step events, for the pose
        memory (bot.pose_memory)."""
        practices = list(
            await self._db.scalars(
                select(Practice)
                .where(Practice.user_id == user_id, Practice.class_id == class_id)
                .order_by(Practice.id.desc())
                .limit(LOOK_BACK)
            )
        )
        rows = await self._db.execute(
            select(StepEvent.practice_id, StepEvent.step_id, StepEvent.kind)
            .where(StepEvent.practice_id.in_([p.id for p in practices]))
            .order_by(StepEvent.id)
        )
        events: dict[int, list[PastEvent]] = {p.id: [] for p in practices}
        for practice_id, step_id, kind in rows.all():
            events[practice_id].append(PastEvent(practice_id, step_id, EventKind(kind)))
        return [
            PastPractice(
                p.id,
                # A gentle practice showed every pose it reached in its easier version.
                _every_step(events[p.id]) if p.gentle else unpack(p.easier_from_start),
                events[p.id],
            )
            for p in practices
        ]

    async def add_time(self, seen: Practice, class_seconds: float, clock_seconds: float) -> bool:
        """More time on the current hold (+15 s), if the practice is still as seen."""
        values: dict[str, object] = {"extra_seconds": Practice.extra_seconds + class_seconds}
        if seen.status == PracticeStatus.PAUSED:
            values["remaining_seconds"] = Practice.remaining_seconds + clock_seconds
        elif seen.hold_ends_at is not None:
            values["hold_ends_at"] = seen.hold_ends_at + timedelta(seconds=clock_seconds)
        added = await self._db.execute(_as_seen(seen).values(**values))
        return changed_rows(added) == 1

    async def previous_of(self, user_id: int, practice_id: int) -> Practice | None:
        """The user's practice before this one."""
        return await self._db.scalar(
            select(Practice)
            .where(Practice.user_id == user_id, Practice.id < practice_id)
            .order_by(Practice.id.desc())
            .limit(1)
        )

    async def latest_stopped(self, user_id: int) -> Practice | None:
        """The user's newest practice, if it is a stopped one."""
        latest = await self.latest_of(user_id)
        return latest if latest is not None and latest.status == PracticeStatus.STOPPED else None

    async def event_counts(self, practice_id: int) -> dict[EventKind, int]:
        rows = await self._db.execute(
            select(StepEvent.kind, func.count(func.distinct(StepEvent.step_index)))
            .where(StepEvent.practice_id == practice_id)
            .group_by(StepEvent.kind)
        )
        return {EventKind(kind): count for kind, count in rows.all()}


def _update() -> Update:
    # The caller keeps the row as it saw it (it retires that cue's buttons, records that
    # step's events); a conditional update must not rewrite it behind the caller's back.
    return update(Practice).execution_options(synchronize_session=False)


def _on_step(practice_id: int, step: int, status: PracticeStatus) -> Update:
    return _update().where(
        Practice.id == practice_id,
        Practice.current_step == step,
        Practice.status == status,
    )


def _as_seen(seen: Practice) -> Update:
    # The cue's message id is part of what was seen: the caller retires those buttons, so a
    # cue confirmed meanwhile must make this update miss rather than leave them behind.
    return _on_step(seen.id, seen.current_step, seen.status).where(
        Practice.cue_message_id.is_not_distinct_from(seen.cue_message_id)
    )


def _every_step(events: Sequence[PastEvent]) -> dict[str, EasierReason]:
    return {e.step_id: EasierReason.GENTLE for e in events if e.kind == EventKind.SHOWN}


def _event(practice_id: int, step: int, step_id: str, kind: EventKind, at: datetime) -> StepEvent:
    return StepEvent(practice_id=practice_id, step_index=step, step_id=step_id, kind=kind, at=at)
