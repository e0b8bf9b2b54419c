"""Practices and their step events.

A practice is read as a `PracticeState` (bot/practice/machine.py) and every change to it
is written by `save`: one conditional update on the version it was read at, with the step
events the change records. So a double tap, or a timer racing a button, changes the row
once, and the loser learns it lost from the row count (and decides again on a fresh read).
Reads and writes on the hot path are SQLAlchemy Core statements: a tap costs no ORM
identity map, no unit-of-work flush.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.database import changed_rows
from bot.models import (
    OPEN_STATUSES,
    ClassLength,
    EasierReason,
    EventKind,
    Practice,
    PracticeStatus,
    StepEvent,
    Surface,
)
from bot.pose_memory import LOOK_BACK, PastEvent, PastPractice, unpack
from bot.practice.machine import PracticeState, Record, Transition

_PRACTICES = cast(Table, Practice.__table__)
_EVENTS = cast(Table, StepEvent.__table__)
# A state's fields and the columns they are stored in.
_COLUMNS = {
    "id": _PRACTICES.c.id,
    "user_id": _PRACTICES.c.user_id,
    "chat_id": _PRACTICES.c.chat_id,
    "class_id": _PRACTICES.c.class_id,
    "status": _PRACTICES.c.status,
    "step": _PRACTICES.c.current_step,
    "hold_ends_at": _PRACTICES.c.hold_ends_at,
    "remaining_seconds": _PRACTICES.c.remaining_seconds,
    "extra_seconds": _PRACTICES.c.extra_seconds,
    "practised_seconds": _PRACTICES.c.practised_seconds,
    "question": _PRACTICES.c.question,
    "cue_message_id": _PRACTICES.c.cue_message_id,
    "cue_attempts": _PRACTICES.c.cue_attempts,
    "cue_retry_at": _PRACTICES.c.cue_retry_at,
    "gentle": _PRACTICES.c.gentle,
    "easier_from_start": _PRACTICES.c.easier_from_start,
    "pictures": _PRACTICES.c.pictures,
    "voice": _PRACTICES.c.voice,
    "class_length": _PRACTICES.c.class_length,
    "pace_factor": _PRACTICES.c.pace_factor,
    "toggle": _PRACTICES.c.step_toggle,
    "hurt_here": _PRACTICES.c.step_hurt,
    "finished_at": _PRACTICES.c.finished_at,
    "stop_reason": _PRACTICES.c.stop_reason,
    "summary_pending": _PRACTICES.c.summary_pending,
    "surface": _PRACTICES.c.surface,
    "note_message_id": _PRACTICES.c.note_message_id,
    "away": _PRACTICES.c.away,
    "version": _PRACTICES.c.version,
}
_SELECT_STATE = select(*_COLUMNS.values())
_SELECT_ONE = _SELECT_STATE.where(_PRACTICES.c.id == bindparam("practice_id"))
# What the rules may change; the rest of a practice is fixed when it starts.
_CHANGING = (
    "status",
    "step",
    "hold_ends_at",
    "remaining_seconds",
    "extra_seconds",
    "practised_seconds",
    "question",
    "cue_message_id",
    "cue_attempts",
    "cue_retry_at",
    "toggle",
    "hurt_here",
    "finished_at",
    "stop_reason",
    "summary_pending",
    "surface",
    "note_message_id",
    "away",
)
# One statement, built once, for every change: SQLAlchemy compiles and caches it once, so a
# tap pays for no statement building.
_SAVE = (
    update(_PRACTICES)
    .where(
        _PRACTICES.c.id == bindparam("seen_id"),
        _PRACTICES.c.version == bindparam("seen_version"),
    )
    .values(
        {
            _COLUMNS[name].name: bindparam(f"new_{name}", type_=_COLUMNS[name].type)
            for name in (*_CHANGING, "version")
        }
    )
)
_RECORD = insert(_EVENTS)


class PracticeRepository:
    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def get(self, practice_id: int) -> Practice | None:
        return await self._db.get(Practice, practice_id, populate_existing=True)

    async def state(self, practice_id: int) -> PracticeState | None:
        row = (await self._db.execute(_SELECT_ONE, {"practice_id": practice_id})).first()
        return None if row is None else _state(row)

    async def open_states(
        self, *, user_id: int | None = None, chat_id: int | None = None, lock: bool = False
    ) -> list[PracticeState]:
        """Open practices, of a user or in a chat or all, oldest first; with `lock`, held
        until the unit of work ends (on PostgreSQL; a SQLite writer holds the database)."""
        query = _SELECT_STATE.where(_PRACTICES.c.status.in_(OPEN_STATUSES))
        if user_id is not None:
            query = query.where(_PRACTICES.c.user_id == user_id)
        if chat_id is not None:
            query = query.where(_PRACTICES.c.chat_id == chat_id)
        if lock:
            query = query.with_for_update()
        rows = await self._db.execute(query.order_by(_PRACTICES.c.id))
        return [_state(row) for row in rows.all()]

    async def save(self, before: PracticeState, change: Transition, now: datetime) -> bool:
        """Write `change` if the practice is still at the version `before` was read at:
        its changed fields and the events it records, or nothing at all (False)."""
        after = change.state
        if after == before and not change.records:
            return True
        if any(
            getattr(after, name) != getattr(before, name)
            for name in _COLUMNS
            if name not in _CHANGING
        ):
            raise ValueError("only what a practice's rules change may change")
        values = {f"new_{name}": getattr(after, name) for name in _CHANGING}
        values |= {"seen_id": before.id, "seen_version": before.version}
        written = await self._db.execute(_SAVE, {**values, "new_version": before.version + 1})
        if changed_rows(written) != 1:
            return False
        if change.records:
            await self._db.execute(
                _RECORD,
                [
                    {
                        "session_id": before.id,
                        "step_index": record.step,
                        "step_id": record.step_id,
                        "kind": record.kind,
                        "at": record.at or now,
                    }
                    for record in change.records
                ],
            )
        return True

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
        # A pose in the player is shown there: its hold runs as a delivered cue's does.
        confirmed = Practice.cue_message_id.is_not(None) | (Practice.surface == Surface.PLAYER)
        unconfirmed = ~confirmed
        query = (
            select(Practice.id, Practice.current_step, Practice.chat_id, confirmed)
            .where(
                Practice.status == PracticeStatus.ACTIVE,
                Practice.hold_ends_at.is_not(None),
                (confirmed & (Practice.hold_ends_at < before))
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

    async def record(self, practice_id: int, records: Sequence[Record], now: datetime) -> None:
        """Step events of a practice, with no change to it (a pose shown as it starts)."""
        await self._db.execute(
            _RECORD,
            [
                {
                    "session_id": practice_id,
                    "step_index": record.step,
                    "step_id": record.step_id,
                    "kind": record.kind,
                    "at": record.at or now,
                }
                for record in records
            ],
        )

    async def players_seen(self, practice_ids: Collection[int], at: datetime) -> None:
        """The player of each practice was heard from at `at`: one statement for them all
        (a heartbeat writes nothing by itself; player/heartbeats.py gathers them)."""
        if practice_ids:
            await self._db.execute(
                update(_PRACTICES)
                .where(_PRACTICES.c.id.in_(list(practice_ids)))
                .values(player_seen_at=at)
                .execution_options(synchronize_session=False)
            )

    async def silent_players(self, before: datetime, limit: int) -> list[int]:
        """Practices running in a player not heard from since `before` (never, since it
        took them, counts from when it took them: see `Playing.play`)."""
        rows = await self._db.execute(
            select(_PRACTICES.c.id)
            .where(
                _PRACTICES.c.surface == Surface.PLAYER,
                _PRACTICES.c.status.in_(OPEN_STATUSES),
                _PRACTICES.c.away.is_(False),
                _PRACTICES.c.player_seen_at < before,
            )
            .order_by(_PRACTICES.c.player_seen_at)
            .limit(limit)
        )
        return [id_ for (id_,) in rows.all()]

    async def owing_summary(self) -> Sequence[Practice]:
        """Closed practices whose closing message was never delivered."""
        rows = await self._db.scalars(
            select(Practice).where(Practice.summary_pending.is_(True)).order_by(Practice.id)
        )
        return rows.all()

    async def owing_summary_states(self) -> list[PracticeState]:
        """Closed practices whose closing message was never delivered."""
        rows = await self._db.execute(
            _SELECT_STATE.where(_PRACTICES.c.summary_pending.is_(True)).order_by(_PRACTICES.c.id)
        )
        return [_state(row) for row in rows.all()]

    async def summary_shown(self, practice_id: int) -> None:
        # A change like any other: the version moves on.
        await self._db.execute(
            _update()
            .where(Practice.id == practice_id)
            .values(summary_pending=False, version=Practice.version + 1)
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
        voice: bool = False,
        surface: Surface = Surface.CHAT,
        plan_stage: int | None = None,
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
            voice=voice,
            surface=surface,
            player_seen_at=now if surface == Surface.PLAYER else None,
            plan_stage=plan_stage,
        )
        try:
            # A savepoint: a refused duplicate leaves the rest of the unit of work intact.
            async with self._db.begin_nested():
                self._db.add(practice)
                await self._db.flush()
        except IntegrityError:
            return None
        return practice

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


def state_of(practice: Practice) -> PracticeState:
    """The state of a practice read whole (as the ORM row)."""
    return _state({column.key: getattr(practice, column.key) for column in _COLUMNS.values()})


def _state(row: Row[Any] | dict[str, Any]) -> PracticeState:
    fields = dict(row._mapping) if isinstance(row, Row) else row
    values = {name: fields[column.key] for name, column in _COLUMNS.items()}
    values["easier_from_start"] = unpack(values["easier_from_start"] or "")
    return PracticeState(**values)


def _update() -> Update:
    # The caller keeps the row as it saw it (it retires that cue's buttons, records that
    # step's events); a conditional update must not rewrite it behind the caller's back.
    return update(Practice).execution_options(synchronize_session=False)


def _every_step(events: Sequence[PastEvent]) -> dict[str, EasierReason]:
    return {e.step_id: EasierReason.GENTLE for e in events if e.kind == EventKind.SHOWN}


def _event(practice_id: int, step: int, step_id: str, kind: EventKind, at: datetime) -> StepEvent:
    return StepEvent(practice_id=practice_id, step_index=step, step_id=step_id, kind=kind, at=at)
