"""The Bot API transport (handlers/transport.py) against a small local server: what each
kind of trouble becomes, that the token never reaches an error, and uploads."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from handlers.messages import surely_undelivered
from handlers.transport import AiohttpRequest, NotConnected

TOKEN = "123456:secret-token-never-in-an-error"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(connection_pool_size=4)
    await request.initialize()
    yield request
    await request.shutdown()


async def serving(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage"


async def test_an_answer_comes_back_as_its_status_and_body(transport: AiohttpRequest) -> None:
    seen: dict[str, str] = {}

    async def answer(request: web.Request) -> web.Response:
        seen.update({key: str(value) for key, value in (await request.post()).items()})
        return web.json_response({"ok": False, "description": "Too Many Requests"}, status=429)

    runner, url = await serving(answer)
    try:
        data = RequestData(
            [RequestParameter.from_input("chat_id", 7), RequestParameter.from_input("text", "Hi")]
        )
        status, body = await transport.do_request(url, "POST", data)
    finally:
        await runner.cleanup()
    assert status == 429 and b"Too Many Requests" in body
    assert seen == {"chat_id": "7", "text": "Hi"}


async def test_an_upload_goes_as_multipart_with_its_file(transport: AiohttpRequest) -> None:
    seen: dict[str, bytes | str] = {}

    async def answer(request: web.Request) -> web.Response:
        for key, value in (await request.post()).items():
            seen[key] = value.file.read() if isinstance(value, web.FileField) else str(value)
        return web.json_response({"ok": True, "result": True})

    runner, url = await serving(answer)
    try:
        picture = InputFile(b"\x89PNG-bytes", filename="pose.png", attach=True)
        data = RequestData(
            [
                RequestParameter.from_input("chat_id", 7),
                RequestParameter.from_input("photo", picture),
            ]
        )
        status, _ = await transport.do_request(url, "POST", data)
    finally:
        await runner.cleanup()
    assert status == 200
    assert seen["chat_id"] == "7" and b"\x89PNG-bytes" in seen.values()


async def test_no_connection_is_surely_undelivered(transport: AiohttpRequest) -> None:
    url = f"http://127.0.0.1:{free_port()}/bot{TOKEN}/sendMessage"  # nobody listens
    with pytest.raises(NotConnected) as refused:
        await transport.do_request(url, "POST", RequestData([]))
    assert surely_undelivered(refused.value)
    assert TOKEN not in str(refused.value) and refused.value.__cause__ is None


async def test_a_connection_dropped_after_the_request_may_have_delivered(
    transport: AiohttpRequest,
) -> None:
    async def hang_up(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(1)
        return web.Response()

    runner, url = await serving(hang_up)
    try:
        with pytest.raises(NetworkError) as dropped:
            await transport.do_request(url, "POST", RequestData([]))
    finally:
        await runner.cleanup()
    assert not isinstance(dropped.value, NotConnected | TimedOut)
    assert not surely_undelivered(dropped.value)
    assert TOKEN not in str(dropped.value) and dropped.value.__cause__ is None


async def test_a_silent_server_times_out(transport: AiohttpRequest) -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    runner, url = await serving(silent)
    try:
        with pytest.raises(TimedOut) as late:
            await transport.do_request(url, "POST", RequestData([]), read_timeout=0.2)
    finally:
        await runner.cleanup()
    assert not surely_undelivered(late.value)
    assert TOKEN not in str(late.value)
