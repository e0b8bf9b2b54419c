"""The practice engine: which cue comes next, when, and what is recorded.

Plain Python over the store; it never talks to Telegram. Every user action names the step
it was made on, and the engine refuses it unless that step is still the current one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.models import EventKind, PracticeSession, SessionStatus
from bot.store import PracticeStore
from sequences import Step, YogaClass

# A timer may fire a hair before its deadline; anything this close counts as due.
DUE_TOLERANCE = timedelta(milliseconds=5)
# A conditional update misses only when the row changed since it was read; a few fresh
# reads settle any race between a timer, a button and a cue being confirmed.
MAX_ATTEMPTS = 5


class StaleAction(Exception):
    """The button belongs to a pose that is over, or to someone else's practice."""


@dataclass(frozen=True)
class Cue:
    session_id: int
    index: int
    total: int
    step: Step
    hold_seconds: float
    easier_shown: bool = False
    paused: bool = False


@dataclass(frozen=True)
class Summary:
    class_title: str
    status: SessionStatus
    minutes: int
    poses_done: int
    total_poses: int
    easier_used: int
    # Only a finished class asks how the back feels afterwards; a stopped one may hurt.
    ask_after: bool = False


@dataclass(frozen=True)
class Transition:
    """What changed when the practice moved on: a new cue, or the end."""

    session_id: int
    chat_id: int
    previous_message_id: int | None
    cue: Cue | None = None
    deadline: datetime | None = None
    summary: Summary | None = None


@dataclass(frozen=True)
class Started:
    yoga_class: YogaClass
    cue: Cue
    deadline: datetime
    replaced: tuple[Transition, ...]


@dataclass(frozen=True)
class Pending:
    """An open session found at start-up, with what it needs to go on."""

    session_id: int
    chat_id: int
    index: int
    deadline: datetime | None
    cue_unconfirmed: bool


