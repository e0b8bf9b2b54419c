"""What the chat page is told about a chat: emulator messages as small JSON views.

Text goes to the page in Telegram's HTML subset either way: HTML messages as the bot sent
them (the page allows only Telegram's tags), anything else as escaped visible text.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from playground.emulator import BotApiEmulator, EmuMessage, SimulatedUser

# A cue's caption starts with its place in the class ("2/25 · Low Lunge"): no part of the
# picture, and only noise read aloud.
_POSITION = re.compile(r"^\d+/\d+ · ")
NO_ALT = "Photo from the bot"


def file_url(file_id: str) -> str:
    return f"/api/files/{file_id}"


def _as_html(text: str | None, visible: str | None, parse_mode: str | None, entities: Any) -> str:
    if text is None:
        return ""
    # With explicit entities Telegram ignores parse_mode; the playground shows them plain.
    if parse_mode == "HTML" and not entities:
        return text
    return escape(visible if visible is not None else text, quote=False)


def _keyboard(markup: dict[str, Any] | None) -> list[list[dict[str, str]]]:
    rows: list[list[dict[str, str]]] = []
    for row in (markup or {}).get("inline_keyboard", []):
        buttons = []
        for button in row:
            view = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                view["data"] = str(button["callback_data"])
            elif "url" in button:
                view["url"] = str(button["url"])
            elif "web_app" in button:
                view["web_app"] = str(button["web_app"]["url"])
            buttons.append(view)
        rows.append(buttons)
    return rows


def _caption_html(message: EmuMessage) -> str:
    if message.caption is None:
        return ""
    if message.parse_mode == "HTML" and not message.caption_entities:
        return message.caption
    return escape(message.caption, quote=False)


def photo_alt(message: EmuMessage) -> str:
    """What a photo shows, for a screen reader and for when it cannot load: the first line
    of its caption (a cue's pose), as Telegram has no alt text of its own."""
    words = message.plain if message.caption is not None else None
    first = (words or "").strip().split("\n", 1)[0].strip()
    return _POSITION.sub("", first) or NO_ALT


def message_view(message: EmuMessage) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "edited": message.edit_date is not None,
        "version": message.edits,
        "html": _as_html(message.text, message.plain, message.parse_mode, message.entities),
        "keyboard": _keyboard(message.reply_markup),
    }
    if message.photo:
        largest = message.photo[-1]
        view["photo"] = {
            "url": file_url(largest["file_id"]),
            "alt": photo_alt(message),
            "width": largest.get("width"),
            "height": largest.get("height"),
        }
    if message.document:
        document = message.document
        view["document"] = {
            "url": file_url(document["file_id"]),
            "name": document.get("file_name") or "file",
            "size": document.get("file_size", 0),
        }
    sound = message.audio or message.voice
    if sound:
        # Both play in the page; a voice note has no title, an audio file may have one.
        view["audio"] = {
            "url": file_url(sound["file_id"]),
            "voice": message.voice is not None,
            "title": sound.get("title") or ("Voice message" if message.voice else "Audio"),
            "performer": sound.get("performer"),
            "duration": sound.get("duration", 0),
        }
        cover = sound.get("thumbnail")
        if cover:
            view["audio"]["cover"] = file_url(cover["file_id"])
    if message.caption is not None:
        view["caption_html"] = _caption_html(message)
    if message.location is not None:
        where = f"{message.location['latitude']:.3f}, {message.location['longitude']:.3f}"
        view["html"] = escape(f"📍 Location shared ({where})", quote=False)
    return view


def reply_keyboard_view(user: SimulatedUser) -> list[list[dict[str, Any]]] | None:
    """Reply-keyboard buttons as {text, location}: a location button shares a place."""
    markup = user.reply_keyboard
    if not markup:
        return None
    return [
        [
            {"text": b, "location": False}
            if isinstance(b, str)
            else {"text": str(b.get("text", "")), "location": bool(b.get("request_location"))}
            for b in row
        ]
        for row in markup.get("keyboard", [])
    ]


def menu_button_view(user: SimulatedUser) -> dict[str, str] | None:
    """The Mini App button beside the text field ({text, url}), if the bot set one for this
    chat or for all; None for the commands menu."""
    button = user.menu_button
    if button["type"] != "web_app":
        return None
    return {"text": str(button["text"]), "url": str(button["web_app"]["url"])}


def state_view(emulator: BotApiEmulator, user: SimulatedUser) -> dict[str, Any]:
    """Everything the page draws, as of now."""
    bot = emulator.state.bot_user
    return {
        "type": "state",
        "bot": {"name": bot["first_name"], "username": bot.get("username")},
        "user": {"id": user.id, "first_name": user.first_name},
        "messages": [message_view(m) for m in user.messages if not m.deleted],
        "commands": list(emulator.commands),
        "reply_keyboard": reply_keyboard_view(user),
        "menu_button": menu_button_view(user),
    }
