"""The player's API through the whole playground: the real bot, the emulator, and the
player served on its own listener, called as the page calls it, with initData the emulator
signs as Telegram does. One practice, two surfaces: what the player does shows in the chat
as one note, and what the chat does shows in the player. And every refusal: no, forged,
expired or future initData (401), another user's practice (403, nothing changes), a stale
step (409 with what to show now), a malformed body (400), too many calls (429)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.settings import load_settings
from bot.store import StoreUnavailable
from handlers.app import PLAYER
from handlers.context import SERVICES
from handlers.render import player as render_player
from handlers.timers import SWEEP_GRACE
from player.heartbeats import SILENT_AFTER
from player.limits import BURST, RATE, UserRateLimit
from player.server import PlayerApi
from playground import Playground, playground
from playground.emulator.init_data import sign_init_data
from playground.emulator.state import EmuMessage
from tests.harness.factories import make_class
from tests.harness.playground import StepPictures

TINY = make_class(holds=(60, 60, 60))
OTHER_USER = 2


@dataclass
class Player:
    """The page, as far as the server can tell: initData, and the calls it makes."""

    pg: Playground
    http: aiohttp.ClientSession
    clock: ManualClock
    user_id: int = 1

    @property
    def url(self) -> str:
        url = self.pg.settings.webapp_url
        assert url is not None
        return url

    def init_data(self, *, age: timedelta = timedelta(0), user_id: int | None = None) -> str:
        emulator = self.pg.emulator
        user = emulator.user(user_id or self.user_id, first_name="Friend")
        signed_at = (self.clock() - age).timestamp()
        return emulator.sign_init_data(user, clock=lambda: signed_at)

    async def call(
        self, name: str, *, init_data: str | None = None, status: int = 200, **body: Any
    ) -> dict[str, Any]:
        payload = {"init_data": self.init_data() if init_data is None else init_data, **body}
        async with self.http.post(f"{self.url}api/{name}", json=payload) as response:
            assert response.status == status, (name, response.status, await response.text())
            if response.status == 204:
                return {}
            answer: dict[str, Any] = await response.json()
            return answer

    async def start_class(self) -> dict[str, Any]:
        """Start, the red-flag screen, the check-in: the class begins in the player."""
        view = await self.call("begin", answer={"start": True})
        if view["screen"] == "safety":
            view = await self.call("begin", answer={"screen": "none"})
        assert view["screen"] == "checkin", view
        view = await self.call("begin", answer={"score": 2})
        assert view["screen"] == "practice", view
        return view

    @property
    def api(self) -> PlayerApi:
        api = self.pg.application.bot_data[PLAYER]
        assert isinstance(api, PlayerApi)
        return api


@pytest.fixture
async def player(database_url: str, tmp_path: Any) -> AsyncIterator[Player]:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings = load_settings(database_url=database_url, time_scale=1.0, voice_engine="off")
    async with (
        playground(
            settings,
            port=0,
            clock=clock,
            catalog={TINY.id: TINY},
            pictures=StepPictures(tmp_path),
            poll_timeout=1,
        ) as pg,
        aiohttp.ClientSession() as http,
    ):
        yield Player(pg, http, clock)
    assert pg.emulator.internal_errors == []


def notes(pg: Playground) -> list[EmuMessage]:
    """The chat's messages about a class in the player."""
    words = (render_player.PLAYING, "Paused at pose", render_player.HERE, render_player.ENDED)
    return [m for m in pg.user.bot_messages if any(w in (m.text or "") for w in words)]


def buttons(message: EmuMessage) -> list[dict[str, Any]]:
    markup = message.reply_markup or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def until(pg: Playground, check: Callable[[], Any]) -> Any:
    return await pg.emulator.wait_for(check, timeout=5.0)


# -- a class in the player -----------------------------------------------------------------


