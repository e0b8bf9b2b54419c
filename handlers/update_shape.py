"""What a webhook body must be before PTB turns it into an Update.

PTB's `Update.de_json` trusts its input: a string where an id belongs, a date past the
year 9999 or a user id of 2**70 either raise from deep inside it, or pass and fail later
in a handler or the database. Telegram never sends such things, so a body that holds them
did not come from Telegram as it should, and is refused with 400 before any handler runs.

Checked here: the JSON itself (UTF-8, no NaN, nested at most about 200 levels deep:
pydantic-core's parser refuses deeper nesting with a ValueError, where Python's json
would raise RecursionError; Telegram's updates are a dozen levels deep), and the type and
range of every field the bot reads (ids, dates, the sender, the chat, text, entities,
location, button data). Fields the bot does not read pass as they are; PTB may still
refuse them, which is a 400 too.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# What the BIGINT columns hold; Telegram's ids have at most 52 significant bits.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
NonNegative64 = Annotated[int, Field(ge=0, le=2**63 - 1)]
# Unix time: Telegram's dates fit 32 bits (until 2106); PTB makes a datetime of them.
UnixTime = Annotated[int, Field(ge=0, le=2**32 - 1)]
# An offset or a length within a message of at most 4096 characters.
Position = Annotated[int, Field(ge=0, le=2**31 - 1)]
# users.first_name is 64 characters wide: Telegram's own limit.
FirstName = Annotated[str, Field(max_length=64)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class _Shape(BaseModel):
    # Strict: 1.0 is not an int, "1" is not an int, true is not an int.
    model_config = ConfigDict(strict=True, extra="allow")


class UserShape(_Shape):
    id: Int64
    is_bot: bool
    first_name: FirstName
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class ChatShape(_Shape):
    id: Int64
    type: str


class EntityShape(_Shape):
    type: str
    offset: Position
    length: Position


class LocationShape(_Shape):
    latitude: Latitude
    longitude: Longitude


class MessageShape(_Shape):
    message_id: Int64
    date: UnixTime
    chat: ChatShape
    sender: UserShape | None = Field(default=None, alias="from")
    text: str | None = None
    entities: list[EntityShape] | None = None
    location: LocationShape | None = None


class CallbackQueryShape(_Shape):
    id: str
    sender: UserShape = Field(alias="from")
    # A message too old for the bot to reach still has a chat, an id and the date 0.
    message: MessageShape | None = None
    data: str | None = None


class ChatMemberShape(_Shape):
    status: str
    user: UserShape


class ChatMemberUpdatedShape(_Shape):
    chat: ChatShape
    sender: UserShape = Field(alias="from")
    date: UnixTime
    old_chat_member: ChatMemberShape
    new_chat_member: ChatMemberShape


class UpdateShape(_Shape):
    update_id: NonNegative64
    message: MessageShape | None = None
    edited_message: MessageShape | None = None
    callback_query: CallbackQueryShape | None = None
    my_chat_member: ChatMemberUpdatedShape | None = None


class NotAnUpdate(Exception):
    """The body is not an update; the message names what is wrong, never a value."""


def checked_update(body: bytes) -> dict[str, Any]:
    """The body as the JSON object of an update, checked as above."""
    try:
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        # "recursion limit exceeded", "EOF while parsing a value", "invalid unicode code
        # point": the parser's words name a position, never the text found there.
        raise NotAnUpdate(f"not JSON ({_first_words(str(exc))})") from None
    try:
        UpdateShape.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "the body" for e in exc.errors()})
        raise NotAnUpdate(f"wrong type or range: {', '.join(fields[:5])}") from None
    # Only an object passes the model; the check tells the type checker so.
    if not isinstance(data, dict):
        raise NotAnUpdate("not a JSON object")
    return data


def _first_words(message: str) -> str:
    return message.split(" at line ")[0]
