"""The safety rules: the red-flag screen, the pain gate before a class, the reading of the
check-in after it, and the words that mean something hurts.

The bot is not a clinician and never diagnoses; every rule here errs towards caution.

Sources:
- NICE guideline NG59, "Low back pain and sciatica in over 16s" (2016, updated 2020):
  exercise, including yoga, is a first-line treatment (1.2.1-1.2.2), once serious causes
  have been thought of (1.1.1: "alternative diagnoses", the red flags).
- The NHS red-flag lists for back pain ("Back pain", nhs.uk, When to get medical help), and
  the cauda equina syndrome signs that NHS services treat as an emergency (GIRFT national
  pathway for suspected CES, 2023): numbness around the groin, buttocks or inner thighs
  ("saddle" numbness), new trouble with the bladder or bowels, legs growing weak quickly.
- The pain-monitoring model physiotherapists use (Thomeé 1997; Silbernagel et al. 2007):
  pain 0-2 is safe, up to 5 is acceptable if it settles by the next day, above 5 means
  modify or stop. We read 0-5 as "go", above 5 as "modify", and a rise of 3 or more after
  practice as a sign the class was too much that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from bot.clock import Clock
from bot.emergency import UNKNOWN, EmergencyNumber, emergency_number
from bot.models import ScreenAnswer
from bot.programme.pause import pause_for_sign
from bot.store import Store
from bot.timezones import user_zone

# NICE NG59 asks for reassessment when things change; we ask the screen again after this.
SCREEN_VALID_FOR = timedelta(days=90)

# Pain-monitoring model: up to 5/10 is acceptable, above it the practice is modified.
ACCEPTABLE_PAIN = 5
# 6-7 is a sore day (a gentle practice is offered); from 8 rest is recommended.
REST_FROM = 8
# A rise this large after practice is more than ordinary stiffness: say so, and be gentler
# next time.
NOTABLE_RISE = 3

# Words that mean something hurts, matched at the start of a word and case-insensitively
# ("hurts", "Painful", "OUCH"). Extend here; nerve words also bring the advice to stop.
PAIN_WORDS = ("hurt", "pain", "ouch", "sore", "sharp", "ache", "aching", "stab", "burn")
NERVE_WORDS = ("numb", "tingl", "pins and needles")


class ScreenStatus(StrEnum):
    """Where the user stands with the red-flag screen today."""

    # Never answered, answered too long ago, or a sign was reported on an earlier day.
    DUE = "due"
    CLEAR = "clear"
    # A sign that needs a clinician was reported today: nothing harder than rest today.
    SEE_CLINICIAN_TODAY = "clinician_today"
    # An emergency sign was reported today: urgent care, no class.
    URGENT_TODAY = "urgent_today"


def screen_status(
    answer: ScreenAnswer | None, answered_at: datetime | None, now: datetime, zone: tzinfo
) -> ScreenStatus:
    if answer is None or answered_at is None:
        return ScreenStatus.DUE
    if answer == ScreenAnswer.CLEAR:
        return ScreenStatus.CLEAR if now - answered_at < SCREEN_VALID_FOR else ScreenStatus.DUE
    # A sign reported today holds for the rest of the user's day; on a later day the screen
    # is asked again (a clinician may have seen them meanwhile).
    if answered_at.astimezone(zone).date() != now.astimezone(zone).date():
        return ScreenStatus.DUE
    if answer == ScreenAnswer.URGENT:
        return ScreenStatus.URGENT_TODAY
    return ScreenStatus.SEE_CLINICIAN_TODAY


class PainSignal(StrEnum):
    PAIN = "pain"
    # Numbness or tingling: a nerve sign, so stopping comes first.
    NERVE = "nerve"


_NERVE = re.compile(r"\b(?:" + "|".join(map(re.escape, NERVE_WORDS)) + ")", re.IGNORECASE)
_PAIN = re.compile(r"\b(?:" + "|".join(map(re.escape, PAIN_WORDS)) + ")", re.IGNORECASE)


def pain_in(text: str) -> PainSignal | None:
    """What the words say about pain, if anything. "No pain" still counts: better to ask
    once too often than to miss it."""
    if _NERVE.search(text):
        return PainSignal.NERVE
    if _PAIN.search(text):
        return PainSignal.PAIN
    return None


# The signs the red-flag screen asks about, in the words every surface shows them in (the
# chat, handlers/render/safety.py; the player).
# The cauda equina syndrome signs that NHS services treat as an emergency (GIRFT national
# pathway for suspected cauda equina syndrome; NHS, "Back pain", when to get medical help).
EMERGENCY_SIGNS = (
    "New numbness around your groin, buttocks or inner thighs",
    "New trouble controlling your bladder or bowels",
    "Legs that are quickly getting weaker",
)
# The other red flags: NHS, "Back pain — when to get medical help" (nhs.uk), and NICE NG59
# 1.1.1 (think of other causes before treating low back pain).
OTHER_SIGNS = (
    "Pain that began after a fall or accident",
    "Fever, or feeling generally unwell",
    "Weight loss you can't explain",
    "Having had cancer",
    "Pain that is constant and worse at night",
    "Back pain that is new, and you're under 20 or over 55",
)


class Gate(StrEnum):
    """What the before-practice check-in leads to."""

    BEGIN = "begin"
    # 0-5, but the back felt worse after the last practice: the gentle practice is offered.
    SUGGEST_GENTLE = "suggest_gentle"
    # 6-7: a sore day. Gentle practice or not today.
    SORE_DAY = "sore_day"
    # 8-10: rest and gentle movement are recommended; gentle practice anyway, or not today.
    REST_DAY = "rest_day"


def gate(score: int | None, *, felt_worse_last_time: bool = False) -> Gate:
    """A skipped check-in begins as usual: the user chose not to say, and every pose still
    has its easier option and the It hurts button."""
    if score is not None and score >= REST_FROM:
        return Gate.REST_DAY
    if score is not None and score > ACCEPTABLE_PAIN:
        return Gate.SORE_DAY
    return Gate.SUGGEST_GENTLE if felt_worse_last_time else Gate.BEGIN


class AfterVerdict(StrEnum):
    """How the back feels after practice, read with the pain-monitoring model."""

    BETTER = "better"
    FINE = "fine"
    # Above 5, or 3 or more points above before: rest, a clinician if it persists, and a
    # gentler practice next time.
    WORSE = "worse"


def after_verdict(before: int | None, after: int) -> AfterVerdict:
    rise = after - before if before is not None else 0
    if after > ACCEPTABLE_PAIN or rise >= NOTABLE_RISE:
        return AfterVerdict.WORSE
    if before is not None and after < before:
        return AfterVerdict.BETTER
    return AfterVerdict.FINE


def felt_worse(before: int | None, after: int | None) -> bool:
    """A practice with this check-in left the back worse: the next one starts gentler."""
    return after is not None and after_verdict(before, after) == AfterVerdict.WORSE


@dataclass(frozen=True)
class ScreenState:
    status: ScreenStatus
    answer: ScreenAnswer | None
    # The user's own day of the answer (in their zone), for "Last answer: ..., on 3 Nov".
    answered_on: date | None
    # The screen was clear already when this answer came (a second tap on None of these).
    was_clear: bool = False
    # Whom to call for an emergency sign, for the country of the user's own zone.
    emergency: EmergencyNumber = UNKNOWN


class SafetyService:
    """The red-flag screen's answers, stored with their date."""

    def __init__(self, store: Store, clock: Clock, default_timezone: str) -> None:
        self._store = store
        self._clock = clock
        self._default_zone = default_timezone

    async def answer(
        self, user_id: int, chat_id: int, first_name: str, answer: ScreenAnswer
    ) -> ScreenState:
        now = self._clock()
        async with self._store.write() as uow:
            before = await uow.users.get(user_id)
            zone = user_zone(before.timezone if before else None, self._default_zone)
            was_clear = before is not None and (
                screen_status(before.screen_answer, before.screened_at, now, zone)
                == ScreenStatus.CLEAR
            )
            await uow.users.save(user_id, chat_id, first_name, now)
            await uow.users.set_screen(user_id, answer, now)
            # A sign pauses the user's plan over weeks, in the same unit of work.
            await pause_for_sign(uow, user_id, answer, now)
        status = screen_status(answer, now, now, zone)
        return ScreenState(
            status,
            answer,
            now.astimezone(zone).date(),
            was_clear=was_clear,
            emergency=emergency_number(before.timezone if before else None),
        )

    async def state(self, user_id: int) -> ScreenState:
        async with self._store.read() as uow:
            user = await uow.users.get(user_id)
        if user is None or user.screened_at is None:
            return ScreenState(ScreenStatus.DUE, None, None)
        zone = user_zone(user.timezone, self._default_zone)
        status = screen_status(user.screen_answer, user.screened_at, self._clock(), zone)
        return ScreenState(
            status,
            user.screen_answer,
            user.screened_at.astimezone(zone).date(),
            emergency=emergency_number(user.timezone),
        )
