"""The stored shape of users, their practices and what happened at each step.

A practice is one run of a class by a user; its table keeps the older name
`practice_sessions` (and `session_id` columns point at it), so the schema needs no rename.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# The words of a practice belong to its rules (bot/practice/machine.py); the tables store them.
from bot.practice.machine import OPEN_STATUSES as OPEN_STATUSES
from bot.practice.machine import EasierReason as EasierReason
from bot.practice.machine import EventKind as EventKind
from bot.practice.machine import PracticeQuestion as PracticeQuestion
from bot.practice.machine import PracticeStatus as PracticeStatus
from bot.practice.machine import StopReason as StopReason
from bot.practice.machine import Surface as Surface
from bot.programme.rules import Goal as Goal
from bot.programme.rules import NextDay as NextDay
from bot.programme.rules import PauseWhy as PauseWhy


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ScreenAnswer(enum.StrEnum):
    """The answer to the red-flag screen (bot.safety)."""

    CLEAR = "clear"
    SEE_CLINICIAN = "clinician"
    URGENT = "urgent"


class ClassLength(enum.StrEnum):
    FULL = "full"
    # The steps a class file marks `short: true`.
    SHORT = "short"


class Pace(enum.StrEnum):
    SLOW = "slow"
    NORMAL = "normal"
    QUICK = "quick"


class Pictures(enum.StrEnum):
    """Cues with a picture of the pose, or text only (stored as users.pictures)."""

    ON = "on"
    OFF = "off"


class Voice(enum.StrEnum):
    """Cues spoken aloud (an audio message with the pose picture as its cover), or silent
    (stored as users.voice). Named apart from Pictures' values: /settings' buttons name a
    value by itself."""

    ON = "spoken"
    OFF = "silent"


class EasierMode(enum.StrEnum):
    """When a cue shows its pose's easier version from the start."""

    # Only when the user taps Easier option (a pose that hurt last time still comes gentler).
    AS_ASKED = "as_asked"
    # As the user's history says (bot.pose_memory).
    REMEMBERED = "remembered"
    ALWAYS = "always"


