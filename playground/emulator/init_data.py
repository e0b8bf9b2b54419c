"""A Mini App's initData, signed exactly as Telegram signs it.

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:

    data-check-string = every field but `hash`, sorted by key, as `key=value`, joined by "\\n"
    secret_key        = HMAC-SHA256(key=b"WebAppData", msg=<bot token>)
    hash              = hex(HMAC-SHA256(key=secret_key, msg=data-check-string))

initData itself is the url-encoded query string of the fields and the hash, values raw
(`user` is a JSON object in one string), so a bot checks the very bytes Telegram signed.

Telegram also adds `signature`, an Ed25519 signature for validation by third parties
(https://core.telegram.org/bots/webapps#validating-data-for-third-party-use). It is made
with Telegram's own private key, which nobody else has, so no emulator can make one that
Telegram's public key accepts; it is left out. (Telegram's `hash` covers `signature` too, as
it covers every field but itself; without it the rule above is unchanged.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

SECRET_KEY_KEY = b"WebAppData"


def data_check_string(fields: Mapping[str, str]) -> str:
    """The string Telegram signs: every field but `hash`, sorted by key, one per line."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def init_data_hash(bot_token: str, fields: Mapping[str, str]) -> str:
    secret_key = hmac.new(SECRET_KEY_KEY, bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret_key, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def new_query_id() -> str:
    """An opaque id of one Mini App launch, shaped like Telegram's (24 url-safe characters)."""
    return secrets.token_urlsafe(18)


def sign_init_data(
    bot_token: str,
    user: Mapping[str, Any],
    *,
    clock: Callable[[], float] = time.time,
    query_id: str | None = None,
    chat_type: str | None = None,
    chat_instance: str | None = None,
    start_param: str | None = None,
) -> str:
    """initData for `user` (a WebAppUser: id, first_name, language_code, ...), signed with
    `bot_token`, dated by `clock` (unix seconds; pass an old one for stale data).

    Fields, in Telegram's order: query_id (a fresh one unless given), user (compact JSON),
    chat_instance, chat_type and start_param when given, auth_date, then hash.
    """
    fields: dict[str, str] = {
        "query_id": query_id if query_id is not None else new_query_id(),
        "user": json.dumps(dict(user), ensure_ascii=False, separators=(",", ":")),
    }
    optional = {"chat_instance": chat_instance, "chat_type": chat_type, "start_param": start_param}
    fields.update({key: value for key, value in optional.items() if value is not None})
    fields["auth_date"] = str(int(clock()))
    fields["hash"] = init_data_hash(bot_token, fields)
    # Spaces as %20, as Telegram writes them (a form encoder's "+" would decode alike).
    return urlencode(fields, quote_via=quote)
