"""Reading Bot API parameters from any transport Telegram accepts, with typed access.

Clients send the same parameters as a JSON body, as a form, as multipart (PTB does so when
it uploads a file, JSON-encoding every non-string value) or in the query string, so every
value is normalised here once and the methods never see the transport.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from playground.emulator.errors import bad_request

INT_FIELDS = frozenset(
    {
        "cache_time",
        "chat_id",
        "from_chat_id",
        "limit",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "user_id",
    }
)
FLOAT_FIELDS = frozenset({"timeout"})
BOOL_FIELDS = frozenset(
    {
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "has_spoiler",
        "protect_content",
        "show_alert",
        "show_caption_above_media",
    }
)
JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "menu_button",
        "message_ids",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+(\.\d*)?")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, held in memory."""

    name: str  # the multipart part it came in
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in INT_FIELDS and _INT_RE.fullmatch(value.strip()):
        return int(value)
    if key in FLOAT_FIELDS and _FLOAT_RE.fullmatch(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() else number
    if key in BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value  # left as a string so the method can answer "can't parse ..."
    return value


def _read_form(form: MultiDictProxy[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            values[key] = Upload(key, value.filename, value.content_type, value.file.read())
        else:
            values[key] = value
    return values


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of a Bot API request, as sent (see coerce_params)."""
    values: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad_request("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
                values.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values.update(_read_form(await request.post()))
    return values


def coerce_params(values: dict[str, Any]) -> dict[str, Any]:
    """Turn transport strings into the JSON types the Bot API declares for each field."""
    return {key: _coerce(key, value) for key, value in values.items()}


class Params:
    """Typed, validating access to one request's parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, key: str) -> bool:
        return self.values.get(key) not in (None, "")

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def opt_int(self, key: str, *, invalid: str | None = None) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(invalid or f'field "{key}" must be an Integer')
        return value

    def req_int(self, key: str, *, missing: str, invalid: str | None = None) -> int:
        value = self.opt_int(key, invalid=invalid)
        if value is None:
            raise bad_request(missing)
        return value

    def opt_float(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f'field "{key}" must be a Number')
        return float(value)

    def opt_str(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool | dict | list | Upload):
            raise bad_request(f'field "{key}" must be a String')
        return str(value)

    def flag(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def opt_list(self, key: str, *, invalid: str) -> list[Any] | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, list):
            raise bad_request(invalid)
        return value

    def opt_dict(self, key: str, *, invalid: str) -> dict[str, Any] | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise bad_request(invalid)
        return value
