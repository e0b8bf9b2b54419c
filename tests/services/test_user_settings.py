"""A user's settings as a service: the defaults, a change to each, a value of the wrong
kind refused, and what each pace does to the holds."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import ClassLength, EasierMode, Pace, Pictures, User
from bot.store import Store
from bot.user_settings import Setting, UserSettings, UserSettingsService, paced_hold


@pytest.fixture
def user_settings(store: Store, clock: ManualClock) -> UserSettingsService:
    return UserSettingsService(store, clock)


async def test_someone_not_stored_yet_has_the_defaults(
    user_settings: UserSettingsService, db_engine: AsyncEngine
) -> None:
    settings = await user_settings.of(7001)
    assert settings == UserSettings(ClassLength.FULL, Pace.NORMAL, EasierMode.REMEMBERED)
    # Reading stores nobody.
    async with create_sessionmaker(db_engine)() as db:
        assert await db.get(User, 7001) is None


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (Setting.CLASS_LENGTH, ClassLength.SHORT, UserSettings(class_length=ClassLength.SHORT)),
        (Setting.PACE, Pace.SLOW, UserSettings(pace=Pace.SLOW)),
        (Setting.PACE, Pace.QUICK, UserSettings(pace=Pace.QUICK)),
        (Setting.EASIER_MODE, EasierMode.ALWAYS, UserSettings(easier_mode=EasierMode.ALWAYS)),
        (Setting.EASIER_MODE, EasierMode.AS_ASKED, UserSettings(easier_mode=EasierMode.AS_ASKED)),
        (Setting.PICTURES, Pictures.OFF, UserSettings(pictures=Pictures.OFF)),
    ],
)
async def test_a_change_is_stored_for_that_user_alone(
    user_settings: UserSettingsService, setting: Setting, value: StrEnum, expected: UserSettings
) -> None:
    assert await user_settings.change(7002, 7002, "Ana", setting, value) == expected
    assert await user_settings.of(7002) == expected
    assert await user_settings.of(7003) == UserSettings()


async def test_each_setting_keeps_its_value_when_another_changes(
    user_settings: UserSettingsService,
) -> None:
    await user_settings.change(7004, 7004, "Ana", Setting.CLASS_LENGTH, ClassLength.SHORT)
    await user_settings.change(7004, 7004, "Ana", Setting.PACE, Pace.SLOW)
    await user_settings.change(7004, 7004, "Ana", Setting.EASIER_MODE, EasierMode.ALWAYS)
    back = await user_settings.change(7004, 7004, "Ana", Setting.PACE, Pace.NORMAL)
    assert back == UserSettings(ClassLength.SHORT, Pace.NORMAL, EasierMode.ALWAYS)
    assert await user_settings.of(7004) == back


async def test_a_change_stores_a_new_user_with_their_chat_and_name(
    user_settings: UserSettingsService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    await user_settings.change(7005, 8005, "Ana", Setting.PACE, Pace.QUICK)
    async with create_sessionmaker(db_engine)() as db:
        user = await db.get(User, 7005)
    assert user is not None
    assert (user.chat_id, user.first_name, user.pace) == (8005, "Ana", Pace.QUICK)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        (Setting.CLASS_LENGTH, Pace.SLOW),
        (Setting.PACE, ClassLength.SHORT),
        (Setting.EASIER_MODE, Pace.QUICK),
    ],
)
async def test_a_value_of_another_setting_is_refused_and_nothing_changes(
    user_settings: UserSettingsService, setting: Setting, value: StrEnum
) -> None:
    with pytest.raises(ValueError, match="is not a"):
        await user_settings.change(7006, 7006, "Ana", setting, value)
    assert await user_settings.of(7006) == UserSettings()


@pytest.mark.parametrize(
    ("pace", "factor"), [(Pace.SLOW, 1.25), (Pace.NORMAL, 1.0), (Pace.QUICK, 0.75)]
)
def test_slow_holds_longer_and_quick_shorter(pace: Pace, factor: float) -> None:
    assert UserSettings(pace=pace).pace_factor == factor


@pytest.mark.parametrize(
    ("hold", "factor", "paced"),
    [(80, 1.0, 80), (80, 1.25, 100), (75, 1.25, 95), (45, 0.75, 35), (10, 0.75, 10), (37, 1.0, 37)],
)
def test_a_paced_hold_is_rounded_to_five_seconds(hold: int, factor: float, paced: int) -> None:
    assert paced_hold(hold, factor) == paced