async def test_the_way_in_starts_the_class_in_the_player_and_the_chat_gets_one_note(
    player: Player,
) -> None:
    first = await player.call("state")
    assert first == {"screen": "start", "class_title": TINY.title, "minutes": 3, "poses": 3}
    screen = await player.call("begin", answer={"start": True})
    assert screen["screen"] == "safety"
    assert "Legs that are quickly getting weaker" in screen["emergency_signs"]
    view = await player.start_class()
    assert (view["step"], view["total"], view["status"]) == (0, 3, "active")
    assert view["title"] == "Pose 1" and view["lines"][0].startswith("Inhale")
    assert view["hold"] == 60 and 59 <= view["left"] <= 60
    assert view["next"] == "Pose 2, right side"
    # The picture is served beside the page, by its key.
    async with player.http.get(player.url + view["picture"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
    note = await until(player.pg, lambda: notes(player.pg) or None)
    assert len(note) == 1 and render_player.PLAYING in (note[0].text or "")
    assert buttons(note[0]) == [{"text": "Open the player", "web_app": {"url": player.url}}]
    # No cue in the chat: the player shows it.
    assert [m for m in player.pg.user.bot_messages if m.photo] == []


async def test_the_countdown_is_the_servers_deadline_and_a_reload_resumes_at_the_same_second(
    player: Player,
) -> None:
    await player.start_class()
    player.clock.advance(22.5)
    again = await player.call("state")
    assert again["left"] == pytest.approx(37.5, abs=0.01)
    paused = await player.call("act", practice=again["practice"], step=0, action="pause")
    player.clock.advance(300)
    reloaded = await player.call("state")
    assert reloaded["status"] == "paused" and reloaded["left"] == paused["left"]


async def test_every_button_of_the_player_works_through_the_practice_rules(player: Player) -> None:
    view = await player.start_class()
    practice = view["practice"]

    async def act(action: str, step: int = 0) -> dict[str, Any]:
        return await player.call("act", practice=practice, step=step, action=action)

    more = await act("more_time")
    assert more["hold"] == 75 and more["left"] == pytest.approx(75, abs=0.01)
    easier = await act("easier")
    assert easier["easier"] == {
        "shown": True,
        "text": "Easier pose 1: keep the knees down.",
        "can_take_back": True,
    }
    assert (await act("usual"))["easier"]["shown"] is False
    hurt = await act("hurt")
    assert hurt["question"] == "hurt" and hurt["status"] == "paused"
    tried = await act("try_easier")
    assert tried["question"] is None and tried["easier"]["shown"] and tried["status"] == "active"
    moved = await act("next")
    assert moved["step"] == 1 and moved["left"] == pytest.approx(60, abs=0.01)
    asked = await act("stop", step=1)
    assert asked["question"] == "stop"
    assert (await act("keep_going", step=1))["question"] is None


async def test_the_hold_over_moves_the_player_on_without_any_message(player: Player) -> None:
    view = await player.start_class()
    await until(player.pg, lambda: notes(player.pg) or None)
    calls_before = len(player.pg.emulator.state.calls)
    # Past the deadline, and past the sweep's grace: the worker's sweep moves it on.
    player.clock.advance(60 + SWEEP_GRACE.total_seconds() + 1)
    practice = player.pg.application.bot_data[SERVICES].practice
    async with asyncio.timeout(10):
        # Nothing in the chat changes, so there is no event to wait on: the row is watched.
        while (shown := await practice.player_cue(view["practice"])) and shown.cue.step != 1:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    state = await player.call("state")
    assert state["step"] == 1 and state["status"] == "active"
    sent = [c.method for c in player.pg.emulator.state.calls[calls_before:]]
    sent = [method for method in sent if method != "getUpdates"]
    assert sent == [], "no Bot API call for a pose in the player"


async def test_the_class_ending_in_the_player_turns_its_note_into_the_closing_message(
    player: Player,
) -> None:
    view = await player.start_class()
    note = (await until(player.pg, lambda: notes(player.pg) or None))[0]
    for step in range(3):
        view = await player.call("act", practice=view["practice"], step=step, action="next")
    assert view["screen"] == "summary" and view["status"] == "finished"
    # Tapped through in no time: said so, with what the class takes.
    assert (view["rushed"], view["planned_minutes"], view["poses_done"]) == (True, 3, 0)
    assert view["total_poses"] == 3

    def closed() -> EmuMessage | None:
        edited = player.pg.user.message(note.message_id)
        return edited if "Well done" in (edited.text or "") or edited.edits > 0 else None

    closing = await until(player.pg, closed)
    assert render_player.PLAYING not in (closing.text or "")
    assert closing.message_id == note.message_id, "the note became the closing message"


# -- the player goes away: the chat takes over, or the player again -----------------------


async def test_closing_the_player_pauses_and_the_chat_offers_to_continue_either_way(
    player: Player,
) -> None:
    view = await player.start_class()
    await until(player.pg, lambda: notes(player.pg) or None)
    player.clock.advance(10)
    away = await player.call("away", practice=view["practice"])
    assert away["status"] == "paused" and away["left"] == pytest.approx(50, abs=0.01)
    offer = await until(
        player.pg,
        lambda: next(
            (m for m in notes(player.pg) if "Paused at pose 1 of 3" in (m.text or "")), None
        ),
    )
    labels = [button["text"] for button in buttons(offer)]
    assert labels == ["Continue here", "Continue in the player"]
    assert buttons(offer)[1]["web_app"] == {"url": player.url}
    # Said once, however many times the page says it went.
    await player.call("away", practice=view["practice"])
    assert player.pg.user.message(offer.message_id).edits == offer.edits

    # Continue here: the cue comes to the chat, the note says so, the player shows where.
    await player.pg.user.tap(offer.message_id, "Continue here")
    cue = await until(
        player.pg, lambda: next((m for m in player.pg.user.bot_messages if m.photo), None)
    )
    assert "Pose 1" in (cue.caption or "")
    settled = await until(
        player.pg,
        lambda: (
            (m := player.pg.user.message(offer.message_id))
            and render_player.HERE in (m.text or "")
            and m
        ),
    )
    assert buttons(settled) == []
    in_chat = await player.call("state")
    assert in_chat["screen"] == "in_chat" and in_chat["step"] == 0
    # A player's button on a class the chat now follows is refused, and changes nothing.
    stale = await player.call("act", practice=view["practice"], step=0, action="next", status=409)
    assert stale["view"]["screen"] == "in_chat"

    # Continue in the player: the chat's cue loses its buttons, a new note says where.
    back = await player.call("play", practice=view["practice"])
    assert back["screen"] == "practice" and back["status"] == "active"
    await until(player.pg, lambda: not buttons(player.pg.user.message(cue.message_id)) or None)
    playing = [m for m in notes(player.pg) if render_player.PLAYING in (m.text or "")]
    assert len(playing) == 1 and playing[0].message_id > cue.message_id, (
        "a new note, under the cue: the old one says the class went on here"
    )


async def test_a_player_not_heard_from_is_paused_by_the_sweep_and_one_heard_from_is_not(
    player: Player,
) -> None:
    view = await player.start_class()
    await until(player.pg, lambda: notes(player.pg) or None)
    # Heard from: beats, written in one batch.
    player.clock.advance(SILENT_AFTER.total_seconds() - 5)
    await player.call("beat", practice=view["practice"], status=204)
    assert player.api.heartbeats.unwritten == 1
    assert await player.api.heartbeats.sweep() == 0
    assert player.api.heartbeats.unwritten == 0
    player.clock.advance(SILENT_AFTER.total_seconds() - 5)
    assert await player.api.heartbeats.sweep() == 0
    assert (await player.call("state"))["status"] == "active"
    # Then silence (the phone died): paused, and the chat offers to continue.
    player.clock.advance(10)
    assert await player.api.heartbeats.sweep() == 1
    assert (await player.call("state"))["status"] == "paused"
    await until(
        player.pg,
        lambda: any("Paused at pose" in (m.text or "") for m in notes(player.pg)) or None,
    )
    # Another worker's sweep finds nothing more to do.
    assert await player.api.heartbeats.sweep() == 0


async def test_the_class_runs_in_the_player_while_telegram_refuses_its_note(
    player: Player,
) -> None:
    player.pg.emulator.fail_next("sendMessage", error_code=502)
    view = await player.start_class()
    moved = await player.call("act", practice=view["practice"], step=0, action="next")
    assert moved["step"] == 1
    # With Telegram back, the next change draws the note.
    await player.call("away", practice=view["practice"])
    offer = await until(player.pg, lambda: notes(player.pg) or None)
    assert "Paused at pose 2 of 3" in (offer[0].text or "")


# -- refusals ---------------------------------------------------------------------------------


async def test_calls_without_valid_init_data_are_refused_with_401(player: Player) -> None:
    good = player.init_data()
    now = player.clock().timestamp()
    fields = dict(parse_qsl(good))
    forged_user = urlencode({**fields, "user": fields["user"].replace('"id":1', '"id":2')})
    forged_hash = urlencode({**fields, "hash": "0" * 64})
    for init_data in (
        "",
        "not a query string at all",
        forged_user,
        forged_hash,
        player.init_data(age=timedelta(hours=25)),
        player.init_data(age=-timedelta(hours=1)),
    ):
        assert await player.call("state", init_data=init_data, status=401) == {
            "error": "unauthorized"
        }
    async with player.http.post(f"{player.url}api/state", json={}) as response:
        assert response.status == 401
    # Signed as Telegram signs it, but for another bot (another token).
    other_bot = sign_init_data(
        "123456:another-bots-token", {"id": 1, "first_name": "Friend"}, clock=lambda: now
    )
    assert await player.call("state", init_data=other_bot, status=401) == {"error": "unauthorized"}
    assert (await player.call("state", init_data=good))["screen"] == "start"


async def test_another_users_practice_is_refused_with_403_and_nothing_changes(
    player: Player,
) -> None:
    view = await player.start_class()
    stranger = player.init_data(user_id=OTHER_USER)
    for name, body in (
        ("act", {"practice": view["practice"], "step": 0, "action": "next"}),
        ("play", {"practice": view["practice"]}),
        ("away", {"practice": view["practice"]}),
        ("beat", {"practice": view["practice"]}),
    ):
        assert await player.call(name, init_data=stranger, status=403, **body) == {
            "error": "forbidden"
        }
    after = await player.call("state")
    assert (after["version"], after["step"], after["status"]) == (view["version"], 0, "active")
    assert player.api.heartbeats.unwritten == 0


async def test_a_stale_step_is_answered_409_with_what_to_show_now(player: Player) -> None:
    view = await player.start_class()
    await player.call("act", practice=view["practice"], step=0, action="next")
    stale = await player.call("act", practice=view["practice"], step=0, action="next", status=409)
    assert stale["error"] == "stale" and stale["view"]["step"] == 1
    gone = await player.call("act", practice=999, step=0, action="next", status=409)
    assert gone["view"]["screen"] == "practice"


@pytest.mark.parametrize(
    ("name", "body", "detail"),
    [
        ("act", {"practice": 1, "step": 0, "action": "fly"}, '"action" must be one of'),
        ("act", {"practice": "1", "step": 0, "action": "next"}, '"practice" must be a whole'),
        ("act", {"practice": 1, "step": 0, "action": "continue"}, '"action" must be one of'),
        ("begin", {"answer": {"score": 11}}, '"score" must be a whole number from 0 to 10'),
        ("begin", {"answer": {"screen": "maybe"}}, '"screen" must be'),
        ("begin", {"answer": "start"}, '"answer" must be an object'),
    ],
)
async def test_a_malformed_call_is_answered_400_saying_what_is_wrong(
    player: Player, name: str, body: dict[str, Any], detail: str
) -> None:
    answer = await player.call(name, status=400, **body)
    assert answer["error"] == "bad_request" and detail in answer["detail"]


async def test_a_body_that_is_not_json_is_answered_400(player: Player) -> None:
    async with player.http.post(f"{player.url}api/state", data=b"{not json") as response:
        assert response.status == 400


async def test_too_many_calls_from_one_user_are_answered_429_with_retry_after(
    player: Player,
) -> None:
    # The limit's own clock, held still: however slow the machine, no call is refilled.
    seconds = [0.0]
    player.api.rate_limit = UserRateLimit(monotonic=lambda: seconds[0])
    for _ in range(int(BURST)):
        await player.call("state")
    async with player.http.post(
        f"{player.url}api/state", json={"init_data": player.init_data()}
    ) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "1"
    # Someone else is not held up by it.
    await player.call("state", init_data=player.init_data(user_id=OTHER_USER))
    # A quarter of a second later (4 calls a second), one more call goes.
    seconds[0] += 1 / RATE
    await player.call("state")
    await player.call("state", status=429)


# -- the page's files -----------------------------------------------------------------------


async def test_the_page_is_served_with_a_strict_content_security_policy(player: Player) -> None:
    async with player.http.get(player.url) as response:
        assert response.status == 200 and response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        page = await response.text()
    assert "default-src 'none'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'self' http://127.0.0.1:*" in policy
    # No internet in the playground: Telegram's script is not asked for.
    assert "telegram-web-app.js" not in page
    assert player.pg.application.bot_data[PLAYER] is not None
    token = player.pg.settings.bot_token
    assert token is not None and token.get_secret_value() not in page
    async with player.http.get(player.url.rstrip("/"), allow_redirects=False) as response:
        assert response.status == 308 and response.headers["Location"].endswith("/app/")
    for missing in ("static/..%2fserver.py", "static/nothing.js", "media/nothing", "media/..%2f"):
        async with player.http.get(player.url + missing) as response:
            assert response.status == 404, missing


async def test_pain_typed_in_the_chat_is_asked_about_there_and_the_player_says_where(
    player: Player,
) -> None:
    view = await player.start_class()
    await until(player.pg, lambda: notes(player.pg) or None)
    await player.pg.user.send("my back hurts")
    question = await until(
        player.pg,
        lambda: next((m for m in player.pg.user.bot_messages if m.photo), None),
    )
    labels = [button["text"] for button in buttons(question)]
    assert "Skip this pose" in labels and "End for today" in labels
    shown = await player.call("state")
    assert shown["screen"] == "in_chat" and shown["practice"] == view["practice"]
    # Taken back into the player, the question is still asked there.
    back = await player.call("play", practice=view["practice"])
    assert back["question"] == "hurt" and back["status"] == "paused"


async def test_the_database_not_answering_is_503_and_the_page_asks_again(
    player: Player, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await player.start_class()
    practice = player.pg.application.bot_data[SERVICES].practice

    async def unavailable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr(practice, "open_for_player", unavailable)
    monkeypatch.setattr(practice, "press_in_player", unavailable)
    assert await player.call("state", status=503) == {"error": "unavailable"}
    action = {"practice": view["practice"], "step": 0, "action": "next"}
    assert await player.call("act", status=503, **action) == {"error": "unavailable"}
    monkeypatch.undo()
    assert (await player.call("act", **action))["step"] == 1


async def test_a_player_back_from_away_is_not_taken_for_silent_by_another_workers_sweep(
    player: Player,
) -> None:
    """Another worker heard none of this player's heartbeats: the press that brought it
    back is its sign of life, written at once, not at this worker's next flush."""
    view = await player.start_class()
    await player.call("away", practice=view["practice"])
    player.clock.advance(SILENT_AFTER.total_seconds() * 3)
    back = await player.call("act", practice=view["practice"], step=0, action="resume")
    assert back["status"] == "active"
    practice = player.pg.application.bot_data[SERVICES].practice
    assert await practice.silent_players(SILENT_AFTER) == []
