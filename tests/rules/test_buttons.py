"""The button table: every scheme packs within Telegram's 64 bytes, reads back what it
packed, and no two schemes' patterns ever claim the same data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup

from bot.cues import ContinueOffer
from bot.models import PracticeQuestion
from bot.places import places_named
from bot.practice.service import Cue
from bot.reminders import ReminderStatus, Schedule
from bot.safety import Gate
from bot.timezones import ZoneChoices
from bot.user_settings import CHOICES, Setting, UserSettings
from handlers.buttons import (
    MAX_BYTES,
    SCHEMES,
    Button,
    CancelFeedback,
    CheckinAfter,
    CheckinBefore,
    Confirm,
    ForgetButton,
    GateChoice,
    PainGateButton,
    PracticeAction,
    PracticeButton,
    ReminderAction,
    ReminderButton,
    ReminderTime,
    SafetyButton,
    SafetyChoice,
    SettingButton,
    SettingsView,
    SlowPaceButton,
    StartButton,
    ZoneButton,
)
from handlers.render import account, checkin, common, feedback, practice, reminders, safety
from handlers.render import settings as render_settings
from tests.harness.factories import make_class

ROW_IDS = st.integers(min_value=0, max_value=10**12 - 1)
SCORES = st.none() | st.integers(min_value=0, max_value=10)
# Every setting with each of its own values.
SETTING_VALUES = st.sampled_from(
    [(setting, value) for setting, kind in CHOICES.items() for value in kind]
)

BUTTONS: st.SearchStrategy[Button] = st.one_of(
    st.just(StartButton()),
    st.just(SlowPaceButton()),
    st.builds(
        PracticeButton,
        action=st.sampled_from(PracticeAction),
        practice=ROW_IDS,
        step=st.integers(min_value=0, max_value=999),
    ),
    st.builds(CheckinBefore, score=SCORES),
    st.builds(CheckinAfter, practice=ROW_IDS, score=SCORES),
    st.builds(PainGateButton, choice=st.sampled_from(GateChoice), score=SCORES),
    st.builds(SafetyButton, choice=st.sampled_from(SafetyChoice), start=st.booleans()),
    st.builds(ReminderButton, action=st.sampled_from(ReminderAction)),
    st.builds(ReminderTime, at=st.times().map(lambda t: time(t.hour, t.minute))),
    st.builds(ZoneButton, zone=st.sampled_from(sorted(available_timezones()))),
    st.just(CancelFeedback()),
    st.builds(ForgetButton, answer=st.sampled_from(Confirm)),
    SETTING_VALUES.map(lambda pair: SettingButton(*pair)),
    st.builds(SettingsView, setting=st.none() | st.sampled_from(Setting)),
)


def schemes_matching(data: str) -> list[type[Button]]:
    return [scheme for scheme in SCHEMES if scheme.pattern.match(data)]


@given(BUTTONS)
def test_every_packed_button_reads_back_under_its_own_scheme_only(button: Button) -> None:
    data = button.pack()
    assert len(data.encode()) <= MAX_BYTES
    assert schemes_matching(data) == [type(button)]
    assert type(button).parse(data) == button


@given(st.text(max_size=80))
def test_a_pattern_matches_exactly_what_its_scheme_parses(data: str) -> None:
    for scheme in SCHEMES:
        assert (scheme.pattern.match(data) is not None) == (scheme.parse(data) is not None)
    assert len(schemes_matching(data)) <= 1


@pytest.mark.parametrize(
    "data",
    ["c:b:11", "c:a:7", "c:b:-1", "c:x:1", "r:set:2400", "r:set:0760", "p:z:1:0", "p:start:1"],
)
def test_malformed_or_out_of_range_data_matches_no_scheme(data: str) -> None:
    assert schemes_matching(data) == []


def test_the_wire_forms_stay_those_already_in_users_chats() -> None:
    assert PracticeButton(PracticeAction.NEXT, practice=12, step=3).pack() == "p:n:12:3"
    assert StartButton().pack() == "p:start"
    assert CheckinBefore(score=None).pack() == "c:b:s"
    assert CheckinAfter(practice=42, score=7).pack() == "c:a:42:7"
    assert ReminderTime(time(7, 30)).pack() == "r:set:0730"
    assert ReminderButton(ReminderAction.SNOOZE).pack() == "r:snooze"
    assert CancelFeedback().pack() == "fb:cancel"
    assert ForgetButton(Confirm.YES).pack() == "fm:yes"
    assert ZoneButton("America/Argentina/ComodRivadavia").pack() == (
        "tz:America/Argentina/ComodRivadavia"
    )


def test_data_over_64_bytes_is_refused_when_packed() -> None:
    too_big = PracticeButton(PracticeAction.NEXT, practice=10**60, step=0)
    with pytest.raises(ValueError, match="64 bytes"):
        too_big.pack()


def _keyboard_data(markup: object) -> list[str]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


def test_every_keyboard_the_bot_renders_carries_parseable_data() -> None:
    tiny = make_class()
    cue = Cue(practice_id=10**12 - 1, step=2, total=3, pose=tiny.steps[2], hold_seconds=60)
    paused = Cue(practice_id=1, step=0, total=3, pose=tiny.steps[0], hold_seconds=60, paused=True)
    hurt = replace(paused, question=PracticeQuestion.HURT)
    stop = replace(paused, question=PracticeQuestion.STOP)
    offer = ContinueOffer(
        practice_id=10**12 - 1, step=2, total=3, pose_title="Pose 3", stopped=True
    )
    now = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    status = ReminderStatus(Schedule(7, 30), "UTC", False, now, now)
    markups = [
        common.welcome(tiny, "Ana").markup,
        practice.cue(cue).markup,
        practice.cue(paused).markup,
        practice.cue(hurt).markup,
        practice.cue(stop).markup,
        practice.continue_offer(offer).markup,
        checkin.pain_gate(Gate.SORE_DAY, 7).markup,
        checkin.pain_gate(Gate.SUGGEST_GENTLE, None).markup,
        safety.screen(start=True).markup,
        safety.follow_up(start=False).markup,
        checkin.before_question().markup,
        checkin.after_question(10**12 - 1).markup,
        feedback.ask().markup,
        account.forget_question().markup,
        reminders.reminder_status(status).markup,
        reminders.zone_choices(ZoneChoices(tuple(places_named("Cambridge")))).markup,
        reminders.reminder(tiny).markup,
        reminders.snoozed(tiny, status).markup,
        render_settings.settings_message(UserSettings(), tiny).markup,
        *(render_settings.setting_page(s, UserSettings(), tiny).markup for s in Setting),
        practice.slow_pace_keyboard(),
    ]
    data = [d for markup in markups for d in _keyboard_data(markup)]
    # Start; a running cue's five and a paused one's four; It hurts' three answers and
    # Stop's two; Continue / Start over; two pain gates of two; the screen's two and its
    # follow-up's two; 0-10 and Skip twice; Cancel; Yes/No; four times and Off; the four
    # Cambridges; a reminder's three; a snoozed reminder's Start; /settings' five
    # settings, and their pages: two lengths, three paces, three easier modes, two picture
    # choices, two voice choices, each with Back; Use the slow pace.
    assert len(data) == (
        1 + 5 + 4 + 3 + 2 + 2 + 2 + 2 + 2 + 2 + 12 + 12 + 1 + 2 + 5 + 4 + 3 + 1 + 5 + 17 + 1
    )
    assert all(len(schemes_matching(d)) == 1 for d in data), data
