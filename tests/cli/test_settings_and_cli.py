"""Settings errors are one line naming the variable; the token never reaches a log."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from cli import main
from sequences import load_figures

TOKEN = "123456:SECRET-token-value_abcdefghijklmnop"


@pytest.fixture(autouse=True)
def dotenv_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # These tests exercise the real .env lookup, in a folder of their own.
    monkeypatch.setitem(Settings.model_config, "env_file", ".env")
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///yogabot.db"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.time_scale == 1.0


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nTIME_SCALE=0.5\n")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == TOKEN
    assert settings.time_scale == 0.5


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIME_SCALE", "fast"),
        ("TIME_SCALE", "0"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "sqlite:///yogabot.db"),
        ("BOT_TOKEN", "not a token"),
    ],
)
def test_invalid_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message


def test_bad_token_error_does_not_echo_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:has spaces-secret")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "secret" not in str(caught.value)


def test_cli_exits_2_with_one_line_on_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIME_SCALE", "fast")
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yogabot: TIME_SCALE:")
    assert len(err.splitlines()) == 1


# `run` without BOT_TOKEN starts the local playground: see tests/playground/test_page_and_api.py.


def test_console_script_reports_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "run"],
        env={"TIME_SCALE": "-1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("yogabot: TIME_SCALE:")


def test_token_is_redacted_from_logs_and_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [TOKEN])
    log = logging.getLogger("test.redaction")
    log.info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("request failed")
    # httpx's own request lines are silenced below WARNING.
    logging.getLogger("httpx").info("HTTP Request: POST https://x/bot%s/getUpdates", TOKEN)
    output = capsys.readouterr().err
    assert TOKEN not in output
    assert "<token>" in output
    assert "getUpdates" not in output


def test_library_lines_below_warning_keep_numbers_and_shapes_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", [TOKEN])
    ptb = logging.getLogger("telegram.ext.ExtBot")
    params = {"chat_id": 42, "text": "my knee-3c1 hurts", "reply_markup": {"a": "Ana"}}
    ptb.debug("Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", params)
    ptb.debug("Processing update %s", "Ana Lovelace wrote this")
    logging.getLogger("somelib").info("row %s of %s", ("Ana", "knee-3c1"), 7)
    logging.getLogger("aiosqlite").debug("executing %s", "INSERT ... 'knee-3c1'")
    # Warnings pass whole (error descriptions, not payloads); so do the project's own lines.
    ptb.warning("Telegram says %s", "Bad Request: chat not found")
    logging.getLogger("handlers.feedback").info("feedback #%s to chat %s", 3, 9)
    # Alembic's lines name revisions, never rows: an operator reads them whole.
    logging.getLogger("alembic.runtime.migration").info("Context impl %s.", "SQLiteImpl")
    output = capsys.readouterr().err
    assert "knee-3c1" not in output and "Ana" not in output
    assert "endpoint `sendMessage` with parameters `{chat_id: 42, text: <17 chars>, " in output
    assert "reply_markup: <1 keys>}`" in output
    assert "Processing update <23 chars>" in output
    assert "row <2 items> of 7" in output
    assert "Telegram says Bad Request: chat not found" in output
    assert "feedback #3 to chat 9" in output
    assert "Context impl SQLiteImpl." in output


def test_sequences_check_passes_on_the_shipped_classes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sequences", "check"]) == 0
    assert "ok  back-strengthening-part-1: 25 steps" in capsys.readouterr().out


def test_sequences_check_names_file_step_and_field_of_a_broken_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sequences import SEQUENCES_DIR

    good = (SEQUENCES_DIR / "back-strengthening-part-1.yaml").read_text()
    broken = good.replace("hold_seconds: 45", "hold_seconds: 3", 1)
    (tmp_path / "back-strengthening-part-1.yaml").write_text(broken)
    assert main(["sequences", "check", "--dir", str(tmp_path)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("back-strengthening-part-1.yaml:")
    assert "half-splits-right" in line
    assert "hold_seconds" in line


def test_poses_render_writes_both_sides_of_every_pose_and_a_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = load_figures()
    sheet = tmp_path / "sheet.png"
    assert main(["poses", "render", str(tmp_path / "out"), "--sheet", str(sheet)]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(
        name for figure_id in figures for name in (f"{figure_id}.png", f"{figure_id}-mirrored.png")
    )
    assert sheet.read_bytes().startswith(b"\x89PNG")
    assert f"{2 * len(figures)} pictures of {len(figures)} poses" in capsys.readouterr().out


def test_sequences_check_prints_full_and_short_length(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sequences", "check"]) == 0
    out, err = capsys.readouterr()
    assert "ok  back-strengthening-part-1: 25 steps, 30 min · short: 12 steps, 14 min\n" in out
    assert err == ""


def test_sequences_check_warns_about_an_odd_short_length_but_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sequences import SEQUENCES_DIR

    good = (SEQUENCES_DIR / "back-strengthening-part-1.yaml").read_text()
    # Unmarked, and without the lines only a step of the short class may have.
    unmarked = re.sub(r"    short_start: .*\n", "", good.replace("    short: true\n", ""))
    only_ends = unmarked.replace(
        "  - id: childs-pose\n", "  - id: childs-pose\n    short: true\n"
    ).replace("  - id: final-rest\n", "  - id: final-rest\n    short: true\n")
    (tmp_path / "back-strengthening-part-1.yaml").write_text(only_ends)
    assert main(["sequences", "check", "--dir", str(tmp_path), "--no-voice"]) == 0
    out, err = capsys.readouterr()
    assert out == "ok  back-strengthening-part-1: 25 steps, 30 min · short: 2 steps, 3 min\n"
    assert err == (
        "back-strengthening-part-1: warning: the short class lasts 2.7 min; aim for 10 to 16 min\n"
    )

    (tmp_path / "back-strengthening-part-1.yaml").write_text(unmarked)
    assert main(["sequences", "check", "--dir", str(tmp_path), "--no-voice"]) == 0
    out, err = capsys.readouterr()
    assert out == "ok  back-strengthening-part-1: 25 steps, 30 min · short: none marked\n"
    assert err == ""


async def test_run_with_a_refused_token_says_so_in_one_line(tmp_path: Path) -> None:
    from playground.emulator import BotApiEmulator

    async with BotApiEmulator(token="123456:the-real-token") as emulator:
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
            },
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    last_line = stderr.decode().strip().splitlines()[-1]
    assert last_line.startswith("yogabot: BOT_TOKEN: Telegram refused this token")
    assert TOKEN not in stderr.decode()


def test_webhook_defaults_to_long_polling() -> None:
    settings = load_settings()
    assert settings.webhook_url is None
    assert settings.webhook_secret is None
    assert settings.webhook_listen == "127.0.0.1"
    assert settings.webhook_port == 8443


def test_webhook_settings_from_dotenv(tmp_path: Path) -> None:
    secret = "A" * 16 + "b_-9" * 4
    (tmp_path / ".env").write_text(
        f"WEBHOOK_URL=https://bot.example.org/telegram\nWEBHOOK_SECRET={secret}\n"
        "WEBHOOK_LISTEN=0.0.0.0\nWEBHOOK_PORT=8081\n"
    )
    settings = load_settings()
    assert settings.webhook_url == "https://bot.example.org/telegram"
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", 8081)
    assert secret not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEBHOOK_URL", "bot.example.org/telegram"),
        ("WEBHOOK_URL", "https://"),
        ("WEBHOOK_PORT", "0"),
        ("WEBHOOK_PORT", "https"),
        ("WEBHOOK_LISTEN", "everywhere"),
        ("WEBHOOK_SECRET", "short"),
    ],
)
def test_invalid_webhook_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message


@pytest.mark.parametrize(
    "value",
    [
        "http://bot.example.org/app/",
        "http://10.0.0.5:8444/app/",
        "ftp://bot.example.org/app/",
        "https://",
        "bot.example.org/app/",
        "https://bot.example.org/app/?x=1",
    ],
)
def test_the_player_must_be_on_https_and_the_bot_refuses_to_start_otherwise(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Telegram opens a Mini App over https only; plain http only on a loopback address
    (the playground's), which nobody else could open anyway."""
    monkeypatch.setenv("WEBAPP_URL", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("WEBAPP_URL:") and "https://bot.example.org/app/" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://bot.example.org/app", "https://bot.example.org/app/"),
        ("https://bot.example.org/app/", "https://bot.example.org/app/"),
        ("http://127.0.0.1:8444/app/", "http://127.0.0.1:8444/app/"),
        ("http://localhost:8444/app", "http://localhost:8444/app/"),
        ("", None),
    ],
)
def test_the_players_address_is_kept_with_its_final_slash(
    monkeypatch: pytest.MonkeyPatch, value: str, kept: str | None
) -> None:
    monkeypatch.setenv("WEBAPP_URL", value)
    assert load_settings().webapp_url == kept
