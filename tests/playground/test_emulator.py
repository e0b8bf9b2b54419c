"""The Bot API emulator answers over real HTTP the way Telegram does."""

from __future__ import annotations

import ast
import asyncio
import graphlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaPhoto,
    MenuButtonCommands,
    MenuButtonWebApp,
    Message,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from playground.emulator import BotApiEmulator
from playground.emulator.media import store_file
from playground.emulator.registry import METHODS, MethodSpec
from playground.emulator.server import host_name
from playground.emulator.state import EmulatorState
from playground.emulator.webapps import launch_url
from tests.harness.factories import tiny_png, tiny_sound
from tests.harness.webapps import init_data_fields, launch_parameters, telegram_hash

TOKEN = "123456:TEST-TOKEN"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
KEYBOARD = {"inline_keyboard": [[{"text": "Next", "callback_data": "p:n:1:0"}]]}
REFUSED = {
    "ok": False,
    "error_code": 403,
    "description": "Forbidden: this server answers only for 127.0.0.1, ::1, localhost",
}


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, bot_username="yogabot_test") as emulator:
        yield emulator
    assert emulator.internal_errors == []


@pytest.fixture
async def http(emu: BotApiEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emu.api_url) as session:
        yield session


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as ptb_bot:
        yield ptb_bot


async def api(
    http: aiohttp.ClientSession, method: str, *, token: str = TOKEN, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"/bot{token}/{method}", json=params) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def ok(http: aiohttp.ClientSession, method: str, **params: Any) -> Any:
    status, body = await api(http, method, **params)
    assert (status, body["ok"]) == (200, True), body
    return body["result"]


# -- protocol basics --------------------------------------------------------------------------


async def test_get_me_and_case_insensitive_method(http: aiohttp.ClientSession) -> None:
    me = await ok(http, "getme")
    assert me["id"] == 123456
    assert me["is_bot"] is True
    assert me["username"] == "yogabot_test"
    assert me["first_name"] == "Yoga Coach"
    for key in ("can_join_groups", "can_read_all_group_messages", "supports_inline_queries"):
        assert isinstance(me[key], bool)


