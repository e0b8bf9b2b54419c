"""What the webhook server refuses, over real HTTP on 127.0.0.1: headers and bodies that are
not an update from Telegram, clients too slow to finish a request, and an update it has
already handled. Each is answered without a traceback, and none reaches a handler."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import handlers.webhook
from bot import database
from bot.clock import ManualClock
from bot.handled_updates import CLAIM_TIMEOUT
from bot.store import Store
from handlers.webhook import MAX_BODY_BYTES
from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.bot import has_message
from tests.harness.webhook import (
    SECRET,
    SECRET_HEADER,
    WITH_SECRET,
    free_port,
    help_update,
    post,
    post_raw,
    raw_post_request,
    status_of,
    webhook_bot,
    webhook_url,
)

HELP_REPLY = "/start_practice"


def troubles(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records that would page someone: an ERROR, or anything with a traceback."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def sends(emulator: BotApiEmulator) -> int:
    return len(emulator.calls_of("sendMessage"))


@pytest.mark.parametrize(
    "secret",
    [
        b"\xff\xfe\xfd",  # not UTF-8 at all
        SECRET.encode() + b"\xff",  # the secret, then a byte that is not UTF-8
        SECRET.encode()[:-1] + b"\xc3",  # a near miss ending in half a character
    ],
)
async def test_a_secret_header_that_is_not_utf8_gets_403_without_a_traceback(
    emulator: BotApiEmulator,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    secret: bytes,
) -> None:
    user = emulator.user(5101)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        body = json.dumps(help_update(user, 9201)).encode()
        answer = await post_raw(port, raw_post_request(body, secret=secret))
        assert status_of(answer) == 403
        # The same bytes with the right secret are handled: the header alone made the 403.
        assert status_of(await post_raw(port, raw_post_request(body))) == 200
        await emulator.wait_for(has_message(user, HELP_REPLY))
        assert len(user.bot_messages) == 1
    assert troubles(caplog) == []


async def test_two_secret_headers_or_a_body_over_a_megabyte_are_refused(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = emulator.user(5108)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        body = json.dumps(help_update(user, 9211)).encode()
        # The right secret twice: Telegram sends it once, so this is not Telegram.
        request = raw_post_request(body)
        twice = request.replace(b"\r\n\r\n", f"\r\n{SECRET_HEADER}: {SECRET}\r\n\r\n".encode())
        assert status_of(await post_raw(port, twice)) == 403
        big = json.dumps({**help_update(user, 9212), "pad": "x" * MAX_BODY_BYTES}).encode()
        assert status_of(await post_raw(port, raw_post_request(big))) == 413
        assert sends(emulator) == 0
    assert troubles(caplog) == []


def _help(user: SimulatedUser, update_id: int, **message: Any) -> dict[str, Any]:
    update = help_update(user, update_id)
    update["message"].update(message)
    return update


def _from(user: SimulatedUser, update_id: int, **sender: Any) -> dict[str, Any]:
    update = help_update(user, update_id)
    update["message"]["from"].update(sender)
    return update


def _bodies(user: SimulatedUser) -> dict[str, bytes]:
    """Bodies that are not an update, each the smallest change of a real /help."""

    def encoded(update: object) -> bytes:
        return json.dumps(update).encode()

    deep = 200_000
    return {
        "a date past the year 9999": encoded(_help(user, 9301, date=1e20)),
        "a date of 2**70 seconds": encoded(_help(user, 9302, date=2**70)),
        "a user id of 2**70": encoded(_from(user, 9303, id=2**70)),
        "a chat id of 2**70": encoded(_help(user, 9304, chat={"id": 2**70, "type": "private"})),
        "an update id of 2**70": encoded({**help_update(user, 9305), "update_id": 2**70}),
        "a negative update id": encoded({**help_update(user, 9306), "update_id": -1}),
        "JSON nested 200,000 deep": b"[" * deep + b"]" * deep,
        "an update nested 200,000 deep": (
            b'{"update_id": 9307, "message": ' + b"[" * deep + b"]" * deep + b"}"
        ),
        "a chat id that is a string": encoded(_help(user, 9308, chat={"id": "x", "type": "p"})),
        "text that is a number": encoded(_help(user, 9309, text=42)),
        "an update id that is a string": encoded({**help_update(user, 9310), "update_id": "1"}),
        "an update id that is true": encoded({**help_update(user, 9311), "update_id": True}),
        "a user id that is a float": encoded(_from(user, 9312, id=5101.5)),
        "a message that is a list": encoded({"update_id": 9313, "message": []}),
        "a date that is NaN": encoded(_help(user, 9314, date=0)).replace(
            b'"date": 0', b'"date": NaN'
        ),
        "no update id": encoded({"message": help_update(user, 9315)["message"]}),
        "a latitude of 91": encoded(_help(user, 9318, location={"latitude": 91, "longitude": 0})),
        "a list": b"[]",
        "a number": b"9316",
        "null": b"null",
        "bytes that are not UTF-8": b'{"update_id": 9317, "message": "\xff"}',
        "not JSON": b"{not json",
        "nothing": b"",
    }


async def test_a_body_that_is_not_an_update_gets_400_without_a_traceback(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = emulator.user(5102)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        answered = {
            name: status_of(await post_raw(port, raw_post_request(body)))
            for name, body in _bodies(user).items()
        }
        assert answered == dict.fromkeys(answered, 400)
        assert sends(emulator) == 0
        # The server is none the worse: the next real update is handled.
        assert await post(webhook_url(port), help_update(user, 9399), WITH_SECRET) == 200
        assert len(user.bot_messages) == 1
    assert troubles(caplog) == []
    refused = [r for r in caplog.records if "not an update" in r.getMessage()]
    assert len(refused) == len(answered)
    # One line each, naming no value the body held.
    assert all("\n" not in r.getMessage() and "9301" not in r.getMessage() for r in refused)


@pytest.mark.parametrize(
    "request_bytes",
    [
        # A Content-Length that is not a number.
        b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
        # A header line with no colon.
        b"POST /telegram HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        # Chunked encoding whose chunk size is not hexadecimal.
        b"POST /telegram HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        # An HTTP version that does not exist.
        b"POST /telegram HTTP/1.x\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        # A NUL byte inside a header's value.
        b"POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: a\x00b\r\n\r\n",
    ],
)
async def test_a_request_that_is_not_http_is_refused_with_one_warning_and_no_traceback(
    emulator: BotApiEmulator,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    request_bytes: bytes,
) -> None:
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        answer = await post_raw(port, request_bytes)
    assert b" 400 " in answer
    assert troubles(caplog) == []
    [warning] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert warning.levelno == logging.WARNING
    assert "\n" not in warning.getMessage()


@contextlib.contextmanager
def read_timeout(seconds: float) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handlers.webhook, "READ_TIMEOUT", seconds)
        yield


# What `_trickle` returns when the connection was reset rather than closed.
RESET = b"<connection reset>"


async def _trickle(port: int, start: bytes, drip: bytes) -> bytes:
    """Send `start`, then `drip` one byte every 50 ms for as long as the server listens;
    what the server answered (b"" if it just closed the connection, RESET if the close
    came as a reset)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def drip_forever() -> None:
        writer.write(start)
        for byte in drip:
            await asyncio.sleep(0.05)
            writer.write(bytes([byte]))
            await writer.drain()

    dripping = asyncio.create_task(drip_forever())
    try:
        # The server drops the client within its read timeout (0.5 s here): the bound is a
        # generous multiple, the default timeout is 5 s.
        async with asyncio.timeout(4):
            return await reader.read()
    except ConnectionResetError:
        # The server closed while bytes were still arriving: the kernel then resets the
        # connection, which may discard an answer before it is read. Dropped all the same.
        return RESET
    finally:
        dripping.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await dripping
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_clients_that_trickle_their_headers_are_dropped_within_the_read_timeout(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    with read_timeout(0.5):
        async with webhook_bot(emulator, database_url, port):
            loop = asyncio.get_running_loop()
            began = loop.time()
            endless = b"X-Padding: " + b"a" * 2000
            answers = await asyncio.gather(
                *(_trickle(port, b"POST /telegram HTTP/1.1\r\n", endless) for _ in range(5))
            )
            took = loop.time() - began
            # Still serving: a real update after them is handled.
            user = emulator.user(5103)
            user.open_chat()
            assert await post(webhook_url(port), help_update(user, 9401), WITH_SECRET) == 200
    assert set(answers) <= {b"", RESET}
    assert len(answers) == 5
    assert 0.4 < took < 4
    assert troubles(caplog) == []


async def test_a_client_that_trickles_its_body_is_dropped_within_the_read_timeout(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = emulator.user(5104)
    user.open_chat()
    body = json.dumps(help_update(user, 9501)).encode()
    port = free_port()
    with read_timeout(0.5):
        async with webhook_bot(emulator, database_url, port):
            headers = raw_post_request(body)[: -len(body)]
            answer = await _trickle(port, headers, body)
    # 408, unless the reset that follows the server's close overtook the answer.
    assert answer == RESET or status_of(answer) == 408
    assert sends(emulator) == 0
    assert troubles(caplog) == []


async def test_an_update_posted_again_is_answered_200_and_not_handled_again(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(5105)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        update = help_update(user, 9601)
        assert await post(webhook_url(port), update, WITH_SECRET) == 200
        assert await post(webhook_url(port), update, WITH_SECRET) == 200
        # A /feedback note is the case that shows: sent twice, it would be stored twice.
        assert len(user.bot_messages) == 1
        # A new update from the same chat is still handled.
        assert await post(webhook_url(port), help_update(user, 9602), WITH_SECRET) == 200
        assert len(user.bot_messages) == 2


async def test_two_workers_given_the_same_update_at_once_handle_it_once(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """Two Applications, each with its webhook server, on one database, as two workers
    behind a balancer: Telegram's retry of an update reaches the second while the first
    may still be handling it."""
    user = emulator.user(5106)
    user.open_chat()
    first, second = free_port(), free_port()
    async with (
        webhook_bot(emulator, database_url, first),
        webhook_bot(emulator, database_url, second, register=False),
    ):
        for update_id in range(9701, 9706):
            update = help_update(user, update_id)
            statuses = await asyncio.gather(
                post(webhook_url(first), update, WITH_SECRET),
                post(webhook_url(second), update, WITH_SECRET),
            )
            # One handled it (200); the other either saw it handled (200) or still in hand
            # on the first (503, so Telegram tries again later and is then answered 200).
            assert 200 in statuses
            assert set(statuses) <= {200, 503}
            assert {
                await post(webhook_url(port), update, WITH_SECRET) for port in (first, second)
            } == {200}
        assert len(user.bot_messages) == 5


async def test_an_update_whose_worker_died_while_handling_it_is_handled_after_the_claim_timeout(
    emulator: BotApiEmulator, database_url: str, store: Store
) -> None:
    user = emulator.user(5107)
    user.open_chat()
    clock = ManualClock()
    # A worker claimed update 9801 and died before handling it: its claim stays, unfinished.
    async with store.write() as work:
        assert await work.handled_updates.claim(9801, clock(), CLAIM_TIMEOUT) is True
    port = free_port()
    async with webhook_bot(emulator, database_url, port, clock=clock):
        update = help_update(user, 9801)
        # Telegram's retry, soon after: the claim might be a live worker's that is slow.
        assert await post(webhook_url(port), update, WITH_SECRET) == 503
        assert user.bot_messages == []
        clock.advance(CLAIM_TIMEOUT.total_seconds() + 1)
        # A later retry: the claim is too old to be a live worker's, so this one handles it.
        assert await post(webhook_url(port), update, WITH_SECRET) == 200
        assert await post(webhook_url(port), update, WITH_SECRET) == 200
        assert len(user.bot_messages) == 1


@pytest.mark.backends("sqlite")  # another connection's write lock on the SQLite file
async def test_an_update_that_cannot_be_claimed_gets_503_and_is_handled_when_delivered_again(
    emulator: BotApiEmulator,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    caplog.set_level(logging.INFO, logger="handlers.webhook")
    user = emulator.user(5109)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        update = help_update(user, 9901)
        other = sqlite3.connect(tmp_path / "yogabot.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            assert await post(webhook_url(port), update, WITH_SECRET) == 503
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert user.bot_messages == []
        # Telegram's next delivery, once the database answers again.
        assert await post(webhook_url(port), update, WITH_SECRET) == 200
        assert len(user.bot_messages) == 1
    [put_off] = [r for r in caplog.records if "put off" in r.getMessage()]
    assert "9901" in put_off.getMessage()
    # The outage is one incident: one warning, whoever met it.
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("the database does not answer")
    assert troubles(caplog) == []
