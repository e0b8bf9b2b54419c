"""Validation of reply_markup the way Telegram rejects it."""

from __future__ import annotations

from typing import Any

from playground.emulator.errors import bad_request
from playground.emulator.webapps import check_web_app_url

# Button fields that make an inline button do something; a button with none is refused.
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BUTTON_ERROR = "can't parse inline keyboard button"


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request(f"{_BUTTON_ERROR}: Text must be non-empty")
    if not any(key in button for key in _INLINE_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
    if "web_app" in button:
        web_app = button["web_app"]
        if not isinstance(web_app, dict):
            raise bad_request(f'{_BUTTON_ERROR}: Field "web_app" must be of type Object')
        url = web_app.get("url")
        if url is None:
            raise bad_request(f'{_BUTTON_ERROR}: Can\'t find field "url"')
        if not isinstance(url, str):
            raise bad_request(f'{_BUTTON_ERROR}: Field "url" must be of type String')
        check_web_app_url(url, "inline keyboard button")


def check_inline_keyboard(markup: dict[str, Any]) -> None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(f"{_BUTTON_ERROR}: Array of buttons expected")
        for button in row:
            _check_inline_button(button)


def check_markup_fits_chat(inline: dict[str, Any] | None, *, private: bool) -> None:
    """Refuse a Mini App button outside a private chat, as Telegram does: it opens only in a
    user's own chat with the bot."""
    if private or inline is None:
        return
    rows = inline.get("inline_keyboard", [])
    if any("web_app" in button for row in rows for button in row):
        raise bad_request("BUTTON_TYPE_INVALID")


def parse_reply_markup(value: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Split reply_markup into (inline keyboard, reply keyboard / remove / force reply).

    Only inline keyboards belong to the message; the others change the user's keyboard.
    """
    if value is None or value == "":
        return None, None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        check_inline_keyboard(value)
        return value, None
    if "keyboard" in value:
        if not isinstance(value["keyboard"], list) or not all(
            isinstance(row, list) for row in value["keyboard"]
        ):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        return None, value
    if value.get("remove_keyboard") or value.get("force_reply"):
        return None, value
    raise bad_request("can't parse reply keyboard markup JSON object")
