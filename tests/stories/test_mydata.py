"""/mydata as a user lives it: after settings, a reminder, a time zone, the safety
questions, a practice with an easier choice and an "it hurts", and a note copied to the
team's chat, the file holds each of them (tests/services/test_mydata.py holds it to every
column of the schema)."""

from __future__ import annotations

from playground.emulator import BotApiEmulator
from tests.harness.bot import (
    begin_practice,
    bot_running,
    choose_settings,
    cues_titled,
    has_button_on,
    has_message,
    screened,
)
from tests.harness.factories import make_class
from tests.harness.mydata import mydata_parts

TINY = make_class()
CATALOG = {TINY.id: TINY}
TEAM_CHAT = 9300


async def test_mydata_holds_settings_reminder_zone_screen_pain_choices_and_copies(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(4501, first_name="Ana")
    async with bot_running(
        emulator, database_url, catalog=CATALOG, feedback_chat_id=TEAM_CHAT
    ) as app:
        team = emulator.user(TEAM_CHAT, first_name="Team")
        await team.send("/help")
        await emulator.wait_for(lambda: team.bot_messages)
        await screened(emulator, user)
        await user.send("/timezone Europe/Berlin")
        await emulator.wait_for(has_message(user, "Time zone set"))
        await user.send("/remind 07:30")
        await emulator.wait_for(has_message(user, "Next reminder"))
        await choose_settings(emulator, user, "Quick")

        await begin_practice(emulator, user, "4")
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await user.tap(first.message_id, text="Easier option")
        await emulator.wait_for(lambda: "Easier:" in (first.plain or ""))
        await user.tap(first.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await user.tap(second.message_id, text="It hurts")
        await emulator.wait_for(has_button_on(second, "Skip this pose"))
        await user.tap(second.message_id, text="Skip this pose")
        await emulator.wait_for(lambda: cues_titled(user, "3/3"))
        await user.send("/feedback the twist pinched")
        await emulator.wait_for(lambda: team.bot_messages[1:])

        await user.send("/mydata")
        document = await emulator.wait_for(
            lambda: next((m for m in user.bot_messages if m.document), None)
        )
        assert document.document is not None
        file = await app.bot.get_file(document.document["file_id"])
        parts = mydata_parts(bytes(await file.download_as_bytearray()))

    [you] = parts["users"]
    assert (you["first_name"], you["timezone"], you["pace"]) == ("Ana", "Europe/Berlin", "quick")
    assert (you["class_length"], you["easier_mode"], you["pictures"]) == (
        "full",
        "remembered",
        "yes",
    )
    assert you["screen_answer"] == "clear"
    # Times are the user's own: Berlin is an hour or two ahead of UTC.
    assert you["screened_at"][-6:] in ("+01:00", "+02:00")
    [reminder] = parts["reminders"]
    assert (reminder["hour"], reminder["minute"], reminder["enabled"]) == ("7", "30", "yes")
    [practice] = parts["practice_sessions"]
    assert (practice["status"], practice["back_before"], practice["pace_factor"]) == (
        "active",
        "4",
        "0.75",
    )
    assert practice["pose"] == "Pose 3"  # the pose it is on
    events = [(e["pose"], e["kind"]) for e in parts["step_events"]]
    assert ("Pose 1", "easier") in events
    assert ("Pose 2, right side", "hurt") in events
    assert ("Pose 2, right side", "skipped") in events
    [note] = parts["feedback"]
    assert (note["text"], note["pose"], note["session_id"]) == (
        "the twist pinched",
        "Pose 3",
        practice["id"],
    )
    # Where its copy went in the team's chat, which /forget_me deletes too.
    copy = team.bot_messages[1]
    assert (note["copy_chat_id"], note["copy_message_id"]) == (
        str(TEAM_CHAT),
        str(copy.message_id),
    )