async def test_every_transport_is_understood(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    await emu.user(7, "Ana").send("hi")
    async with http.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": "7", "text": "q"}) as r:
        assert (await r.json())["result"]["text"] == "q"
    form = {"chat_id": "7", "text": "f", "reply_markup": json.dumps(KEYBOARD)}
    async with http.post(f"/bot{TOKEN}/sendMessage", data=form) as r:
        assert (await r.json())["result"]["reply_markup"] == KEYBOARD
    multipart = aiohttp.FormData()
    for key, value in form.items():
        multipart.add_field(key, value)
    multipart.add_field("document", b"data", filename="a.txt", content_type="text/plain")
    async with http.post(f"/bot{TOKEN}/sendDocument", data=multipart) as r:
        result = (await r.json())["result"]
    assert result["reply_markup"] == KEYBOARD
    assert result["document"]["file_name"] == "a.txt"
    assert [c.params["chat_id"] for c in emu.calls_of("sendMessage")] == [7, 7]


async def test_error_shapes(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    assert await api(http, "fooBar") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert await api(http, "getMe", token="123456:WRONG") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await api(http, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await api(http, "sendMessage", chat_id=42, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    await emu.user(42).send("hello")
    status, body = await api(http, "sendMessage", chat_id=42)
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    async with http.get("/no/such/page") as response:
        assert response.status == 404
        assert (await response.json())["ok"] is False
    async with http.post(
        f"/bot{TOKEN}/getMe", data=b"{nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert (await response.json())["error_code"] == 400
    assert [c.ok for c in emu.calls][-1] is False


async def test_only_local_host_names_are_answered(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    # A web page that re-points its own domain at 127.0.0.1 must not reach the Bot API.
    foreign = {"Host": "evil.example:1234"}
    for path in (f"/bot{TOKEN}/getMe", f"/file/bot{TOKEN}/documents/1", "/elsewhere"):
        async with http.post(path, json={}, headers=foreign) as response:
            assert (response.status, response.content_type) == (403, "application/json")
            assert await response.json() == REFUSED
    assert emu.calls == []
    port = emu.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        async with http.get(f"/bot{TOKEN}/getMe", headers={"Host": host}) as response:
            assert (response.status, (await response.json())["ok"]) == (200, True), host


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:34475", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("localhost:", "localhost"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("evil.example:1234", "evil.example"),
        # Malformed: no name that could be trusted.
        ("", None),
        ("::1", None),
        ("[::1", None),
        ("127.0.0.1:80:90", None),
        ("localhost:8o", None),
        ("user@localhost:80", None),
        ("localhost@evil.example", None),
        ("local host", None),
    ],
)
def test_host_header_names(header: str, name: str | None) -> None:
    assert host_name(header) == name


async def get_me_as(emu: BotApiEmulator, host: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(base_url=emu.api_url) as http,
        http.get(f"/bot{TOKEN}/getMe", headers={"Host": host}) as response,
    ):
        return response.status, await response.json()


async def test_allowed_hosts_can_be_other_names_or_any() -> None:
    async with BotApiEmulator(TOKEN, allowed_hosts={"Bot-API.internal"}) as named:
        assert (await get_me_as(named, "bot-api.internal:8081"))[0] == 200
        assert await get_me_as(named, f"127.0.0.1:{named.port}") == (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: this server answers only for bot-api.internal",
            },
        )
    async with BotApiEmulator(TOKEN, allowed_hosts=None) as anywhere:
        assert (await get_me_as(anywhere, "evil.example:1234"))[0] == 200


async def test_edit_delete_and_not_modified(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    user = emu.user(5, "Bo")
    await user.send("hi")
    sent = await ok(http, "sendMessage", chat_id=5, text="Pose 1", reply_markup=KEYBOARD)
    mid = sent["message_id"]
    assert sent["from"]["is_bot"] is True
    assert sent["chat"] == {"id": 5, "type": "private", "first_name": "Bo"}
    assert isinstance(sent["date"], int)

    status, body = await api(
        http, "editMessageText", chat_id=5, message_id=mid, text="Pose 1", reply_markup=KEYBOARD
    )
    assert (status, body["description"]) == (400, NOT_MODIFIED)

    edited = await ok(
        http, "editMessageText", chat_id=5, message_id=mid, text="Pose 2", reply_markup=KEYBOARD
    )
    assert edited["text"] == "Pose 2"
    assert isinstance(edited["edit_date"], int)
    status, body = await api(
        http, "editMessageReplyMarkup", chat_id=5, message_id=mid, reply_markup=KEYBOARD
    )
    assert (status, body["description"]) == (400, NOT_MODIFIED)
    # Omitting reply_markup in an edit removes the keyboard, as on Telegram.
    cleared = await ok(http, "editMessageText", chat_id=5, message_id=mid, text="Done")
    assert "reply_markup" not in cleared
    assert user.last_bot_message is not None
    assert (user.last_bot_message.edits, user.last_bot_message.text) == (2, "Done")

    status, body = await api(http, "editMessageText", chat_id=5, message_id=999, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    assert await ok(http, "deleteMessage", chat_id=5, message_id=mid) is True
    status, body = await api(http, "deleteMessage", chat_id=5, message_id=mid)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    assert user.bot_messages == []
    assert user.messages[-1].deleted


async def test_keyboard_and_markup_validation(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    await emu.user(9).send("hi")
    for data in ("x" * 65, ""):
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": data}]]}
        status, body = await api(http, "sendMessage", chat_id=9, text="t", reply_markup=markup)
        assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    status, body = await api(http, "sendMessage", chat_id=9, text="a<br>b", parse_mode="HTML")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: Unsupported")
    status, body = await api(http, "sendMessage", chat_id=9, text="1.", parse_mode="MarkdownV2")
    assert status == 400
    status, body = await api(http, "sendMessage", chat_id=9, text="1 < 2", parse_mode="HTML")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: Unsupported")
    await ok(http, "sendMessage", chat_id=9, text="<b>1.</b> &amp; ok", parse_mode="HTML")
    await ok(http, "sendMessage", chat_id=9, text="*1\\.* [a](http://x.y)", parse_mode="MarkdownV2")


# -- getUpdates -------------------------------------------------------------------------------


async def test_offset_semantics(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    user = emu.user(11)
    for text in ("a", "b", "c", "d"):
        await user.send(text)
    updates = await ok(http, "getUpdates")
    ids = [u["update_id"] for u in updates]
    assert [u["message"]["text"] for u in updates] == ["a", "b", "c", "d"]
    assert ids == sorted(ids)
    # Without a new offset nothing is confirmed; limit caps the batch.
    assert [u["update_id"] for u in await ok(http, "getUpdates", limit=2)] == ids[:2]
    # offset confirms everything below it for good.
    assert [u["update_id"] for u in await ok(http, "getUpdates", offset=ids[2])] == ids[2:]
    assert [u["update_id"] for u in await ok(http, "getUpdates")] == ids[2:]
    # A negative offset keeps only the last -offset updates.
    assert [u["update_id"] for u in await ok(http, "getUpdates", offset=-1)] == ids[3:]
    assert await ok(http, "getUpdates", offset=ids[3] + 1) == []
    assert emu.pending_updates == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(ok(http, "getUpdates", timeout=10))
    await emu.wait_for(lambda: emu.state.poll_generation == 1)
    await emu.user(12).send("wake up")
    updates = await poll
    assert time.monotonic() - started < 5
    assert updates[0]["message"]["text"] == "wake up"


async def test_long_poll_times_out_empty(http: aiohttp.ClientSession) -> None:
    started = time.monotonic()
    assert await ok(http, "getUpdates", timeout=0.2) == []
    assert 0.15 < time.monotonic() - started < 2


async def test_newer_poll_terminates_older_one(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(api(http, "getUpdates", timeout=10))
    await emu.wait_for(lambda: emu.state.poll_generation == 1)
    assert await ok(http, "getUpdates") == []
    status, body = await first
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_stop_does_not_hang_on_pending_poll() -> None:
    emulator = BotApiEmulator(TOKEN)
    await emulator.start()
    async with aiohttp.ClientSession(base_url=emulator.api_url) as http:
        poll = asyncio.create_task(api(http, "getUpdates", timeout=30))
        await emulator.wait_for(lambda: emulator.state.poll_generation == 1)
        started = time.monotonic()
        await emulator.stop()
        assert time.monotonic() - started < 2
        assert (await poll)[1]["result"] == []


# -- simulated users, callbacks, files --------------------------------------------------------


async def test_users_are_kept_apart(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    ana, bo = emu.user(1001, "Ana"), emu.user(1002, "Bo", username="bo")
    assert emu.user(1001) is ana
    first = await ana.send("/start_practice")
    assert first["entities"] == [{"type": "bot_command", "offset": 0, "length": 15}]
    await bo.send("hello")
    to_ana = await ok(http, "sendMessage", chat_id=1001, text="for Ana")
    to_bo = await ok(http, "sendMessage", chat_id=1002, text="for Bo")
    # Message ids are per chat and shared by both sides.
    assert (to_ana["message_id"], to_bo["message_id"]) == (2, 2)
    assert to_bo["chat"]["username"] == "bo"
    assert [m.text for m in ana.messages] == ["/start_practice", "for Ana"]
    assert [m.text for m in bo.bot_messages] == ["for Bo"]
    updates = await ok(http, "getUpdates")
    assert [u["message"]["from"]["id"] for u in updates] == [1001, 1002]


async def test_tap_and_answer_callback(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    user = emu.user(21, "Cy")
    await user.send("/start")
    sent = await ok(http, "sendMessage", chat_id=21, text="Pose", reply_markup=KEYBOARD)
    cq_id = await user.tap(sent["message_id"], "Next")
    with pytest.raises(LookupError, match="Next"):
        await user.tap(sent["message_id"], "Missing")
    forged = await user.tap_data(sent["message_id"], "p:n:9:9")
    queries = [u["callback_query"] for u in await ok(http, "getUpdates") if "callback_query" in u]
    assert [q["data"] for q in queries] == ["p:n:1:0", "p:n:9:9"]
    assert queries[0]["id"] == cq_id
    assert queries[0]["from"]["id"] == 21
    assert queries[0]["message"]["message_id"] == sent["message_id"]
    assert queries[0]["chat_instance"] == queries[1]["chat_instance"]

    assert await ok(http, "answerCallbackQuery", callback_query_id=cq_id, text="ok") is True
    status, body = await api(http, "answerCallbackQuery", callback_query_id=cq_id)
    assert status == 400
    assert "query is too old" in body["description"]
    status, _ = await api(http, "answerCallbackQuery", callback_query_id="nope")
    assert status == 400
    await ok(http, "answerCallbackQuery", callback_query_id=forged, show_alert=True)
    assert emu.callback_answers == [
        {
            "callback_query_id": cq_id,
            "text": "ok",
            "show_alert": False,
            "url": None,
            "cache_time": None,
            "user_id": 21,
        },
        {
            "callback_query_id": forged,
            "text": None,
            "show_alert": True,
            "url": None,
            "cache_time": None,
            "user_id": 21,
        },
    ]


async def test_document_and_photo_round_trip(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(31).send("send me the plan")
    payload = "Cat–Cow, Child's pose 🧘".encode()
    message = await bot.send_document(31, document=payload, filename="plan.txt", caption="Plan")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == ("plan.txt", "text/plain")
    assert message.document.file_size == len(payload)
    file = await bot.get_file(message.document.file_id)
    assert file.file_path is not None
    assert file.file_path.startswith(f"{emu.base_file_url}{TOKEN}/")
    assert bytes(await file.download_as_bytearray()) == payload

    photo = await bot.send_photo(31, photo=tiny_png(400, 200))
    assert (photo.photo[-1].width, photo.photo[-1].height) == (400, 200)
    assert photo.photo[0].width == 90
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == tiny_png(400, 200)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(31, photo=b"not an image")
    # A known file_id can be sent again without uploading.
    again = await bot.send_document(31, document=message.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == message.document.file_unique_id


async def test_edit_message_media_swaps_the_photo_in_place(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(32)
    await user.send("start")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Usual version", callback_data="u")]])
    sent = await bot.send_photo(32, photo=tiny_png(40, 20), caption="Pose 1")
    first = sent.photo[-1]

    # Uploaded with the edit (attach://), caption, parse mode and keyboard in the one call.
    media = InputMediaPhoto(tiny_png(30, 20), caption="<b>Pose 1</b>\nEasier", parse_mode="HTML")
    swapped = await bot.edit_message_media(
        media, chat_id=32, message_id=sent.message_id, reply_markup=keyboard
    )
    assert isinstance(swapped, Message) and swapped.message_id == sent.message_id
    assert (swapped.photo[-1].width, swapped.photo[-1].height) == (30, 20)
    assert swapped.photo[-1].file_unique_id != first.file_unique_id
    assert swapped.reply_markup == keyboard
    assert swapped.edit_date is not None
    [message] = user.bot_messages  # the same message, not a new one
    assert (message.edits, message.plain, message.parse_mode) == (1, "Pose 1\nEasier", "HTML")
    downloaded = await (await bot.get_file(swapped.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == tiny_png(30, 20)

    # Back by the first picture's file_id; the same again changes nothing.
    back = InputMediaPhoto(first.file_id, caption="Pose 1")
    again = await bot.edit_message_media(back, chat_id=32, message_id=sent.message_id)
    assert isinstance(again, Message) and again.photo[-1].file_unique_id == first.file_unique_id
    assert again.reply_markup is None  # an edit without a keyboard takes it away
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_media(back, chat_id=32, message_id=sent.message_id)
    assert user.bot_messages == [message] and message.edits == 2


async def test_edit_message_media_adds_a_photo_to_a_text_message(
    emu: BotApiEmulator, bot: Bot
) -> None:
    user = emu.user(33)
    await user.send("start")
    sent = await bot.send_message(33, "Pose 1")
    swapped = await bot.edit_message_media(
        InputMediaPhoto(tiny_png(), caption="Pose 1, easier"),
        chat_id=33,
        message_id=sent.message_id,
    )
    assert isinstance(swapped, Message)
    assert (swapped.text, swapped.caption, len(swapped.photo) > 0) == (None, "Pose 1, easier", True)
    [message] = user.bot_messages
    assert message.text is None and message.photo is not None


async def test_edit_message_media_refuses_as_telegram_does(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    user = emu.user(34)
    await user.send("start")
    document = await ok(http, "sendDocument", chat_id=34, document=_known_document(emu))
    text = await ok(http, "sendMessage", chat_id=34, text="Pose 1")
    mid = text["message_id"]

    async def refused(**params: Any) -> str:
        status, body = await api(http, "editMessageMedia", chat_id=34, **params)
        assert status == 400, body
        return str(body["description"]).removeprefix("Bad Request: ")

    picture = {"type": "photo", "media": "attach://picture"}
    assert await refused(message_id=mid) == 'parameter "media" is required'
    assert await refused(message_id=mid, media="{not json") == (
        "can't parse input media JSON object"
    )
    assert await refused(message_id=mid, media=[picture]) == (
        "can't parse InputMedia: expected an Object"
    )
    assert await refused(message_id=mid, media={"media": "x"}) == (
        "can't parse InputMedia: Can't find field \"type\""
    )
    # attach:// names a part the request does not carry.
    assert await refused(message_id=mid, media=picture) == "can't parse InputMedia: media not found"
    assert await refused(message_id=mid, media={"type": "voice", "media": "AwAC"}) == (
        'can\'t parse InputMedia: type "voice" is unsupported'
    )
    assert await refused(message_id=mid, media={"type": "photo", "media": "nope"}) == (
        "wrong file identifier/HTTP URL specified"
    )
    known_document = document["document"]["file_id"]
    assert await refused(message_id=mid, media={"type": "photo", "media": known_document}) == (
        "can't use file of type Document as Photo"
    )
    long_caption = {"type": "photo", "media": known_document, "caption": "x" * 1025}
    assert await refused(message_id=mid, media=long_caption) == "message caption is too long"
    assert await refused(message_id=999, media={"type": "photo", "media": _photo_id(emu)}) == (
        "message to edit not found"
    )
    mine = user.messages[0].message_id  # the user's own message
    assert await refused(message_id=mine, media={"type": "photo", "media": _photo_id(emu)}) == (
        "message can't be edited"
    )
    assert user.bot_messages[-1].text == "Pose 1"  # nothing was changed


def _known_document(emu: BotApiEmulator) -> str:
    stored = store_file(emu.state, "document", b"plan", file_name="plan.txt")
    return stored.file_id


def _photo_id(emu: BotApiEmulator) -> str:
    file_id = "AgACAgIAAxk-known-photo"
    if file_id not in emu.state.files:
        emu.keep_photo(file_id, tiny_png())
    return file_id


async def test_uploads_and_sends_by_file_id_are_counted_per_kind_and_per_content(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.user(32).send("pictures please")
    first = await bot.send_photo(32, photo=tiny_png(40, 20))
    await bot.send_photo(32, photo=tiny_png(40, 20))  # the same picture, uploaded again
    await bot.send_photo(32, photo=tiny_png(30, 20))
    await bot.send_photo(32, photo=first.photo[-1].file_id)
    await bot.send_document(32, document=b"notes", filename="notes.txt")
    with pytest.raises(BadRequest):
        await bot.send_photo(32, photo="no-such-file-id")  # sent by id, though refused
    assert emu.media.uploaded == {"photo": 3, "document": 1}
    assert emu.media.by_file_id == {"photo": 2}
    assert sorted(emu.media.per_content.values()) == [1, 1, 2]
    assert emu.media.most_uploads_of_one_file() == 2


async def test_audio_and_voice_are_sent_as_telegram_shapes_them(
    emu: BotApiEmulator, bot: Bot
) -> None:
    user = emu.user(35)
    await user.send("start")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Easier option", callback_data="e")]])
    mp3 = tiny_sound(3.0, "MP3")
    audio = await bot.send_audio(
        35,
        audio=mp3,
        filename="cue.mp3",
        caption="<b>Cat–Cow</b>",
        parse_mode="HTML",
        title="Cat–Cow",
        performer="Yoga Coach",
        duration=99,  # the file says 3 s, and Telegram reads the file
        thumbnail=tiny_png(32, 32),
        reply_markup=keyboard,
    )
    assert audio.audio is not None and audio.caption == "Cat–Cow"
    assert audio.audio.mime_type == "audio/mpeg"
    assert (audio.audio.title, audio.audio.performer) == ("Cat–Cow", "Yoga Coach")
    assert audio.audio.file_size == len(mp3) and audio.reply_markup == keyboard
    assert audio.audio.thumbnail is not None
    assert (audio.audio.thumbnail.width, audio.audio.thumbnail.height) == (32, 32)
    downloaded = await (await bot.get_file(audio.audio.file_id)).download_as_bytearray()
    assert bytes(downloaded) == mp3

    ogg = tiny_sound(2.0, "OGG")
    voice = await bot.send_voice(35, voice=ogg, caption="Breathe in", reply_markup=keyboard)
    assert voice.voice is not None and voice.caption == "Breathe in"
    assert voice.voice.mime_type == "audio/ogg"
    assert voice.voice.file_size == len(ogg)
    # Sent again by file_id, without uploading: the same file.
    again = await bot.send_voice(35, voice=voice.voice.file_id)
    assert again.voice is not None and again.voice.file_unique_id == voice.voice.file_unique_id
    assert [m.message_id for m in user.bot_messages] == [
        audio.message_id,
        voice.message_id,
        again.message_id,
    ]
    # Durations as answered (PTB turns them into timedeltas or ints, depending on its settings).
    sent_audio, sent_voice, _ = user.bot_messages
    assert sent_audio.audio is not None and sent_voice.voice is not None
    assert (sent_audio.audio["duration"], sent_voice.voice["duration"]) == (3, 2)


async def test_audio_and_voice_are_refused_as_telegram_refuses_them(
    emu: BotApiEmulator, bot: Bot
) -> None:
    user = emu.user(36)
    await user.send("start")
    # A voice note is OGG/Opus, MP3 or M4A; anything else is refused, not sent as a file.
    for other in (tiny_sound(1.0, "VORBIS"), tiny_sound(1.0, "WAV"), b"not a sound"):
        with pytest.raises(BadRequest, match=r"^Type of file mismatch$"):
            await bot.send_voice(36, voice=other)
    mp3_voice = await bot.send_voice(36, voice=tiny_sound(1.0, "MP3"))
    assert mp3_voice.voice is not None and mp3_voice.voice.mime_type == "audio/mpeg"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_voice(36, voice="AwACAgIAAxk-no-such-voice")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_audio(36, audio="CQACAgIAAxk-no-such-audio")
    # A voice note's file_id is no audio file, nor the other way round.
    audio = await bot.send_audio(36, audio=tiny_sound(1.0, "MP3"), filename="cue.mp3")
    assert audio.audio is not None
    with pytest.raises(BadRequest, match=r"^Type of file mismatch$"):
        await bot.send_audio(36, audio=mp3_voice.voice.file_id)
    with pytest.raises(BadRequest, match=r"^Type of file mismatch$"):
        await bot.send_voice(36, voice=audio.audio.file_id)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_voice(36, voice=tiny_sound(1.0, "OGG"), caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_audio(36, audio=audio.audio.file_id, caption="x" * 1025)
    assert len(user.bot_messages) == 2  # nothing refused was sent


async def test_edit_message_media_swaps_the_audio_in_place(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(37)
    await user.send("start")
    usual = InlineKeyboardMarkup([[InlineKeyboardButton("Easier option", callback_data="e")]])
    easier = InlineKeyboardMarkup([[InlineKeyboardButton("Usual version", callback_data="u")]])
    sent = await bot.send_audio(
        37, audio=tiny_sound(3.0, "MP3"), filename="a.mp3", caption="Pose 1", reply_markup=usual
    )
    assert sent.audio is not None
    first = sent.audio

    media = InputMediaAudio(
        tiny_sound(5.0, "MP3"),
        caption="<i>Pose 1, easier</i>",
        parse_mode="HTML",
        title="Pose 1, easier",
        thumbnail=tiny_png(20, 20),
        filename="b.mp3",
    )
    swapped = await bot.edit_message_media(
        media, chat_id=37, message_id=sent.message_id, reply_markup=easier
    )
    assert isinstance(swapped, Message) and swapped.message_id == sent.message_id
    assert swapped.audio is not None and swapped.audio.file_unique_id != first.file_unique_id
    assert swapped.audio.title == "Pose 1, easier"
    assert swapped.audio.thumbnail is not None
    assert (swapped.caption, swapped.reply_markup) == ("Pose 1, easier", easier)
    [message] = user.bot_messages
    assert (message.edits, message.plain) == (1, "Pose 1, easier")
    assert message.audio is not None and message.audio["duration"] == 5

    back = InputMediaAudio(first.file_id, caption="Pose 1")
    again = await bot.edit_message_media(
        back, chat_id=37, message_id=sent.message_id, reply_markup=usual
    )
    assert isinstance(again, Message) and again.audio is not None
    assert again.audio.file_unique_id == first.file_unique_id
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_media(
            back, chat_id=37, message_id=sent.message_id, reply_markup=usual
        )
    # A caption-only edit works on audio as on photos.
    captioned = await bot.edit_message_caption(
        chat_id=37, message_id=sent.message_id, caption="Pose 1 again", reply_markup=usual
    )
    assert isinstance(captioned, Message) and captioned.caption == "Pose 1 again"
    assert user.bot_messages == [message] and message.edits == 3


async def test_a_voice_note_is_no_media_telegram_edits(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(38)
    await user.send("start")
    voice = await bot.send_voice(38, voice=tiny_sound(1.0, "OGG"), caption="Breathe")
    audio = await bot.send_audio(38, audio=tiny_sound(1.0, "MP3"), filename="cue.mp3")
    assert audio.audio is not None
    with pytest.raises(BadRequest, match=r"(?i)^there is no media in the message to edit$"):
        await bot.edit_message_media(
            InputMediaAudio(audio.audio.file_id), chat_id=38, message_id=voice.message_id
        )
    # Its caption and keyboard can still change.
    edited = await bot.edit_message_caption(chat_id=38, message_id=voice.message_id, caption="Out")
    assert isinstance(edited, Message) and edited.voice is not None and edited.caption == "Out"
    assert user.bot_messages[0].voice is not None and user.bot_messages[0].audio is None


async def test_audio_and_voice_uploads_are_counted_per_kind_and_per_content(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.user(39).send("sounds please")
    mp3, ogg = tiny_sound(1.0, "MP3"), tiny_sound(1.0, "OGG")
    cover = tiny_png(32, 32)
    first = await bot.send_audio(39, audio=mp3, filename="a.mp3", thumbnail=cover)
    assert first.audio is not None
    await bot.send_audio(39, audio=first.audio.file_id, thumbnail=cover)
    voice = await bot.send_voice(39, voice=ogg)
    assert voice.voice is not None
    await bot.send_voice(39, voice=ogg)  # the same recording, uploaded again
    await bot.send_voice(39, voice=voice.voice.file_id)
    assert emu.media.uploaded == {"audio": 1, "voice": 2, "thumbnail": 2}
    assert emu.media.by_file_id == {"audio": 1, "voice": 1}
    # A thumbnail cannot be reused by file_id: its uploads are no waste to count per content.
    assert sorted(emu.media.per_content.values()) == [1, 2]


async def test_commands_and_chat_action(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.set_my_commands([("practice", "Start today's practice"), ("stop", "Stop")])
    assert emu.commands == [
        {"command": "practice", "description": "Start today's practice"},
        {"command": "stop", "description": "Stop"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["practice", "stop"]
    assert await bot.get_my_commands(language_code="de") == ()
    await bot.delete_my_commands()
    assert emu.commands == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])
    await emu.user(41).send("hi")
    assert await bot.send_chat_action(41, "typing") is True
    assert emu.state.chats[41].last_action == "typing"


# -- Mini Apps ----------------------------------------------------------------------------------


def web_app_keyboard(url: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "Open the player", "web_app": {"url": url}}]]}


def https_only(what: str, url: str) -> str:
    return f"Bad Request: {what} Web App URL '{url}' is invalid: Only HTTPS links are allowed"


async def test_web_app_buttons_need_https_but_loopback_http_is_taken(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    user = emu.user(71, "Ana")
    await user.send("hi")
    # The playground serves its Mini App over http on 127.0.0.1: the emulator takes that.
    for url in (
        "https://yoga.example.org/app/",
        "http://127.0.0.1:8081/app/",
        "http://localhost:9/app/",
        "http://[::1]:9/app/",
    ):
        sent = await ok(
            http, "sendMessage", chat_id=71, text="Go", reply_markup=web_app_keyboard(url)
        )
        assert sent["reply_markup"] == web_app_keyboard(url)
    refused = {
        "http://yoga.example.org/app/": https_only(
            "inline keyboard button", "http://yoga.example.org/app/"
        ),
        "http://10.0.0.1/app/": https_only("inline keyboard button", "http://10.0.0.1/app/"),
        "tg://resolve?domain=x": https_only("inline keyboard button", "tg://resolve?domain=x"),
        "https://intranet/app/": (
            "Bad Request: inline keyboard button Web App URL 'https://intranet/app/' is invalid: "
            "Wrong HTTP URL"
        ),
    }
    for url, description in refused.items():
        status, body = await api(
            http, "sendMessage", chat_id=71, text="Go", reply_markup=web_app_keyboard(url)
        )
        assert (status, body["description"]) == (400, description)
    for web_app, error in (
        ({}, 'Can\'t find field "url"'),
        ({"url": 5}, 'Field "url" must be of type String'),
        ("https://yoga.example.org/", 'Field "web_app" must be of type Object'),
    ):
        markup = {"inline_keyboard": [[{"text": "Open", "web_app": web_app}]]}
        status, body = await api(http, "sendMessage", chat_id=71, text="Go", reply_markup=markup)
        assert (status, body["description"]) == (
            400,
            f"Bad Request: can't parse inline keyboard button: {error}",
        )
    assert len(user.bot_messages) == 4
    # An edit is held to the same rule.
    mid = user.bot_messages[0].message_id
    bad = web_app_keyboard("http://yoga.example.org/")
    status, body = await api(
        http, "editMessageReplyMarkup", chat_id=71, message_id=mid, reply_markup=bad
    )
    assert (status, body["description"]) == (
        400,
        https_only("inline keyboard button", "http://yoga.example.org/"),
    )


async def test_web_app_buttons_are_refused_outside_private_chats(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.user(72, "Ana")
    group = emu.group(-720, "Back care")
    await group.add_bot(by=ana)
    keyboard = web_app_keyboard("https://yoga.example.org/app/")
    status, body = await api(http, "sendMessage", chat_id=-720, text="Go", reply_markup=keyboard)
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_TYPE_INVALID")
    form = aiohttp.FormData({"chat_id": "-720", "reply_markup": json.dumps(keyboard)})
    form.add_field("photo", tiny_png(), filename="p.png", content_type="image/png")
    async with http.post(f"/bot{TOKEN}/sendPhoto", data=form) as response:
        assert (response.status, (await response.json())["description"]) == (
            400,
            "Bad Request: BUTTON_TYPE_INVALID",
        )
    assert group.bot_messages == []
    # A keyboard without a Mini App is fine there, and an edit cannot add one.
    sent = await ok(http, "sendMessage", chat_id=-720, text="Go", reply_markup=KEYBOARD)
    for method, extra in (
        ("editMessageReplyMarkup", {}),
        ("editMessageText", {"text": "Go now"}),
    ):
        status, body = await api(
            http,
            method,
            chat_id=-720,
            message_id=sent["message_id"],
            reply_markup=keyboard,
            **extra,
        )
        assert (status, body["description"]) == (400, "Bad Request: BUTTON_TYPE_INVALID")
    assert group.bot_messages[0].reply_markup == KEYBOARD
    assert group.bot_messages[0].text == "Go"


async def test_menu_button_per_chat_and_by_default(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    ana, bo = emu.user(73, "Ana"), emu.user(74, "Bo")
    await ana.send("hi")
    await bo.send("hi")
    commands, default = {"type": "commands"}, {"type": "default"}
    assert await ok(http, "getChatMenuButton") == commands
    assert await ok(http, "getChatMenuButton", chat_id=73) == default
    assert ana.menu_button == commands
    assert ana.web_apps == []

    everyone = {
        "type": "web_app",
        "text": "Player",
        "web_app": {"url": "https://yoga.example.org/app/"},
    }
    assert await ok(http, "setChatMenuButton", menu_button=everyone) is True
    assert await ok(http, "getChatMenuButton") == everyone
    assert emu.default_menu_button == everyone
    assert await ok(http, "getChatMenuButton", chat_id=73) == default
    assert (ana.menu_button, bo.menu_button) == (everyone, everyone)

    own = {"type": "web_app", "text": "My class", "web_app": {"url": "http://127.0.0.1:8081/app/"}}
    assert await ok(http, "setChatMenuButton", chat_id=73, menu_button=own) is True
    assert await ok(http, "getChatMenuButton", chat_id=73) == own
    assert (ana.menu_button, bo.menu_button) == (own, everyone)
    assert ana.web_apps == ["http://127.0.0.1:8081/app/"]
    # "default" (or no menu_button at all) gives the chat back to the bot's default.
    await ok(http, "setChatMenuButton", chat_id=73, menu_button={"type": "default"})
    assert await ok(http, "getChatMenuButton", chat_id=73) == default
    assert ana.menu_button == everyone
    await ok(http, "setChatMenuButton", chat_id=74, menu_button=commands)
    assert (await ok(http, "getChatMenuButton", chat_id=74), bo.menu_button) == (commands, commands)
    await ok(http, "setChatMenuButton", chat_id=74)
    assert bo.menu_button == everyone
    await ok(http, "setChatMenuButton", menu_button=commands)
    assert await ok(http, "getChatMenuButton") == commands
    assert ana.menu_button == commands


async def test_menu_buttons_telegram_refuses(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    ana = emu.user(75, "Ana")
    await ana.send("hi")
    group = emu.group(-750)
    await group.add_bot(by=ana)
    good = {"type": "web_app", "text": "Player", "web_app": {"url": "https://yoga.example.org/"}}
    refused: list[tuple[dict[str, Any], str]] = [
        (
            {"menu_button": {**good, "web_app": {"url": "http://yoga.example.org/"}}},
            https_only("menu button", "http://yoga.example.org/"),
        ),
        ({"menu_button": {**good, "text": ""}}, "Bad Request: menu button text must be non-empty"),
        (
            {"menu_button": {"type": "web_app", "text": "Player"}},
            'Bad Request: can\'t parse menu button: Field "web_app" must be of type Object',
        ),
        (
            {"menu_button": {"type": "login"}},
            "Bad Request: can't parse menu button: MenuButton has unsupported type",
        ),
        (
            {"menu_button": {"text": "Player"}},
            "Bad Request: can't parse menu button: Can't find field \"type\"",
        ),
        # Only a user has a menu button of their own; a group's id is no user id.
        ({"chat_id": -750, "menu_button": good}, "Bad Request: invalid chat_id specified"),
        ({"chat_id": 9999, "menu_button": good}, "Bad Request: user not found"),
    ]
    for params, description in refused:
        status, body = await api(http, "setChatMenuButton", **params)
        assert (status, body["description"]) == (400, description), params
    status, body = await api(http, "getChatMenuButton", chat_id=-750)
    assert (status, body["description"]) == (400, "Bad Request: invalid chat_id specified")
    assert await ok(http, "getChatMenuButton") == {"type": "commands"}
    assert ana.menu_button == {"type": "commands"}


async def test_ptb_sets_and_reads_a_menu_button(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(76, "Ana").send("hi")
    button = MenuButtonWebApp("Player", WebAppInfo("http://127.0.0.1:8081/app/"))
    assert await bot.set_chat_menu_button(chat_id=76, menu_button=button) is True
    assert await bot.get_chat_menu_button(76) == button
    assert await bot.get_chat_menu_button() == MenuButtonCommands()
    sent = await bot.send_message(
        76,
        "Open it",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Open", web_app=WebAppInfo("https://yoga.example.org/app/"))]]
        ),
    )
    assert sent.reply_markup is not None
    web_app = sent.reply_markup.inline_keyboard[0][0].web_app
    assert web_app == WebAppInfo("https://yoga.example.org/app/")


async def test_init_data_is_signed_as_telegram_signs_it(emu: BotApiEmulator) -> None:
    user = emu.user(77, "Ana Maria", last_name="Sá", username="ana", language_code="pt")
    signed = emu.sign_init_data(user, clock=lambda: 1_700_000_000.9, query_id="AAHdF6IQAAAAAN0X")
    fields = init_data_fields(signed)
    assert list(fields) == ["query_id", "user", "auth_date", "hash"]
    assert fields["query_id"] == "AAHdF6IQAAAAAN0X"
    assert fields["auth_date"] == "1700000000"
    assert json.loads(fields["user"]) == {
        "id": 77,
        "first_name": "Ana Maria",
        "last_name": "Sá",
        "username": "ana",
        "language_code": "pt",
        "allows_write_to_pm": True,
    }
    # Url-encoded as Telegram writes it: a space is %20, the JSON's braces and quotes escaped.
    assert "Ana%20Maria" in signed
    assert "user=%7B%22id%22%3A77%2C" in signed
    assert re.fullmatch(r"[0-9a-f]{64}", fields["hash"])
    assert fields["hash"] == telegram_hash(TOKEN, fields)
    assert fields["hash"] != telegram_hash("123456:OTHER-TOKEN", fields)
    # Any change of any field breaks the hash.
    for key in ("query_id", "user", "auth_date"):
        changed = {**fields, key: fields[key].replace("0", "1").replace("A", "B")}
        assert changed[key] != fields[key]
        assert fields["hash"] != telegram_hash(TOKEN, changed), key
    # Signing is a function of its inputs: the same ones give the same initData.
    again = emu.sign_init_data(user, clock=lambda: 1_700_000_000, query_id="AAHdF6IQAAAAAN0X")
    assert again == signed
    later = emu.sign_init_data(user, clock=lambda: 1_700_000_001, query_id="AAHdF6IQAAAAAN0X")
    assert init_data_fields(later)["hash"] != fields["hash"]
    # A launch from a direct link also names the chat; those fields are signed too.
    linked = init_data_fields(
        emu.sign_init_data(user, chat_type="sender", chat_instance="-8046372")
    )
    assert (linked["chat_type"], linked["chat_instance"]) == ("sender", "-8046372")
    assert linked["hash"] == telegram_hash(TOKEN, linked)
    # Without a clock, the emulator's; a fresh query id each time.
    assert abs(int(linked["auth_date"]) - time.time()) < 60
    assert linked["query_id"] != init_data_fields(emu.sign_init_data(user))["query_id"]


async def test_a_user_opens_only_the_mini_apps_the_chat_offers(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    user = emu.user(78, "Ana")
    await user.send("hi")
    url = "http://127.0.0.1:8081/app/"
    with pytest.raises(LookupError, match="no Mini App"):
        user.open_web_app(url)
    sent = await ok(http, "sendMessage", chat_id=78, text="Go", reply_markup=web_app_keyboard(url))
    assert user.web_apps == [url]
    launched = launch_parameters(user.open_web_app(url), url)
    assert set(launched) == {
        "tgWebAppData",
        "tgWebAppVersion",
        "tgWebAppPlatform",
        "tgWebAppThemeParams",
    }
    assert (launched["tgWebAppVersion"], launched["tgWebAppPlatform"]) == ("8.0", "weba")
    fields = init_data_fields(launched["tgWebAppData"])
    assert json.loads(fields["user"])["id"] == 78
    assert fields["hash"] == telegram_hash(TOKEN, fields)
    theme = json.loads(launched["tgWebAppThemeParams"])
    assert set(theme) == {
        "bg_color",
        "text_color",
        "hint_color",
        "link_color",
        "button_color",
        "button_text_color",
        "secondary_bg_color",
        "header_bg_color",
        "accent_text_color",
        "section_bg_color",
        "section_header_text_color",
        "subtitle_text_color",
        "destructive_text_color",
    }
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in theme.values())
    assert (theme["bg_color"], theme["text_color"]) == ("#ffffff", "#000000")
    dark = launch_parameters(user.open_web_app(url, color_scheme="dark"), url)
    dark_theme = json.loads(dark["tgWebAppThemeParams"])
    assert set(dark_theme) == set(theme)
    assert (dark_theme["bg_color"], dark_theme["text_color"]) == ("#212121", "#ffffff")
    with pytest.raises(ValueError, match="color_scheme"):
        user.open_web_app(url, color_scheme="sepia")
    # An old clock makes old initData, as a Mini App left open for a day has.
    stale = launch_parameters(user.open_web_app(url, clock=lambda: 1_000_000_000), url)
    assert init_data_fields(stale["tgWebAppData"])["auth_date"] == "1000000000"
    # Once the message is gone, so is its button.
    await ok(http, "deleteMessage", chat_id=78, message_id=sent["message_id"])
    with pytest.raises(LookupError, match="no Mini App"):
        user.open_web_app(url)


def test_launch_parameters_join_a_fragment_the_url_has_as_telegram_does() -> None:
    params = launch_url("https://a.example/app/", "q=1", color_scheme="light").partition("#")[2]
    for url, expected in (
        ("https://a.example/app/", f"https://a.example/app/#{params}"),
        ("https://a.example/app/#", f"https://a.example/app/#{params}"),
        ("https://a.example/app/#/home", f"https://a.example/app/#/home?{params}"),
        ("https://a.example/app/#page=2", f"https://a.example/app/#page=2&{params}"),
    ):
        assert launch_url(url, "q=1", color_scheme="light") == expected


# -- fault injection, blocking, webhook --------------------------------------------------------


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(51).send("hi")
    await emu.user(52).send("hi")
    emu.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(51, "x")
    assert "3" in str(flood.value)
    assert emu.calls[-1].error_code == 429

    emu.fail_next("sendMessage", error_code=403, chat_id=52, times=2)
    await bot.send_message(51, "other chats are unaffected")
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(52, "x")
    await bot.send_message(52, "works again")
    assert [m.text for m in emu.user(52).bot_messages] == ["works again"]


async def test_a_held_call_is_answered_once_released_and_others_go_meanwhile(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.user(53).send("hi")
    await emu.user(54).send("hi")
    hold = emu.hold_next("sendMessage", chat_id=53)
    held = asyncio.create_task(bot.send_message(53, "held"))
    await emu.wait_for(hold.arrived.is_set)
    await bot.send_message(54, "not held")
    assert hold.hanging and not held.done()
    assert emu.user(53).bot_messages == []
    hold.release()
    assert (await held).text == "held"
    assert not hold.hanging and not hold.abandoned


async def test_a_held_call_the_client_gives_up_on_is_abandoned_and_not_carried_out(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    await emu.user(55).send("hi")
    hold = emu.hold_next("sendMessage")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await api(http, "sendMessage", chat_id=55, text="given up")
    await emu.wait_for(lambda: hold.abandoned)
    assert emu.user(55).bot_messages == []


async def test_blocked_user(emu: BotApiEmulator, bot: Bot) -> None:
    user = emu.user(61)
    await user.send("hi")
    await user.block()
    with pytest.raises(Forbidden):
        await bot.send_message(61, "reminder")
    updates = await bot.get_updates()
    assert updates[-1].my_chat_member is not None
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"


async def test_invalid_token_raises_in_ptb(emu: BotApiEmulator) -> None:
    # Bot's context manager verifies the token with getMe and shuts down when it fails.
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("123456:WRONG", base_url=emu.base_url):
            pass


@dataclass
class Receiver:
    url: str
    statuses: list[int]
    received: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="", statuses=[])

    async def handle(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        box.received.append((secret, await request.json()))
        return web.Response(status=box.statuses.pop(0) if box.statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    box.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield box
    await runner.cleanup()


async def test_webhook_delivery(
    emu: BotApiEmulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.statuses = [500]  # the first attempt fails and must be retried
    status, body = await api(http, "setWebhook", url=receiver.url, secret_token="s3cr3t")
    assert (status, body["description"]) == (200, "Webhook was set")
    await emu.user(71).send("via webhook")
    await emu.wait_for(lambda: len(receiver.received) == 2 and not emu.pending_updates)
    assert [secret for secret, _ in receiver.received] == ["s3cr3t", "s3cr3t"]
    assert receiver.received[1][1]["message"]["text"] == "via webhook"
    info = await ok(http, "getWebhookInfo")
    assert info["url"] == receiver.url
    assert info["pending_update_count"] == 0
    assert info["last_error_message"].endswith("500 Internal Server Error")

    status, body = await api(http, "getUpdates")
    assert (status, body["error_code"]) == (409, 409)
    assert "webhook is active" in body["description"]
    assert await ok(http, "deleteWebhook") is True
    await emu.user(71).send("via polling")
    assert [u["message"]["text"] for u in await ok(http, "getUpdates")] == ["via polling"]


# -- the real PTB Bot against the emulator ----------------------------------------------------


async def test_ptb_bot_round_trip(emu: BotApiEmulator) -> None:
    async with Bot(TOKEN, base_url=f"{emu.api_url}/bot", base_file_url=emu.base_file_url) as bot:
        me = await bot.get_me()
        assert (me.id, me.username) == (123456, "yogabot_test")
        user = emu.user(1001, "Ana")
        await user.send("/start_practice")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="p:n:1:0")]])
        sent = await bot.send_message(1001, "Mountain pose", reply_markup=keyboard)
        assert sent.reply_markup == keyboard
        edited = await bot.edit_message_text(
            "Cat–Cow", chat_id=1001, message_id=sent.message_id, reply_markup=keyboard
        )
        assert not isinstance(edited, bool)
        assert edited.edit_date is not None
        await user.tap(sent.message_id, "Next")

        updates = await bot.get_updates(timeout=1)
        assert updates[0].message is not None
        assert updates[0].message.text == "/start_practice"
        assert updates[0].message.from_user is not None
        assert updates[0].message.from_user.first_name == "Ana"
        query = updates[1].callback_query
        assert query is not None
        assert query.data == "p:n:1:0"
        assert isinstance(query.message, Message)
        assert query.message.text == "Cat–Cow"
        await query.answer("Next pose")
        assert emu.callback_answers[-1]["text"] == "Next pose"

        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999, "nobody")
        emu.fail_next("getUpdates", error_code=409, description="Conflict: injected")
        with pytest.raises(Conflict):
            await bot.get_updates()


async def test_wait_for_and_subscribe(emu: BotApiEmulator, http: aiohttp.ClientSession) -> None:
    events = emu.subscribe()
    user = emu.user(81)
    await user.send("hi")
    await ok(http, "sendMessage", chat_id=81, text="hello")
    assert (await user.wait_bot_message()).text == "hello"
    with pytest.raises(TimeoutError, match="sendMessage"):
        await emu.wait_for(lambda: len(user.bot_messages) > 1, timeout=0.05)
    kinds = []
    while not events.empty():
        kinds.append(events.get_nowait()["type"])
    assert kinds == ["message", "update", "message"]
    emu.unsubscribe(events)


async def test_crash_becomes_json_500(
    emu: BotApiEmulator, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(state: EmulatorState, p: Any) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setitem(METHODS, "getme", MethodSpec("getMe", boom))
    status, body = await api(http, "getMe")
    assert (status, body["ok"], body["error_code"]) == (500, False, 500)
    assert isinstance(emu.internal_errors.pop(), ZeroDivisionError)


async def test_ptb_application_polls_and_stops_quickly(emu: BotApiEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="n")]])
        await update.effective_message.reply_text("Pose 1", reply_markup=keyboard)

    async def on_next(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("Pose 2")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_next))
    user = emu.user(91, "Dee")
    started = time.monotonic()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=10)
        await user.send("/start")
        pose = await user.wait_bot_message()
        await user.tap(pose.message_id, "Next")
        await emu.wait_for(lambda: pose.text == "Pose 2" and emu.callback_answers)
        await app.updater.stop()
        await app.stop()
    # A 10 s long poll was pending the whole time; neither answers nor shutdown waited for it.
    assert time.monotonic() - started < 5
    assert emu.pending_updates == []


async def test_open_chat_lets_the_bot_write_first(
    emu: BotApiEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await api(http, "sendMessage", chat_id=31, text="hello?")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    user = emu.user(31, "Di")
    assert user.open_chat() is user.open_chat()
    await ok(http, "sendMessage", chat_id=31, text="welcome back")
    assert [m.plain for m in user.bot_messages] == ["welcome back"]
    assert emu.pending_updates == []


# -- package structure ------------------------------------------------------------------------

EMULATOR_DIR = Path(__file__).resolve().parents[2] / "playground" / "emulator"
EMULATOR_PACKAGE = "playground.emulator"
FIRST_PARTY = frozenset({"bot", "handlers", "playground", "cli", "sequences", "migrations"})


def imported_names(path: Path) -> set[str]:
    """Every module name one file of the emulator imports, wherever the statement is:
    TYPE_CHECKING blocks and function bodies tie the modules together just the same."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # Relative imports in the package's files resolve against the package itself.
            base = EMULATOR_PACKAGE.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            names.add(source)
            # `from package import name` may import a submodule of that name as well.
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def emulator_imports() -> dict[str, set[str]]:
    """{module: the names it imports} for every module of the emulator package."""
    imports = {}
    for path in sorted(EMULATOR_DIR.glob("*.py")):
        module = EMULATOR_PACKAGE if path.stem == "__init__" else f"{EMULATOR_PACKAGE}.{path.stem}"
        imports[module] = imported_names(path)
    return imports


def test_emulator_modules_import_without_cycles() -> None:
    imports = emulator_imports()
    # Only explicit imports are edges: importing a submodule runs the package __init__ first,
    # but the submodule does not depend on what __init__ re-exports.
    graph = {module: names & imports.keys() for module, names in imports.items()}
    assert f"{EMULATOR_PACKAGE}.emulator" in graph[EMULATOR_PACKAGE]
    assert f"{EMULATOR_PACKAGE}.methods" in graph[f"{EMULATOR_PACKAGE}.registry"]
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle in the emulator: {' -> '.join(exc.args[1])}")


def test_emulator_imports_no_code_of_the_bot() -> None:
    # The emulator stands in for Telegram, so it must not know the bot it is testing.
    outside = {
        f"{module} imports {name}"
        for module, names in emulator_imports().items()
        for name in names
        if name.partition(".")[0] in FIRST_PARTY
        and not (name == EMULATOR_PACKAGE or name.startswith(f"{EMULATOR_PACKAGE}."))
    }
    assert outside == set()


async def test_an_audio_sent_again_by_its_file_id_keeps_its_cover_and_edits_count_uploads(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.user(40).send("covers please")
    cover = tiny_png(32, 32)
    first = await bot.send_audio(
        40, audio=tiny_sound(1.0, "MP3"), filename="a.mp3", thumbnail=cover
    )
    assert first.audio is not None and first.audio.thumbnail is not None
    # By its file_id, with no cover given: the one it was uploaded with.
    again = await bot.send_audio(40, audio=first.audio.file_id)
    assert again.audio is not None and again.audio.thumbnail is not None
    assert again.audio.thumbnail.file_unique_id == first.audio.thumbnail.file_unique_id
    # An edit that uploads counts as an upload; one by file_id as a send by file_id.
    other = tiny_sound(1.5, "MP3")
    swapped = await bot.edit_message_media(
        InputMediaAudio(other, thumbnail=cover), chat_id=40, message_id=again.message_id
    )
    assert isinstance(swapped, Message) and swapped.audio is not None
    await bot.edit_message_media(
        InputMediaAudio(first.audio.file_id), chat_id=40, message_id=again.message_id
    )
    assert emu.media.uploaded["audio"] == 2
    assert emu.media.by_file_id["audio"] == 2
    assert emu.media.most_uploads_of_one_file() == 1
