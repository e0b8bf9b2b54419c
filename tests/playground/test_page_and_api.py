"""The playground's HTTP API and `yogabot run` without a token, without a browser."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from bot.settings import load_settings
from playground import Playground
from playground.runner import USER_ID, new_token, playground_settings
from tests.harness.bot import Worded, begin_practice, cues_titled, has_button
from tests.harness.factories import tiny_png, tiny_sound
from tests.harness.playground import (
    CHECK_IN_QUESTION,
    SCREEN_QUESTION,
    EventStream,
    StepPictures,
    bot_message_with,
    button_data,
    running_playground,
)
from tests.harness.webapps import init_data_fields, launch_parameters, telegram_hash

ROOT = Path(__file__).resolve().parents[2]
# What Telegram's tokens look like, and so the playground's: a bot id, then 35 characters.
TOKEN_SHAPE = re.compile(r"[1-9]\d{9}:[A-Za-z0-9_-]{35}")


@pytest.fixture
async def http(pg: Playground) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=pg.url) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(path, json=body) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def first_cue(http: aiohttp.ClientSession, stream: EventStream) -> dict[str, Any]:
    """Cue 1, after answering the red-flag screen (None of these) and skipping the back
    check-in, if the bot asks them first."""
    event = await stream.next(
        lambda e: (
            bot_message_with("1/3 ·")(e)
            or bot_message_with(CHECK_IN_QUESTION)(e)
            or bot_message_with(SCREEN_QUESTION)(e)
        )
    )
    if SCREEN_QUESTION in event["message"]["html"]:
        screen = event["message"]
        data = button_data(screen, "None of these")
        await post(http, "/api/tap", {"message_id": screen["id"], "data": data})
        event = await stream.next(
            lambda e: bot_message_with("1/3 ·")(e) or bot_message_with(CHECK_IN_QUESTION)(e)
        )
    if CHECK_IN_QUESTION in event["message"]["html"]:
        check_in = event["message"]
        data = button_data(check_in, "Skip")
        await post(http, "/api/tap", {"message_id": check_in["id"], "data": data})
        event = await stream.next(bot_message_with("1/3 ·"))
    message: dict[str, Any] = event["message"]
    return message


def test_playground_settings_keep_real_token_and_database_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    real = load_settings(bot_token="42:REAL-token")
    token = new_token()
    local = playground_settings(real, "http://127.0.0.1:9", token)
    assert local.bot_token is not None
    assert local.bot_token.get_secret_value() == token
    assert local.telegram_api_url == "http://127.0.0.1:9"
    assert local.database_url == "sqlite+aiosqlite:///playground.db"
    chosen = load_settings(database_url="sqlite+aiosqlite:///mine.db")
    mine = playground_settings(chosen, "http://x", token).database_url
    assert mine == "sqlite+aiosqlite:///mine.db"


def test_new_tokens_are_fresh_and_shaped_like_telegrams() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert TOKEN_SHAPE.fullmatch(token), token
        # The bot's own token check accepts it, as it would a token from @BotFather.
        checked = load_settings(bot_token=token).bot_token
        assert checked is not None
        assert checked.get_secret_value() == token


async def test_each_run_has_its_own_token_which_no_log_line_shows(tmp_path: Path) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    root = logging.getLogger()
    root.addHandler(handler)
    tokens: list[str] = []
    try:
        for run in ("first", "second"):
            async with running_playground(f"sqlite+aiosqlite:///{tmp_path / run}.db") as pg:
                assert pg.settings.bot_token is not None
                token = pg.settings.bot_token.get_secret_value()
                assert pg.emulator.token == token
                me = await pg.application.bot.get_me()
                assert me.id == int(token.partition(":")[0])
                logging.getLogger("tests").warning(
                    "asked %s/bot%s/getMe", pg.emulator.api_url, token
                )
                tokens.append(token)
    finally:
        root.removeHandler(handler)
    assert tokens[0] != tokens[1]
    logged = lines.getvalue()
    assert logged.count("/bot<token>/getMe") == 2
    assert not any(token in logged for token in tokens)
    # The redaction ends with the run; nothing is left on the handler.
    assert handler.filters == []


async def test_page_and_static_files_are_served(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    for asset in ("/static/chat.js", "/static/chat.css"):
        assert asset in page
        async with http.get(asset) as response:
            assert response.status == 200
    # No CDN, no build step: nothing the page loads comes from elsewhere.
    assert "http" not in page.replace("http-equiv", "")


async def test_send_and_tap_drive_the_real_bot_and_changes_stream_live(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/events") as response:
        assert response.content_type == "text/event-stream"
        stream = EventStream(response)
        state = await stream.next(lambda e: e["type"] == "state")
        assert {c["command"] for c in state["commands"]} >= {"start", "start_practice", "help"}
        assert state["user"]["id"] == USER_ID

        assert await post(http, "/api/send", {"text": "/start_practice"}) == (
            200,
            {"ok": True, "message_id": 1},
        )
        own = await stream.next(lambda e: e["type"] == "message")
        assert (own["message"]["from_bot"], own["message"]["html"]) == (False, "/start_practice")

        cue = await first_cue(http, stream)
        assert "<b>1/3 · Pose 1</b>" in cue["html"]
        labels = [b["text"] for row in cue["keyboard"] for b in row]
        assert labels == ["Easier option", "Next", "It hurts", "+15 s", "Pause"]

        easier = button_data(cue, "Easier option")
        status, body = await post(http, "/api/tap", {"message_id": cue["id"], "data": easier})
        assert (status, body["ok"]) == (200, True)
        edited = (await stream.next(bot_message_with("Easier:")))["message"]
        assert edited["id"] == cue["id"]
        assert edited["edited"] and edited["version"] >= 1
        assert [b["text"] for row in edited["keyboard"] for b in row] == [
            "Usual version",
            "Next",
            "It hurts",
            "+15 s",
            "Pause",
        ]

        next_data = button_data(edited, "Next")
        await post(http, "/api/tap", {"message_id": cue["id"], "data": next_data})
        await stream.next(bot_message_with("2/3 ·"))
        # Then the old cue's buttons are retired.
        retired = await stream.next(
            lambda e: (
                e["type"] == "message"
                and e["message"]["id"] == cue["id"]
                and e["message"]["keyboard"] == []
            )
        )
        assert retired["message"]["edited"]

        # A stale press (as from another device) gets the bot's short answer as a toast.
        await pg.user.tap_data(cue["id"], next_data)
        toast = await stream.next(lambda e: e["type"] == "toast")
        assert toast["text"] == "This pose is already over."

        state_now = await (await http.get("/api/state")).json()
        assert [m["id"] for m in state_now["messages"]][:2] == [1, 2]


async def test_photos_and_documents_are_served_and_text_is_escaped(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    bot = pg.application.bot
    async with http.get("/api/events") as response:
        stream = EventStream(response)
        await stream.next(lambda e: e["type"] == "state")
        await bot.send_message(USER_ID, "<b>not bold</b> & co")
        plain = await stream.next(lambda e: e["type"] == "message")
        assert plain["message"]["html"] == "&lt;b&gt;not bold&lt;/b&gt; &amp; co"

        png = tiny_png()
        await bot.send_photo(USER_ID, png, caption="Your week")
        photo = (await stream.next(lambda e: "photo" in e.get("message", {})))["message"]
        assert photo["caption_html"] == "Your week"
        async with http.get(photo["photo"]["url"]) as image:
            assert (image.status, image.content_type) == (200, "image/png")
            assert await image.read() == png

        await bot.send_document(USER_ID, b"day,minutes\n1,30\n", filename="progress.csv")
        doc = (await stream.next(lambda e: "document" in e.get("message", {})))["message"]
        assert doc["document"]["name"] == "progress.csv"
        async with http.get(doc["document"]["url"]) as download:
            assert download.status == 200
            assert download.headers["Content-Disposition"].startswith("attachment;")
            assert 'filename="progress.csv"' in download.headers["Content-Disposition"]
            assert await download.read() == b"day,minutes\n1,30\n"


async def test_audio_and_voice_messages_play_on_the_page_and_an_edit_swaps_them(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    bot = pg.application.bot
    easier = InlineKeyboardMarkup([[InlineKeyboardButton("Easier option", callback_data="e")]])
    async with http.get("/api/events") as response:
        stream = EventStream(response)
        await stream.next(lambda e: e["type"] == "state")
        mp3 = tiny_sound(3.0, "MP3")
        sent = await bot.send_audio(
            USER_ID,
            mp3,
            filename="cue.mp3",
            caption="<b>Cat–Cow</b>",
            parse_mode="HTML",
            title="Cat–Cow",
            performer="Yoga Coach",
            reply_markup=easier,
        )
        audio = (await stream.next(lambda e: "audio" in e.get("message", {})))["message"]
        assert audio["audio"]["voice"] is False
        assert (audio["audio"]["title"], audio["audio"]["performer"]) == ("Cat–Cow", "Yoga Coach")
        assert audio["audio"]["duration"] == 3
        assert audio["caption_html"] == "<b>Cat–Cow</b>"
        assert audio["keyboard"] == [[{"text": "Easier option", "data": "e"}]]
        # Served to the page's player as sound, inline: not a download.
        async with http.get(audio["audio"]["url"]) as played:
            assert (played.status, played.content_type) == (200, "audio/mpeg")
            assert "Content-Disposition" not in played.headers
            assert played.headers["X-Content-Type-Options"] == "nosniff"
            assert await played.read() == mp3

        ogg = tiny_sound(2.0, "OGG")
        await bot.send_voice(USER_ID, ogg, caption="Breathe in")
        voice = (await stream.next(lambda e: "audio" in e.get("message", {})))["message"]
        assert (voice["audio"]["voice"], voice["audio"]["title"]) == (True, "Voice message")
        assert (voice["audio"]["duration"], voice["caption_html"]) == (2, "Breathe in")
        async with http.get(voice["audio"]["url"]) as played:
            assert (played.status, played.content_type) == (200, "audio/ogg")
            assert await played.read() == ogg

        longer = tiny_sound(5.0, "MP3")
        await bot.edit_message_media(
            InputMediaAudio(longer, caption="Cat–Cow, easier", filename="easier.mp3"),
            chat_id=USER_ID,
            message_id=sent.message_id,
        )
        swapped = (await stream.next(lambda e: e.get("message", {}).get("id") == audio["id"]))[
            "message"
        ]
        # The same message, drawn again with the other sound: not a new one.
        assert swapped["version"] > audio["version"] and swapped["edited"] is True
        assert swapped["audio"]["url"] != audio["audio"]["url"]
        assert (swapped["audio"]["duration"], swapped["caption_html"]) == (5, "Cat–Cow, easier")
        assert swapped["keyboard"] == []
        async with http.get(swapped["audio"]["url"]) as played:
            assert await played.read() == longer
    state = await (await http.get("/api/state")).json()
    assert [m["id"] for m in state["messages"] if "audio" in m] == [audio["id"], voice["id"]]


async def test_a_mini_app_opens_with_init_data_signed_for_the_user(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    bot = pg.application.bot
    token = pg.emulator.token
    url = "http://127.0.0.1:9/app/"
    async with http.get("/api/events") as response:
        stream = EventStream(response)
        state = await stream.next(lambda e: e["type"] == "state")
        # The bot's own menu button opens its player from the start.
        assert state["menu_button"] == {"text": "Player", "url": pg.settings.webapp_url}
        # Nothing offers this Mini App yet: the page cannot have one signed.
        assert await post(http, "/api/webapp", {"url": url}) == (
            409,
            {"ok": False, "error": "that Mini App is no longer offered in this chat"},
        )
        open_it = InlineKeyboardButton("Open the player", web_app=WebAppInfo(url))
        await bot.send_message(
            USER_ID, "Your class", reply_markup=InlineKeyboardMarkup([[open_it]])
        )
        message = (await stream.next(bot_message_with("Your class")))["message"]
        assert message["keyboard"] == [[{"text": "Open the player", "web_app": url}]]

        for scheme, background in (("light", "#ffffff"), ("dark", "#212121")):
            status, body = await post(http, "/api/webapp", {"url": url, "color_scheme": scheme})
            assert (status, body["ok"]) == (200, True)
            launched = launch_parameters(body["url"], url)
            assert (launched["tgWebAppVersion"], launched["tgWebAppPlatform"]) == ("8.0", "weba")
            assert json.loads(launched["tgWebAppThemeParams"])["bg_color"] == background
            fields = init_data_fields(launched["tgWebAppData"])
            assert json.loads(fields["user"])["id"] == USER_ID
            assert json.loads(fields["user"])["first_name"] == "Friend"
            assert abs(int(fields["auth_date"]) - time.time()) < 60
            assert fields["hash"] == telegram_hash(token, fields)

        # The menu button the bot sets for this chat comes live, and opens as well.
        menu_url = "http://127.0.0.1:9/app/?from=menu"
        await bot.set_chat_menu_button(USER_ID, MenuButtonWebApp("Player", WebAppInfo(menu_url)))
        event = await stream.next(lambda e: e["type"] == "menu_button")
        assert event["menu_button"] == {"text": "Player", "url": menu_url}
        status, body = await post(http, "/api/webapp", {"url": menu_url})
        assert status == 200
        assert body["url"].startswith(f"{menu_url}#tgWebAppData=")
        # The bot's default counts once the chat has none of its own.
        default_url = "http://127.0.0.1:9/app/?from=default"
        await bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp("Class", WebAppInfo(default_url))
        )
        event = await stream.next(lambda e: e["type"] == "menu_button")
        assert event["menu_button"] == {"text": "Player", "url": menu_url}
        await bot.set_chat_menu_button(USER_ID, MenuButtonDefault())
        event = await stream.next(lambda e: e["type"] == "menu_button")
        assert event["menu_button"] == {"text": "Class", "url": default_url}
        assert (await post(http, "/api/webapp", {"url": menu_url}))[0] == 409
        await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
        event = await stream.next(lambda e: e["type"] == "menu_button")
        assert event["menu_button"] is None

        # Once the message is gone, its Mini App is too.
        await bot.delete_message(USER_ID, message["id"])
        assert (await post(http, "/api/webapp", {"url": url}))[0] == 409
    for body in ({}, {"url": 5}, {"url": url, "color_scheme": "sepia"}):
        status, answer = await post(http, "/api/webapp", body)
        assert (status, answer["ok"]) == (400, False), body


async def test_the_page_may_frame_a_mini_app_on_this_machine_only(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/") as response:
        policy = dict(
            part.strip().split(" ", 1)
            for part in response.headers["Content-Security-Policy"].split(";")
        )
    assert policy["frame-src"].split() == ["'self'", "http://127.0.0.1:*", "http://localhost:*"]
    assert policy["frame-ancestors"] == "'none'"


async def test_api_errors_are_json_never_a_crash(http: aiohttp.ClientSession) -> None:
    assert await post(http, "/api/send", {"text": "  "}) == (
        400,
        {"ok": False, "error": "text is empty"},
    )
    status, body = await post(http, "/api/send", {"text": "x" * 5000})
    assert (status, body["ok"]) == (400, False)
    async with http.post("/api/send", data="text=hi") as response:
        assert (response.status, (await response.json())["ok"]) == (415, False)
    async with http.post(
        "/api/send", data=b"{nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    status, body = await post(http, "/api/tap", {"message_id": "1", "data": "x"})
    assert status == 400
    status, body = await post(http, "/api/tap", {"message_id": 99, "data": "x"})
    assert (status, body["error"]) == (404, "no bot message 99 in this chat")
    for path in ("/api/files/nope", "/api/nothing-here"):
        async with http.get(path) as response:
            assert response.status == 404
            assert (await response.json())["ok"] is False
    async with http.get("/api/send") as response:
        assert response.status == 405
        assert (await response.json())["ok"] is False


async def test_a_button_no_longer_on_the_message_cannot_be_pressed(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    await post(http, "/api/send", {"text": "/start_practice"})
    async with http.get("/api/events") as response:
        stream = EventStream(response)
        cue = await first_cue(http, stream)
    easier = button_data(cue, "Easier option")
    assert (await post(http, "/api/tap", {"message_id": cue["id"], "data": easier}))[0] == 200
    await pg.emulator.wait_for(lambda: "Easier:" in (pg.user.message(cue["id"]).plain or ""))
    status, body = await post(http, "/api/tap", {"message_id": cue["id"], "data": easier})
    assert (status, body["error"]) == (409, "that button is no longer on the message")


# -- the command line -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, "PLAYGROUND_PORT": str(port), "VOICE_ENGINE": "off", "PYTHONUNBUFFERED": "1"}


def read_until(process: subprocess.Popen[bytes], needle: str, timeout: float) -> str:
    # Raw reads of the pipe: a buffered readline would hide lines from select().
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or process.poll() is not None:
            raise AssertionError(f"no {needle!r} in output: {seen.decode()!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 65536)
    return seen.decode()


def test_run_without_token_starts_the_playground_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "run"],
        cwd=tmp_path,
        env=cli_env(port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        banner = read_until(process, "Ctrl-C stops everything", timeout=30)
        assert f"open http://127.0.0.1:{port}" in banner
        assert "Nothing leaves this machine" in banner
        assert "TIME_SCALE=0.05" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5) as reply:
            assert b'"start_practice"' in reply.read()
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        rest, raw_err = process.communicate(timeout=15)
        assert time.monotonic() - started < 10
        out, err = banner + rest.decode(), raw_err.decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "starting the local playground" in err
    assert "Traceback" not in err
    assert "stopping the playground" in out
    assert TOKEN_SHAPE.search(out + err) is None
    assert (tmp_path / "playground.db").exists()


def test_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "cli", "playground"],
            cwd=tmp_path,
            env=cli_env(port),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert f"yogabot: port {port} is already in use; set PLAYGROUND_PORT" in result.stderr
    assert "Traceback" not in result.stderr


async def test_requests_for_another_host_name_are_refused(
    http: aiohttp.ClientSession, pg: Playground
) -> None:
    # A page that re-points its own domain at 127.0.0.1 must not read or drive the chat.
    foreign = {"Host": "attacker.example"}
    async with http.get("/api/state", headers=foreign) as response:
        assert response.status == 403
    async with http.post("/api/send", json={"text": "/help"}, headers=foreign) as response:
        assert response.status == 403
    assert pg.user.messages == []
    # A malformed Host header is refused too, rather than failing inside the server.
    for malformed in ("::1", "127.0.0.1:80:90", "user@localhost:80"):
        async with http.get("/api/state", headers={"Host": malformed}) as response:
            assert response.status == 403, malformed
    async with http.get("/api/state", headers={"Host": "localhost"}) as response:
        assert response.status == 200
    # Nor may it talk to the emulator as the bot would.
    token = pg.emulator.token
    async with (
        aiohttp.ClientSession(base_url=pg.emulator.api_url) as api,
        api.post(f"/bot{token}/getUpdates", json={}, headers=foreign) as response,
    ):
        assert response.status == 403
        body = await response.json()
        assert (body["ok"], body["error_code"]) == (False, 403)


async def test_a_location_button_shares_a_place_and_sets_the_zone(
    pg: Playground, http: aiohttp.ClientSession
) -> None:
    await post(http, "/api/send", {"text": "/timezone"})
    await pg.emulator.wait_for(lambda: pg.user.reply_keyboard)
    state = await (await http.get("/api/state")).json()
    [[button]] = state["reply_keyboard"]
    assert button["location"] is True
    assert (await post(http, "/api/location", {"latitude": 95, "longitude": 0}))[0] == 400
    assert (await post(http, "/api/location", {"latitude": "52"}))[0] == 400
    status, body = await post(http, "/api/location", {"latitude": 52.52, "longitude": 13.405})
    assert (status, body["ok"]) == (200, True)
    await pg.emulator.wait_for(
        lambda: any("Europe/Berlin" in (m.plain or "") for m in pg.user.bot_messages)
    )
    state = await (await http.get("/api/state")).json()
    shared = next(m for m in state["messages"] if m["id"] == body["message_id"])
    assert shared["html"].startswith("📍 Location shared (52.520, 13.405)")


async def continue_the_open_practice(pg: Playground) -> Worded:
    """/start_practice with a practice open, Continue on the offer: its first cue again."""
    await pg.user.send("/start_practice")
    offer = await pg.emulator.wait_for(has_button(pg.user, "Continue"))
    await pg.user.tap(offer.message_id, text="Continue")
    [cue] = await pg.emulator.wait_for(lambda: cues_titled(pg.user, "1/3"))
    return cue


async def test_a_restarted_playground_still_knows_the_pictures_it_was_sent(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram keeps a file_id for good; so does the playground across its restarts, so
    a cue after a restart goes by the stored id, with no refusal and no second upload."""
    pictures = StepPictures(tmp_path)
    async with running_playground(database_url, pictures) as pg:
        await begin_practice(pg.emulator, pg.user)
        [cue] = await pg.emulator.wait_for(lambda: cues_titled(pg.user, "1/3"))
        assert cue.photo is not None
        [upload] = pg.emulator.calls_of("sendPhoto")
        assert not isinstance(upload.params["photo"], str)  # the bytes, the first time
        file_id = upload.result["photo"][-1]["file_id"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        async with running_playground(database_url, pictures) as pg:
            # The practice is still open: starting again offers to continue it.
            cue = await continue_the_open_practice(pg)
            assert cue.photo is not None
            sends = pg.emulator.calls_of("sendPhoto")
    assert [(send.ok, send.params["photo"]) for send in sends] == [(True, file_id)]
    assert cue.photo[-1]["file_id"] == file_id
    assert not [r for r in caplog.records if "refused" in r.getMessage()]


async def test_the_easier_picture_takes_the_place_of_the_cues_photo_on_the_page(
    database_url: str, tmp_path: Path
) -> None:
    pictures = StepPictures(tmp_path, easier_too=True)
    async with (
        running_playground(database_url, pictures) as pg,
        aiohttp.ClientSession(base_url=pg.url) as http,
        http.get("/api/events") as response,
    ):
        stream = EventStream(response)
        await stream.next(lambda e: e["type"] == "state")
        await post(http, "/api/send", {"text": "/start_practice"})
        cue = await first_cue(http, stream)
        usual_url = cue["photo"]["url"]

        easier = button_data(cue, "Easier option")
        await post(http, "/api/tap", {"message_id": cue["id"], "data": easier})
        swapped = (await stream.next(bot_message_with("Easier:")))["message"]
        # The same message, drawn again with the other picture: not a new one.
        assert swapped["id"] == cue["id"] and swapped["version"] > cue["version"]
        assert swapped["photo"]["url"] != usual_url
        assert "Pose 1" in swapped["photo"]["alt"]
        async with http.get(swapped["photo"]["url"]) as image:
            assert await image.read() == tiny_png(31, 16)
        state = await (await http.get("/api/state")).json()
        assert [m["id"] for m in state["messages"] if "photo" in m] == [cue["id"]]


async def test_a_restarted_playground_still_knows_the_easier_pictures_it_was_sent(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pictures = StepPictures(tmp_path, easier_too=True)
    async with running_playground(database_url, pictures) as pg:
        await begin_practice(pg.emulator, pg.user)
        [cue] = await pg.emulator.wait_for(lambda: cues_titled(pg.user, "1/3"))
        await pg.user.tap(cue.message_id, text="Easier option")
        await pg.emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        [swap] = pg.emulator.calls_of("editMessageMedia")
        file_id = swap.result["photo"][-1]["file_id"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        async with running_playground(database_url, pictures) as pg:
            cue = await continue_the_open_practice(pg)
            # Continued as it was: the easier version, by the id the picture was given.
            assert "Easier:" in (cue.plain or "")
            sends = pg.emulator.calls_of("sendPhoto")
    assert [(send.ok, send.params["photo"]) for send in sends] == [(True, file_id)]
    assert not [r for r in caplog.records if "refused" in r.getMessage()]
