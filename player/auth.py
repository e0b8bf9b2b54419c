"""Who is asking: the user Telegram vouches for in a Mini App's `initData`, and nothing else.

Telegram opens the player with `initData`, a query string it signed with the bot's token
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):

    secret_key = HMAC_SHA256(key="WebAppData", message=<bot token>)
    hash       = hex(HMAC_SHA256(key=secret_key, message=data_check_string))

where `data_check_string` is every received field but `hash`, as `key=value`, sorted by
key, joined by line feeds. The page sends it with every request; the server recomputes
the hash, compares it in constant time, refuses an `auth_date` older than MAX_AGE, and
takes the user's id from its `user` field. Nothing the page says about itself is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

# initData is signed once, when Telegram opens the player, and not renewed while it stays
# open; a class is followed for up to an hour or so. A day bounds how long a copied
# initData can act for its user, and leaves a player open all morning working.
MAX_AGE = timedelta(hours=24)
# A clock a little ahead of ours is not a forgery.
CLOCK_SKEW = timedelta(minutes=5)
# Telegram's initData is well under a kilobyte; a request far larger is not from it.
MAX_LENGTH = 4096


class Unauthorized(Exception):
    """No initData, or one Telegram did not sign for this bot, or too old. The message
    says which, for the log; the page is told only 401."""


@dataclass(frozen=True)
class Launch:
    """What a valid initData vouches for."""

    user_id: int
    first_name: str
    auth_date: datetime


class InitDataCheck:
    """Checks initData for the bot whose token it is given (kept only as the derived key)."""

    def __init__(self, bot_token: str) -> None:
        self._key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()

    def launch(self, init_data: object, now: datetime) -> Launch:
        if not isinstance(init_data, str) or not init_data:
            raise Unauthorized("no initData")
        if len(init_data) > MAX_LENGTH:
            raise Unauthorized("initData too long")
        try:
            pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise Unauthorized("initData is not a query string") from None
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise Unauthorized("a field of initData is repeated")
        given = fields.pop("hash", "")
        check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
        expected = hmac.new(self._key, check.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise Unauthorized("initData's hash does not match")
        # Signed by Telegram for this bot: what follows can be read as Telegram wrote it.
        try:
            signed_at = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
            user = json.loads(fields["user"])
            user_id = user["id"]
        except (KeyError, ValueError, TypeError):
            raise Unauthorized("initData lacks its user or auth_date") from None
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise Unauthorized("initData's user has no id")
        if now - signed_at > MAX_AGE:
            raise Unauthorized("initData has expired")
        if signed_at - now > CLOCK_SKEW:
            raise Unauthorized("initData is from the future")
        first_name = user.get("first_name")
        return Launch(user_id, first_name if isinstance(first_name, str) else "", signed_at)
