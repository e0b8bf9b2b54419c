"""Mini Apps: the rule for their URLs, the chat menu button, and how a client opens one.

A web_app URL must be https (https://core.telegram.org/bots/webapps), or Telegram answers
"... Web App URL '<url>' is invalid: Only HTTPS links are allowed". The emulator also takes
http on a loopback host, as the playground serves its Mini App over http on 127.0.0.1.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from playground.emulator.contract import MethodTable
from playground.emulator.errors import bad_request
from playground.emulator.params import Params
from playground.emulator.state import EmulatorState

# http is fine on these: nothing but this machine can reach them.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
WEB_APP_VERSION = "8.0"
# Telegram Web A's name for itself in tgWebAppPlatform.
WEB_APP_PLATFORM = "weba"
COMMANDS_BUTTON: dict[str, Any] = {"type": "commands"}
DEFAULT_BUTTON: dict[str, Any] = {"type": "default"}

# The themeParams Telegram Web A sends, read off its own colours (--color-background and
# friends in telegram-tt's src/styles: _variables.scss for the day theme, themes.json for
# night; src/util/themeStyle.ts maps them to these keys).
LIGHT_THEME: dict[str, str] = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#3390ec",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#707579",
    "subtitle_text_color": "#707579",
    "destructive_text_color": "#e53935",
}
DARK_THEME: dict[str, str] = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#0f0f0f",
    "header_bg_color": "#212121",
    "accent_text_color": "#8774e1",
    "section_bg_color": "#212121",
    "section_header_text_color": "#aaaaaa",
    "subtitle_text_color": "#aaaaaa",
    "destructive_text_color": "#e53935",
}
THEMES = {"light": LIGHT_THEME, "dark": DARK_THEME}


def web_app_url_problem(url: Any) -> str | None:
    """Why Telegram refuses `url` as a Mini App's address (after "URL '<url>' is invalid: "),
    or None if it takes it."""
    if not isinstance(url, str):
        return "Wrong HTTP URL"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "Wrong HTTP URL"
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return None  # the emulator's one exception
    if parts.scheme != "https":
        return "Only HTTPS links are allowed"
    # Telegram wants a domain name (with a dot) or an IPv6 address.
    if not host or ("." not in host and ":" not in host):
        return "Wrong HTTP URL"
    return None


def check_web_app_url(url: Any, what: str) -> str:
    """`url` if Telegram takes it for a Mini App; `what` names the button in the error."""
    problem = web_app_url_problem(url)
    if problem is not None:
        raise bad_request(f"{what} Web App URL '{url}' is invalid: {problem}")
    return str(url)


def launch_url(url: str, init_data: str, *, color_scheme: str = "light") -> str:
    """The address a Telegram client opens: the Mini App's URL with the launch parameters
    in its fragment (tgWebAppData, tgWebAppVersion, tgWebAppPlatform, tgWebAppThemeParams),
    appended as telegram-web-app.js's urlAppendHashParams appends them."""
    theme = json.dumps(THEMES[color_scheme], separators=(",", ":"))
    params = "&".join(
        [
            f"tgWebAppData={quote(init_data, safe='')}",
            f"tgWebAppVersion={WEB_APP_VERSION}",
            f"tgWebAppPlatform={WEB_APP_PLATFORM}",
            f"tgWebAppThemeParams={quote(theme, safe='')}",
        ]
    )
    _, hash_mark, fragment = url.partition("#")
    if not hash_mark:
        return f"{url}#{params}"
    if "=" in fragment or "?" in fragment:
        return f"{url}&{params}"
    if fragment:
        return f"{url}?{params}"
    return f"{url}{params}"


# -- the menu button -----------------------------------------------------------------------


def _string_field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        raise bad_request(f"can't parse menu button: Can't find field \"{key}\"")
    if not isinstance(value, str):
        raise bad_request(f'can\'t parse menu button: Field "{key}" must be of type String')
    return value


def _menu_button(p: Params) -> dict[str, Any] | None:
    """The MenuButton of a setChatMenuButton call; None for "default" (none of its own)."""
    raw = p.get("menu_button")
    if raw is None or raw == "":
        return None  # Telegram's default when the parameter is left out
    if isinstance(raw, str):
        raise bad_request("can't parse menu button JSON object")
    if not isinstance(raw, dict):
        raise bad_request("can't parse menu button: MenuButton must be an Object")
    kind = _string_field(raw, "type")
    if kind == "default":
        return None
    if kind == "commands":
        return dict(COMMANDS_BUTTON)
    if kind != "web_app":
        raise bad_request("can't parse menu button: MenuButton has unsupported type")
    text = _string_field(raw, "text")
    web_app = raw.get("web_app")
    if not isinstance(web_app, dict):
        raise bad_request('can\'t parse menu button: Field "web_app" must be of type Object')
    url = _string_field(web_app, "url")
    if not text:
        raise bad_request("menu button text must be non-empty")
    url = check_web_app_url(url, "menu button")
    return {"type": "web_app", "text": text, "web_app": {"url": url}}


def _menu_chat(state: EmulatorState, p: Params) -> int | None:
    """The private chat a menu button call is about; None for the bot's default."""
    raw = p.get("chat_id")
    if raw is None or raw == "":
        return None
    # Only users have a menu button of their own: a group's id (negative) is no user id.
    if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
        raise bad_request("invalid chat_id specified")
    chat = state.chats.get(raw)
    if chat is None or chat.title is not None:
        raise bad_request("user not found")
    return raw


async def set_chat_menu_button(state: EmulatorState, p: Params) -> bool:
    button = _menu_button(p)
    chat_id = _menu_chat(state, p)
    if chat_id is None:
        state.default_menu_button = button
    else:
        state.chats[chat_id].menu_button = button
    state.emit("menu_button", chat_id=chat_id)
    return True


async def get_chat_menu_button(state: EmulatorState, p: Params) -> dict[str, Any]:
    chat_id = _menu_chat(state, p)
    if chat_id is None:
        # The bot's own default is the commands menu until it says otherwise.
        return dict(state.default_menu_button or COMMANDS_BUTTON)
    return dict(state.chats[chat_id].menu_button or DEFAULT_BUTTON)


def effective_menu_button(state: EmulatorState, chat_id: int) -> dict[str, Any]:
    """What the client shows beside the text field in this private chat: the chat's own
    button, else the bot's default, else the commands menu."""
    chat = state.chats.get(chat_id)
    own = chat.menu_button if chat is not None else None
    return dict(own or state.default_menu_button or COMMANDS_BUTTON)


METHODS: MethodTable = {
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
}
