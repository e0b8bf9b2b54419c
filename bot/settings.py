"""Runtime settings, read once from the environment and an optional `.env` file."""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.timezones import canonical_zone

# Telegram accepts 1-256 of these characters as a webhook's secret_token. The secret is all
# that keeps anyone else from posting updates to the bot, so 32 is our floor: not guessable.
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]+")
WEBHOOK_SECRET_MIN = 32
WEBHOOK_SECRET_MAX = 256


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///yogabot.db"
    telegram_api_url: str = "https://api.telegram.org"
    time_scale: float = Field(default=1.0, gt=0, le=100)
    log_level: str = "INFO"
    default_timezone: str = "UTC"
    feedback_chat_id: int | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    playground_port: int = Field(default=8080, ge=1, le=65535)
    # Rendered pose pictures, named by their content hash: safe to share and to delete.
    picture_cache_dir: Path = Path(".cache/pictures")
    # The spoken cues (bot/spoken_cues.py): the engine that speaks them, "auto" for piper,
    # else espeak-ng, else none; "off" for no voice at all (and no render process).
    voice_engine: Literal["auto", "piper", "espeak-ng", "off"] = "auto"
    # Rendered audio, named by what made it, and its index: safe to share between workers
    # (one speaks at a time) and to delete (it is spoken again).
    voice_cache_dir: Path = Path(".cache/voice")
    # Set, the bot takes updates on a webhook instead of long polling. Declared before the
    # secret, whose check needs to see it.
    webhook_url: str | None = None
    # Validated even when unset: a webhook without a secret must not start.
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Whether `yogabot run` registers the webhook at start. Workers behind a balancer set
    # it false: `yogabot webhook set` registers the one address once, at deploy.
    webhook_register: bool = True
    # The player (a Telegram Mini App, player/): its public https address, e.g.
    # https://bot.example.org/app/. Unset, there is no player. On a webhook it is served by
    # the webhook server; with long polling by its own listener, at WEBAPP_LISTEN:PORT.
    webapp_url: str | None = None
    webapp_listen: str = "127.0.0.1"
    webapp_port: int = Field(default=8444, ge=1, le=65535)
    # Who may show the page in a frame (Telegram's web clients do; the apps do not frame it).
    webapp_frame_ancestors: str = "https://web.telegram.org"
    # The page loads Telegram's telegram-web-app.js (haptics, theme, close); it works
    # without, as in the playground, which has no internet.
    webapp_telegram_script: bool = True
    # The operator pays for Telegram's paid broadcasts: reminders then go at up to 1,000 a
    # second instead of 30, at a fee per message (allow_paid_broadcast in the Bot API).
    allow_paid_broadcast: bool = False

    @field_validator("bot_token", "webhook_url", "webhook_secret", "webapp_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # A token is "<digits>:<secret>"; checking the shape catches pasted quotes or spaces
        # early. The value itself must never appear in the error.
        if value is not None:
            bot_id, _, secret = value.get_secret_value().partition(":")
            if not bot_id.isdigit() or not secret or any(c.isspace() for c in secret):
                raise ValueError("expected the form 123456789:ABC-token-from-BotFather")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "expected the bot's public address, e.g. https://bot.example.org/telegram"
            )
        return value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        """Telegram opens a Mini App only over https. Plain http is allowed only for a
        loopback address (the playground's), which no one else could open anyway."""
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.query or parts.fragment or not parts.hostname:
            raise ValueError("expected the player's address, e.g. https://bot.example.org/app/")
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
            raise ValueError(
                "must start with https:// (Telegram opens Mini Apps over https only),"
                " e.g. https://bot.example.org/app/"
            )
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return f"{parts.scheme}://{parts.netloc}{path}"

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # Only the rule that was broken is named, never the value.
        if value is None:
            if info.data.get("webhook_url") is not None:
                raise ValueError(
                    "required when WEBHOOK_URL is set: "
                    f"{WEBHOOK_SECRET_MIN} or more of A-Z a-z 0-9 _ -"
                )
            return None
        secret = value.get_secret_value()
        if not WEBHOOK_SECRET_MIN <= len(secret) <= WEBHOOK_SECRET_MAX:
            raise ValueError(
                f"must be {WEBHOOK_SECRET_MIN} to {WEBHOOK_SECRET_MAX} characters long"
            )
        if not WEBHOOK_SECRET_CHARS.fullmatch(secret):
            raise ValueError("may contain only A-Z a-z 0-9 _ - (what Telegram allows)")
        return value

    @field_validator("webhook_listen", "webapp_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("expected an IP address to listen on, e.g. 127.0.0.1") from None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        scheme = value.split("://", 1)[0]
        if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "expected sqlite+aiosqlite:///yogabot.db or"
                " postgresql+asyncpg://user:password@host/yogabot"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        name = canonical_zone(value)
        if name is None:
            raise ValueError("not an IANA time zone; use a name like Europe/Berlin")
        return name

    @field_validator("feedback_chat_id", mode="before")
    @classmethod
    def _blank_chat_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated Telegram user ids, e.g. 12345,67890")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR")
        return level


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line naming the variable."""
    try:
        # Overrides are validated by pydantic like the environment; mypy cannot see their types.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None
