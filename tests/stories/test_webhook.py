"""Webhook mode over real HTTP on 127.0.0.1: the emulator posts updates with the secret header
to the bot's webhook server (handlers/webhook.py), and a request without the right secret
is refused."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import traceback
from pathlib import Path

import aiohttp
import pytest

from bot.settings import SettingsError, load_settings
from cli import main
from handlers.app import ALLOWED_UPDATES, Webhook, WebhookListenError, build_application, running
from handlers.render import checkin as render_checkin
from playground.emulator import BotApiEmulator
from tests.harness.bot import TOKEN, cues_titled, has_message, screened
from tests.harness.webhook import (
    SECRET,
    SECRET_HEADER,
    TINY,
    TINY_CATALOG,
    free_port,
    help_update,
    post,
    webhook_bot,
    webhook_url,
)


async def test_a_practice_starts_through_the_webhook(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(5001, first_name="Ana")
    async with webhook_bot(emulator, database_url, free_port()):
        await screened(emulator, user)
        await user.send("/start_practice")
        intro = await emulator.wait_for(has_message(user, TINY.title))
        asked = await emulator.wait_for(has_message(user, render_checkin.BEFORE_QUESTION))
        assert intro.message_id < asked.message_id
        # A button press is a callback_query, delivered the same way.
        await user.tap(asked.message_id, text="Skip")
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    assert emulator.calls_of("getUpdates") == []
    assert emulator.pending_updates == []
    assert emulator.internal_errors == []


async def test_the_webhook_is_registered_with_the_secret_and_the_allowed_updates(
    emulator: BotApiEmulator, database_url: str
) -> None:
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        [call] = emulator.calls_of("setWebhook")
        assert call.ok
        assert call.params["url"] == webhook_url(port)
        assert call.params["secret_token"] == SECRET
        allowed = call.params["allowed_updates"]
        assert (json.loads(allowed) if isinstance(allowed, str) else allowed) == list(
            ALLOWED_UPDATES
        )
        assert emulator.webhook is not None
        assert emulator.webhook.secret_token == SECRET
        assert emulator.state.updates.allowed == frozenset(ALLOWED_UPDATES)


async def test_a_post_without_the_right_secret_gets_403_and_changes_nothing(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(5002)
    user.open_chat()
    port = free_port()
    url = webhook_url(port)
    async with webhook_bot(emulator, database_url, port):
        sent_before = len(emulator.calls_of("sendMessage"))
        assert await post(url, help_update(user, 9001), {}) == 403
        assert await post(url, help_update(user, 9002), {SECRET_HEADER: "wrong"}) == 403
        near_miss = SECRET[:-1] + ("x" if SECRET[-1] != "x" else "y")
        assert await post(url, help_update(user, 9003), {SECRET_HEADER: near_miss}) == 403
        # The same update with the right header is handled: the header alone made the 403.
        assert await post(url, help_update(user, 9004), {SECRET_HEADER: SECRET}) == 200
        await emulator.wait_for(has_message(user, "/start_practice"))
        # Updates are handled in order, so a refused one would have been answered first.
        assert len(emulator.calls_of("sendMessage")) == sent_before + 1
        assert len(user.bot_messages) == 1


async def test_an_update_is_answered_only_once_it_is_handled(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """So an update whose worker dies on it is delivered again instead of being lost."""
    user = emulator.user(5004)
    user.open_chat()
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        before = len(emulator.calls_of("sendMessage"))
        assert (
            await post(webhook_url(port), help_update(user, 9101), {SECRET_HEADER: SECRET}) == 200
        )
        # No waiting: by the time the 200 came back, the reply had been sent.
        assert len(emulator.calls_of("sendMessage")) == before + 1


async def test_a_body_that_is_not_an_update_gets_400(
    emulator: BotApiEmulator, database_url: str
) -> None:
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        async with (
            aiohttp.ClientSession() as http,
            http.post(webhook_url(port), data=b"{not json", headers={SECRET_HEADER: SECRET}) as r,
        ):
            assert r.status == 400
        assert await post(webhook_url(port), {"update_id": 1}, {SECRET_HEADER: SECRET}) == 200


async def test_a_worker_told_not_to_register_only_listens_and_webhook_set_registers_once(
    emulator: BotApiEmulator,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = emulator.user(5005)
    port = free_port()
    async with webhook_bot(emulator, database_url, port, register=False):
        assert emulator.calls_of("setWebhook") == []
        assert emulator.webhook is None  # nothing reaches the worker yet
        monkeypatch.setenv("BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", emulator.api_url)
        monkeypatch.setenv("WEBHOOK_URL", webhook_url(port))
        monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
        # As at deploy: one registration, from the command line, beside the running worker.
        assert await asyncio.to_thread(main, ["webhook", "set"]) == 0
        [call] = emulator.calls_of("setWebhook")
        assert call.params["url"] == webhook_url(port)
        assert call.params["secret_token"] == SECRET
        await user.send("/help")
        await emulator.wait_for(has_message(user, "/start_practice"))
    captured = capsys.readouterr()
    assert f"webhook set: {webhook_url(port)}" in captured.out
    assert SECRET not in captured.out + captured.err


async def test_stopping_closes_the_webhook_server_and_leaves_the_webhook_registered(
    emulator: BotApiEmulator, database_url: str
) -> None:
    port = free_port()
    async with webhook_bot(emulator, database_url, port):
        pass
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(webhook_url(port), {"update_id": 1}, {SECRET_HEADER: SECRET})
    # The next start registers it again; deleting it could remove a newer instance's.
    assert emulator.calls_of("deleteWebhook") == []
    assert emulator.webhook is not None


async def test_a_port_in_use_is_one_line_naming_the_settings(
    emulator: BotApiEmulator, database_url: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WebhookListenError) as caught:
            async with webhook_bot(emulator, database_url, port):
                pass
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "WEBHOOK_PORT" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "too-short-0123456789",  # 20 characters
        "has spaces in it, so Telegram would refuse it",
        "ünïcödé-is-not-allowed-by-telegram-0123456789",
        "x" * 257,
    ],
)
def test_a_webhook_without_a_valid_secret_is_refused_in_one_line(secret: str | None) -> None:
    overrides: dict[str, object] = {"webhook_url": "https://bot.example.org/telegram"}
    if secret is not None:
        overrides["webhook_secret"] = secret
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert message.startswith("WEBHOOK_SECRET:")
    assert "\n" not in message
    if secret:
        assert secret not in message
        assert secret not in repr(caught.value)
        assert secret not in "".join(traceback.format_exception(caught.value))


def test_cli_refuses_a_webhook_with_a_bad_secret_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    short = "short-secret-value"
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", short)
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith("yogabot: WEBHOOK_SECRET:")
    assert short not in captured.err + captured.out


def test_cli_refuses_a_webhook_with_no_secret_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    assert main(["run"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("yogabot: WEBHOOK_SECRET: required when WEBHOOK_URL is set")


def test_the_secret_is_not_in_the_settings_repr() -> None:
    settings = load_settings(webhook_url="https://bot.example.org/telegram", webhook_secret=SECRET)
    webhook = Webhook.from_settings(settings)
    assert webhook is not None
    for shown in (repr(settings), str(settings), repr(webhook), str(webhook)):
        assert SECRET not in shown


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org/telegram", "/telegram"),
        ("https://bot.example.org/telegram/", "/telegram"),
        ("https://bot.example.org", ""),
        ("https://bot.example.org:8443/hooks/yoga.bot?x=1", "/hooks/yoga.bot"),
    ],
)
def test_the_server_answers_on_the_path_of_the_webhook_url(url: str, path: str) -> None:
    webhook = Webhook.from_settings(load_settings(webhook_url=url, webhook_secret=SECRET))
    assert webhook is not None
    assert webhook.path == path


async def test_yogabot_run_serves_the_webhook_and_never_logs_the_secret(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    port = free_port()
    user = emulator.user(5003)
    log_file = tmp_path / "stderr.log"
    with log_file.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "run",
            env={
                "PATH": "/usr/bin:/bin",
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": emulator.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                "WEBHOOK_URL": webhook_url(port),
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_PORT": str(port),
                # PTB logs every Bot API call's parameters at DEBUG, setWebhook's too.
                "LOG_LEVEL": "DEBUG",
            },
            cwd=tmp_path,
            stderr=stderr,
        )
        try:
            # The process imports and migrates first; the webhook is set once it listens.
            await emulator.wait_for(lambda: emulator.calls_of("setWebhook"), timeout=60)
            await user.send("/help")
            await emulator.wait_for(has_message(user, "/start_practice"), timeout=10)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log_file.read_text()
    assert "setWebhook" in output
    assert SECRET not in output
    assert TOKEN not in output
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(webhook_url(port), {"update_id": 1}, {SECRET_HEADER: SECRET})


async def test_start_up_and_registration_ride_out_a_network_that_comes_up_late(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """getMe and setWebhook each dropped once: the bot tries again a second later and
    starts; a refused request, by contrast, is never tried again."""
    emulator.fail_next("getMe", drop="before")
    emulator.fail_next("setWebhook", drop="before")
    port = free_port()
    settings = load_settings(
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.api_url,
        webhook_url=webhook_url(port),
        webhook_secret=SECRET,
        webhook_port=port,
    )
    webhook = Webhook.from_settings(settings)
    application = build_application(settings, catalog=TINY_CATALOG)
    async with running(application, webhook=webhook, bootstrap_retries=2):
        assert emulator.webhook is not None
    assert len(emulator.calls_of("getMe")) == 2
    assert len(emulator.calls_of("setWebhook")) == 2
    trying = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(trying) == 2


async def test_the_player_is_served_beside_the_webhook_on_the_same_server(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """With WEBAPP_URL set, a webhook bot serves the player's page and API at its path, on
    the webhook's own listener (nginx sends both there), and still takes updates."""
    port = free_port()
    player_url = f"http://127.0.0.1:{port}/app/"
    user = emulator.user(5003, first_name="Ana")
    async with (
        webhook_bot(emulator, database_url, port, webapp_url=player_url),
        aiohttp.ClientSession() as http,
    ):
        async with http.get(player_url) as response:
            assert response.status == 200
            assert (
                "frame-ancestors https://web.telegram.org"
                in (response.headers["Content-Security-Policy"])
            )
            # Outside the playground the page loads Telegram's script.
            assert "https://telegram.org/js/telegram-web-app.js" in await response.text()
        init_data = emulator.sign_init_data(user)
        async with http.post(f"{player_url}api/state", json={"init_data": init_data}) as answer:
            assert answer.status == 200 and (await answer.json())["screen"] == "start"
        async with http.post(f"{player_url}api/state", json={"init_data": "x"}) as answer:
            assert answer.status == 401
        update = help_update(user, 1)
        assert await post(webhook_url(port), update, {SECRET_HEADER: SECRET}) == 200
        # The chat's menu button opens the player.
        menu = await emulator.wait_for(lambda: emulator.state.default_menu_button)
        assert menu == {"type": "web_app", "text": "Player", "web_app": {"url": player_url}}
