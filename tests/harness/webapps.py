"""Reading a Mini App's launch as the Mini App does, and checking initData by Telegram's
rule written out here, independently of the emulator that signs it."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse


def telegram_hash(token: str, fields: dict[str, str]) -> str:
    """https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app"""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def init_data_fields(init_data: str) -> dict[str, str]:
    """The fields of initData, each once, values decoded."""
    pairs = urllib.parse.parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    assert len({key for key, _ in pairs}) == len(pairs), pairs
    return dict(pairs)


def launch_parameters(launch: str, url: str) -> dict[str, str]:
    """The launch parameters a client put after `url`'s "#" (tgWebAppData, ...)."""
    assert launch.startswith(f"{url}#"), launch
    return dict(urllib.parse.parse_qsl(launch.removeprefix(f"{url}#"), strict_parsing=True))