class PracticeEngine:
    def __init__(
        self,
        store: PracticeStore,
        catalog: dict[str, YogaClass],
        clock: Clock,
        time_scale: float = 1.0,
    ) -> None:
        if not catalog:
            raise ValueError("the catalog has no class")
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._scale = time_scale

    @property
    def default_class(self) -> YogaClass:
        return next(iter(self._catalog.values()))

    def hold_of(self, step: Step) -> float:
        return step.hold_seconds * self._scale

    async def start(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        class_id: str | None = None,
        *,
        back_before: int | None = None,
        checkin_message_id: int | None = None,
    ) -> Started:
        """Begin a class; a check-in message starts at most one (StaleAction on a repeat)."""
        yoga_class = self._catalog[class_id] if class_id else self.default_class
        now = self._clock()
        await self._store.upsert_user(user_id, chat_id, first_name, now)
        first = yoga_class.steps[0]
        deadline = now + timedelta(seconds=self.hold_of(first))
        # Created before the previous one closes, so a refused repeat leaves that one running.
        session = await self._store.create_session(
            user_id=user_id,
            chat_id=chat_id,
            class_id=yoga_class.id,
            first_step_id=first.id,
            now=now,
            hold_ends_at=deadline,
            back_before=back_before,
            checkin_message_id=checkin_message_id,
        )
        if session is None:
            raise StaleAction
        replaced = await self._close_others(user_id, keep=session.id)
        return Started(yoga_class, self._cue(session, yoga_class, 0), deadline, replaced)

    async def confirm_cue(self, session_id: int, index: int, message_id: int) -> bool:
        """Record that the cue reached the chat; False if the practice moved on meanwhile
        (a short hold ending while the send was under way), so its buttons are stale."""
        return await self._store.confirm_cue(session_id, index, message_id)

    async def next(self, user_id: int, session_id: int, index: int) -> Transition:
        session = await self._owned(user_id, session_id, index)
        transition = await self._move_on(session, skipped=True)
        if transition is None:
            raise StaleAction
        return transition

    async def advance_if_due(self, session_id: int, index: int) -> Transition | datetime | None:
        """The timer's entry: move on if the hold is over, else say when to look again."""
        session = await self._store.get_session(session_id)
        if (
            session is None
            or session.status != SessionStatus.ACTIVE
            or session.current_step != index
            or session.hold_ends_at is None
            or session.class_id not in self._catalog
        ):
            return None
        if session.hold_ends_at - self._clock() > DUE_TOLERANCE:
            return session.hold_ends_at
        return await self._move_on(session, skipped=False)

    async def reveal_easier(self, user_id: int, session_id: int, index: int) -> Cue:
        session = await self._owned(user_id, session_id, index)
        yoga_class = self._catalog[session.class_id]
        await self._store.record_easier(
            session_id, index, yoga_class.steps[index].id, self._clock()
        )
        return self._cue(session, yoga_class, index, easier_shown=True)

    async def pause(self, user_id: int, session_id: int, index: int) -> Cue:
        session = await self._owned(user_id, session_id, index)
        if session.status != SessionStatus.ACTIVE or session.hold_ends_at is None:
            raise StaleAction
        remaining = max(0.0, (session.hold_ends_at - self._clock()).total_seconds())
        if not await self._store.pause(session_id, index, remaining):
            raise StaleAction
        return await self.current_cue(session_id)

    async def resume(self, user_id: int, session_id: int, index: int) -> tuple[Cue, datetime]:
        session = await self._owned(user_id, session_id, index)
        if session.status != SessionStatus.PAUSED:
            raise StaleAction
        deadline = self._clock() + timedelta(seconds=session.remaining_seconds or 0.0)
        if not await self._store.resume(session_id, index, deadline):
            raise StaleAction
        return await self.current_cue(session_id), deadline

    async def stop(self, user_id: int, session_id: int, index: int) -> Transition:
        session = await self._owned(user_id, session_id, index)
        transition = await self._close(session, SessionStatus.STOPPED, skipped=False)
        if transition is None:
            raise StaleAction
        return transition

    async def abandon(self, session_id: int) -> None:
        """End a session the user can no longer receive (they blocked the bot)."""
        session = await self._store.get_session(session_id)
        if session is not None and session.status in (SessionStatus.ACTIVE, SessionStatus.PAUSED):
            await self._close(session, SessionStatus.STOPPED, skipped=False)

    async def current_cue(self, session_id: int) -> Cue:
        session = await self._store.get_session(session_id)
        if session is None or session.class_id not in self._catalog:
            raise StaleAction
        yoga_class = self._catalog[session.class_id]
        index = session.current_step
        return self._cue(
            session,
            yoga_class,
            index,
            easier_shown=await self._store.easier_revealed(session_id, index),
        )

    async def pending(self) -> list[Pending]:
        return [
            Pending(
                session_id=s.id,
                chat_id=s.chat_id,
                index=s.current_step,
                deadline=s.hold_ends_at if s.status == SessionStatus.ACTIVE else None,
                cue_unconfirmed=s.cue_message_id is None,
            )
            for s in await self._store.open_sessions()
            if s.class_id in self._catalog
        ]

    async def _owned(self, user_id: int, session_id: int, index: int) -> PracticeSession:
        session = await self._store.get_session(session_id)
        if (
            session is None
            or session.user_id != user_id
            or session.current_step != index
            or session.status not in (SessionStatus.ACTIVE, SessionStatus.PAUSED)
            or session.class_id not in self._catalog
        ):
            raise StaleAction
        return session

    async def _close_others(self, user_id: int, *, keep: int) -> tuple[Transition, ...]:
        """Stop every other open practice of the user: one class at a time. A close loses
        to a timer that moved that session on meanwhile, so look again until none is left."""
        closed: list[Transition] = []
        for _ in range(MAX_ATTEMPTS):
            others = [s for s in await self._store.open_sessions_of(user_id) if s.id != keep]
            if not others:
                break
            for other in others:
                transition = await self._close(other, SessionStatus.STOPPED, skipped=False)
                if transition is not None:
                    closed.append(transition)
        return tuple(closed)

    async def _move_on(self, session: PracticeSession, *, skipped: bool) -> Transition | None:
        return await self._until_settled(session, lambda s: self._try_move_on(s, skipped=skipped))

    async def _close(
        self, session: PracticeSession, status: SessionStatus, *, skipped: bool
    ) -> Transition | None:
        return await self._until_settled(
            session, lambda s: self._try_close(s, status, skipped=skipped)
        )

    async def _until_settled(
        self,
        session: PracticeSession,
        attempt: Callable[[PracticeSession], Awaitable[Transition | None]],
    ) -> Transition | None:
        """Run `attempt` on the session as last read. It misses when the row changed since;
        if only the cue's delivery was confirmed meanwhile (same step, same status), read
        the row again and retry. Any other change means someone else already acted."""
        for _ in range(MAX_ATTEMPTS):
            transition = await attempt(session)
            if transition is not None:
                return transition
            fresh = await self._store.get_session(session.id)
            if fresh is None or (fresh.current_step, fresh.status) != (
                session.current_step,
                session.status,
            ):
                return None
            session = fresh
        return None

    async def _try_move_on(self, session: PracticeSession, *, skipped: bool) -> Transition | None:
        yoga_class = self._catalog[session.class_id]
        index = session.current_step
        if index + 1 >= len(yoga_class.steps):
            return await self._close(session, SessionStatus.FINISHED, skipped=skipped)
        now = self._clock()
        following = yoga_class.steps[index + 1]
        deadline = now + timedelta(seconds=self.hold_of(following))
        moved = await self._store.move_to_step(
            session,
            to_step=index + 1,
            to_step_id=following.id,
            hold_ends_at=deadline,
            practised_seconds=session.practised_seconds + self._spent_on(session, yoga_class),
            skipped_step_id=yoga_class.steps[index].id if skipped else None,
            now=now,
        )
        if not moved:
            return None
        return Transition(
            session_id=session.id,
            chat_id=session.chat_id,
            previous_message_id=session.cue_message_id,
            cue=self._cue(session, yoga_class, index + 1),
            deadline=deadline,
        )

    async def _try_close(
        self, session: PracticeSession, status: SessionStatus, *, skipped: bool
    ) -> Transition | None:
        yoga_class = self._catalog.get(session.class_id)
        if yoga_class is None:
            return await self._close_orphan(session, status)
        practised = session.practised_seconds + self._spent_on(session, yoga_class)
        closed = await self._store.close_session(
            session,
            status=status,
            practised_seconds=practised,
            skipped_step_id=yoga_class.steps[session.current_step].id if skipped else None,
            now=self._clock(),
        )
        if not closed:
            return None
        counts = await self._store.event_counts(session.id)
        summary = Summary(
            class_title=yoga_class.title,
            status=status,
            minutes=round(practised / 60),
            poses_done=counts.get(EventKind.SHOWN, 0),
            total_poses=len(yoga_class.steps),
            easier_used=counts.get(EventKind.EASIER, 0),
            ask_after=status == SessionStatus.FINISHED,
        )
        return Transition(session.id, session.chat_id, session.cue_message_id, summary=summary)

    async def _close_orphan(
        self, session: PracticeSession, status: SessionStatus
    ) -> Transition | None:
        """End a session whose class file is gone: nothing left to time or summarise."""
        closed = await self._store.close_session(
            session,
            status=status,
            practised_seconds=session.practised_seconds,
            skipped_step_id=None,
            now=self._clock(),
        )
        return Transition(session.id, session.chat_id, session.cue_message_id) if closed else None

    def _spent_on(self, session: PracticeSession, yoga_class: YogaClass) -> float:
        """Seconds of the class's own time spent on the current step, whatever the scale."""
        step = yoga_class.steps[session.current_step]
        if session.status == SessionStatus.PAUSED:
            remaining = session.remaining_seconds or 0.0
        elif session.hold_ends_at is not None:
            remaining = max(0.0, (session.hold_ends_at - self._clock()).total_seconds())
        else:
            remaining = 0.0
        return min(step.hold_seconds, max(0.0, step.hold_seconds - remaining / self._scale))

    def _cue(
        self,
        session: PracticeSession,
        yoga_class: YogaClass,
        index: int,
        *,
        easier_shown: bool = False,
    ) -> Cue:
        step = yoga_class.steps[index]
        return Cue(
            session_id=session.id,
            index=index,
            total=len(yoga_class.steps),
            step=step,
            hold_seconds=step.hold_seconds,
            easier_shown=easier_shown,
            paused=session.status == SessionStatus.PAUSED and session.current_step == index,
        )