def _enum_column(enum_type: type[enum.StrEnum]) -> Enum:
    # Stored as short strings (the values), so new members need no ALTER on any database.
    return Enum(
        enum_type, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # IANA zone name; NULL means the deployment's DEFAULT_TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set while the bot waits for the text of a /feedback sent without one.
    awaiting_feedback_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The message that asked for that text, so it can say so once the request has expired.
    feedback_prompt_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The red-flag screen: the last answer and when it was given (bot.safety).
    screen_answer: Mapped[ScreenAnswer | None] = mapped_column(
        _enum_column(ScreenAnswer), default=None
    )
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # /settings (bot.user_settings); every practice takes them as it starts.
    class_length: Mapped[ClassLength] = mapped_column(
        _enum_column(ClassLength), default=ClassLength.FULL, server_default=ClassLength.FULL.value
    )
    pace: Mapped[Pace] = mapped_column(
        _enum_column(Pace), default=Pace.NORMAL, server_default=Pace.NORMAL.value
    )
    easier_mode: Mapped[EasierMode] = mapped_column(
        _enum_column(EasierMode),
        default=EasierMode.REMEMBERED,
        server_default=EasierMode.REMEMBERED.value,
    )
    # The slow pace was suggested once (after extra time on many poses); never again.
    slow_pace_suggested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # /settings: each cue with a picture of its pose, or text only.
    pictures: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    voice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    practices: Mapped[list[Practice]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Practice(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        Index("ix_practice_sessions_user_status", "user_id", "status"),
        # One practice per check-in message: a double tap on its buttons cannot start two.
        Index("ux_practice_sessions_checkin", "chat_id", "checkin_message_id", unique=True),
        # Each worker's sweep for deadlines nobody's timer took: a range scan by status.
        Index("ix_practice_sessions_deadline", "status", "hold_ends_at"),
        # The sweep for players not heard from: open practices in the player, by status.
        Index("ix_practice_sessions_surface", "surface", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    class_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[PracticeStatus] = mapped_column(_enum_column(PracticeStatus))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    # The deadline is stored, not kept in a timer, so a restart can re-arm it.
    hold_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    remaining_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    # NULL until the current cue is confirmed delivered; a restart re-sends only unconfirmed cues.
    cue_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Failed sends of the current cue so far: each doubles the wait before the next one.
    cue_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the current cue, not delivered yet, is sent again (after a failed send): by this
    # worker's timer, or by any worker's sweep if that timer is gone. NULL while no send
    # has failed.
    cue_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A finished or stopped practice whose closing message has not been delivered yet; a
    # restart sends it (at least once), so the user always hears how the class went.
    summary_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    practised_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Back check-ins, 0-10, before the first cue and after the closing message.
    back_before: Mapped[int | None] = mapped_column(Integer, default=None)
    back_after: Mapped[int | None] = mapped_column(Integer, default=None)
    # The check-in question whose answer started this practice, when one did.
    checkin_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Started as a gentle practice (a sore day): every pose in its easier version.
    gentle: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Steps (ids, comma-separated) shown in their easier version from the start because the
    # user's history says so (bot.pose_memory); fixed when the practice starts.
    easier_from_start: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What the practice is asking while its clock is stopped, if anything.
    question: Mapped[PracticeQuestion | None] = mapped_column(
        _enum_column(PracticeQuestion), default=None
    )
    stop_reason: Mapped[StopReason | None] = mapped_column(_enum_column(StopReason), default=None)
    # The settings the practice started with: which steps it runs, and how long each hold is.
    class_length: Mapped[ClassLength] = mapped_column(
        _enum_column(ClassLength), default=ClassLength.FULL, server_default=ClassLength.FULL.value
    )
    pace_factor: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    # Seconds (class time) added to the current step's hold with +15 s; 0 on a new step.
    extra_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Cues come with a picture of their pose (the user's setting as the practice started).
    pictures: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    voice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The current step's last Easier option / Usual version, and whether it hurt: what its
    # cue shows, kept here so drawing it needs no look at the step events.
    step_toggle: Mapped[EventKind | None] = mapped_column(_enum_column(EventKind), default=None)
    step_hurt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Where it is followed (the chat, or the player); in the player, the chat's one message
    # about it, and whether the player is gone since the practice paused for it.
    surface: Mapped[Surface] = mapped_column(
        _enum_column(Surface), default=Surface.CHAT, server_default=Surface.CHAT.value
    )
    note_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the player last said it is open (its heartbeats, written a batch at a time by
    # whichever worker heard them: player/heartbeats.py); NULL outside the player.
    player_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The plan's stage it ran at (bot/programme/rules.py), or NULL: outside a plan, or easier
    # than the stage (the user's own settings, or a gentle practice).
    plan_stage: Mapped[int | None] = mapped_column(Integer, default=None)
    # One more with every change: a change is written only onto the state it was decided
    # from (bot/practice/machine.py decides, one conditional update writes).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    user: Mapped[User] = relationship(back_populates="practices")
    events: Mapped[list[StepEvent]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", passive_deletes=True
    )


class StepEvent(Base):
    __tablename__ = "step_events"
    __table_args__ = (Index("ix_step_events_session", "session_id", "step_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        "session_id", ForeignKey("practice_sessions.id", ondelete="CASCADE")
    )
    step_index: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[EventKind] = mapped_column(_enum_column(EventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship(back_populates="events")


class Reminder(Base):
    """One daily schedule per user; `next_due_at` is what the reminder tick selects on."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "enabled", "next_due_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    # An APScheduler day_of_week expression: "*" or e.g. "mon,wed,fri".
    days: Mapped[str] = mapped_column(String(32), default="*")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The local date (YYYY-MM-DD) whose reminder was claimed; written before the send so a
    # crash after sending cannot lead to a second reminder that day.
    claimed_for: Mapped[str | None] = mapped_column(String(10), default=None)
    # Set when next_due_at re-delivers that local date's reminder (a snooze or a retry after a
    # network error) rather than a new day's; NULL for a regular occurrence.
    repeat_of: Mapped[str | None] = mapped_column(String(10), default=None)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ProgrammeEventKind(enum.StrEnum):
    PAUSED = "paused"
    RESUMED = "resumed"
    NEXT_DAY = "next_day"


class Plan(Base):
    """A user's programme over weeks (/plan): one row per user, kept when stopped so a
    restart is a new start. Its stage is not stored: it is replayed from the practices and
    events since `started_at` (bot/programme/rules.py)."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_next_day_due", "next_day_due_at"),
        Index("ix_plans_summary_due", "summary_due_at"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    class_id: Mapped[str] = mapped_column(String(64))
    goal: Mapped[Goal] = mapped_column(_enum_column(Goal))
    # An APScheduler day_of_week expression, as reminders keep theirs: "mon,thu", "*".
    days: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The user's own date it began (YYYY-MM-DD): week 1 is its first seven days, whatever
    # zone the user moves to later.
    started_on: Mapped[str] = mapped_column(String(10))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The weekly summary's day, 0 Monday to 6 Sunday.
    summary_day: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    # The next-day check: when it is due and the practice it asks about; claimed (set to
    # NULL) before it is sent, so it is sent at most once.
    next_day_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_day_practice_id: Mapped[int | None] = mapped_column(Integer, default=None)
    summary_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Weeks in a row with no practice, as of the last summary: one kind note, not a nag.
    quiet_weeks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProgrammeEvent(Base):
    """What the plan heard besides practices: a pause, a resume, a next-day answer."""

    __tablename__ = "programme_events"
    __table_args__ = (
        Index("ix_programme_events_user_at", "user_id", "at"),
        # One next-day answer per practice: a second tap on the same question changes nothing.
        Index("ux_programme_events_practice_kind", "practice_id", "kind", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ProgrammeEventKind] = mapped_column(_enum_column(ProgrammeEventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), default=None
    )
    # The answer (NextDay) or why it paused (PauseWhy).
    value: Mapped[str | None] = mapped_column(String(16), default=None)


class SendSecond(Base):
    """How many counted Bot API calls every worker together made in one wall-clock second
    (bot/store/send_budget.py): Telegram's 30 a second is the bot's, not each worker's."""

    __tablename__ = "send_seconds"

    # Whole seconds since the epoch, UTC.
    second: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer)


class HandledUpdate(Base):
    """A webhook update some worker took to handle (bot/handled_updates.py): Telegram may
    deliver one update more than once, and every worker checks here before handling it."""

    __tablename__ = "handled_updates"
    __table_args__ = (Index("ix_handled_updates_claimed", "claimed_at"),)

    # Telegram's update_id: unique per bot.
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # When a worker took it; a later one takes it over once this is CLAIM_TIMEOUT old and
    # handled_at is still NULL (that worker is taken to have died).
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class UploadedPicture(Base):
    """A pose picture Telegram already has: later sends use its file_id, not the bytes.
    Until it has one, the row is a claim: the worker named uploads it, the others wait."""

    __tablename__ = "uploaded_pictures"

    # The picture's content hash (bot.pictures), so a redrawn figure is uploaded afresh.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    file_id: Mapped[str | None] = mapped_column(String(256), default=None)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The upload that claimed it (bot.uploads: its worker and number), and until when the
    # others wait for it: a worker that died mid-upload holds it no longer than that.
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    # Context: the practice and pose the user was on (or their last one), when known.
    practice_id: Mapped[int | None] = mapped_column(
        "session_id", ForeignKey("practice_sessions.id", ondelete="SET NULL"), default=None
    )
    class_id: Mapped[str | None] = mapped_column(String(64), default=None)
    step_index: Mapped[int | None] = mapped_column(Integer, default=None)
    step_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The copy forwarded to FEEDBACK_CHAT_ID, once Telegram confirmed it: /forget_me deletes
    # it there too. The chat is kept with it, as FEEDBACK_CHAT_ID may change later.
    copy_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    copy_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
