"""A Telegram user who writes to the bot and taps its buttons."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from playground.emulator.init_data import sign_init_data
from playground.emulator.markup import utf16_len
from playground.emulator.state import Chat, EmulatorState, EmuMessage
from playground.emulator.webapps import THEMES, effective_menu_button, launch_url

T = TypeVar("T")
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities as Telegram marks them, with offsets in UTF-16 units."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND_RE.finditer(text)
    ]


class UserHost(Protocol):
    """What a simulated user needs from the emulator its chat lives in."""

    @property
    def state(self) -> EmulatorState: ...

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = ...) -> Awaitable[T]: ...


class SimulatedUser:
    """One user and their private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        emulator: UserHost,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        self.emulator = emulator
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code

    def __repr__(self) -> str:
        return f"SimulatedUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def _state(self) -> EmulatorState:
        return self.emulator.state

    @property
    def chat_id(self) -> int:
        return self.id

    def api(self) -> dict[str, Any]:
        """The user as a Bot API User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def web_app_user(self) -> dict[str, Any]:
        """The user as a Mini App's initData describes them (a WebAppUser)."""
        data: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        # They have a chat with the bot, so the bot may write to them.
        data["allows_write_to_pm"] = True
        return data

    @property
    def chat(self) -> Chat | None:
        return self._state.chats.get(self.id)

    def _ensure_chat(self) -> Chat:
        chat = self._state.chats.get(self.id)
        if chat is None:
            # chat_instance is stable per chat and opaque, like Telegram's.
            chat = Chat(id=self.id, user=self.api(), chat_instance=str(secrets.randbits(63)))
            self._state.chats[self.id] = chat
        return chat

    # -- what the user does --------------------------------------------------------------

    async def send(self, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        """Write a text message to the bot; returns the message as the bot will receive it."""
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        chat = self._ensure_chat()
        if chat.blocked:
            raise RuntimeError("the user has blocked the bot; call unblock() first")
        target = chat.find(reply_to) if reply_to is not None else None
        if reply_to is not None and (target is None or target.deleted):
            raise LookupError(f"no message {reply_to} to reply to in chat {self.id}")
        message = self._state.add_message(
            chat,
            from_bot=False,
            text=text,
            entities=command_entities(text) or None,
            reply_to=target,
        )
        data = message.to_api()
        self._state.enqueue_update("message", data)
        return data

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Share a location (the attachment menu, or a request_location keyboard button)."""
        chat = self._ensure_chat()
        if chat.blocked:
            raise RuntimeError("the user has blocked the bot; call unblock() first")
        location = {"latitude": latitude, "longitude": longitude}
        data = self._state.add_message(chat, from_bot=False, location=location).to_api()
        self._state.enqueue_update("message", data)
        return data

    async def tap(self, message_id: int, text: str) -> str:
        """Press the inline button labelled `text` on a bot message; returns the query id."""
        message = self._live_bot_message(message_id)
        button = next((b for b in message.buttons if b.get("text") == text), None)
        if button is None:
            raise LookupError(
                f"no button {text!r} on message {message_id}; buttons: {message.button_texts}"
            )
        if "callback_data" not in button:
            raise LookupError(f"button {text!r} on message {message_id} has no callback_data")
        return self._press(message, button["callback_data"])

    async def tap_data(self, message_id: int, data: str) -> str:
        """Press a button with arbitrary callback data, e.g. a stale or forged one."""
        return self._press(self._live_bot_message(message_id), data)

    def open_chat(self) -> Chat:
        """The user's chat, created now if they never wrote: as if they had started the bot
        before. The playground needs it so a practice stored before a restart can resume."""
        return self._ensure_chat()

    def open_web_app(
        self,
        url: str,
        *,
        color_scheme: str = "light",
        clock: Callable[[], float] | None = None,
    ) -> str:
        """Tap a Mini App button of the chat (an inline web_app button on a live bot message,
        or the menu button): the address the client opens, with the launch parameters and
        initData signed for this user (dated by `clock`, the emulator's by default)."""
        if color_scheme not in THEMES:
            raise ValueError(f"color_scheme is one of {sorted(THEMES)}, not {color_scheme!r}")
        if url not in self.web_apps:
            raise LookupError(f"no Mini App {url!r} in chat {self.id}; offered: {self.web_apps}")
        init_data = sign_init_data(
            self._state.token, self.web_app_user(), clock=clock or self._state.clock
        )
        return launch_url(url, init_data, color_scheme=color_scheme)

    async def block(self) -> None:
        """Block the bot: sends now fail with 403 and the bot gets a my_chat_member update."""
        await self._set_membership(blocked=True)

    async def unblock(self) -> None:
        await self._set_membership(blocked=False)

    # -- what the user sees --------------------------------------------------------------

    @property
    def messages(self) -> list[EmuMessage]:
        chat = self.chat
        return list(chat.messages) if chat else []

    @property
    def bot_messages(self) -> list[EmuMessage]:
        return [m for m in self.messages if m.from_bot and not m.deleted]

    @property
    def last_bot_message(self) -> EmuMessage | None:
        messages = self.bot_messages
        return messages[-1] if messages else None

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        chat = self.chat
        return chat.reply_keyboard if chat else None

    @property
    def menu_button(self) -> dict[str, Any]:
        """The MenuButton beside the text field: the chat's own, the bot's default, or the
        commands menu."""
        return effective_menu_button(self._state, self.id)

    @property
    def web_apps(self) -> list[str]:
        """The Mini Apps the user can open now: the menu button's, then those of the
        web_app buttons on the bot's live messages, each once."""
        urls: list[str] = []
        menu = self.menu_button
        if menu["type"] == "web_app":
            urls.append(menu["web_app"]["url"])
        for message in self.bot_messages:
            urls.extend(b["web_app"]["url"] for b in message.buttons if "web_app" in b)
        return list(dict.fromkeys(urls))

    def message(self, message_id: int) -> EmuMessage:
        chat = self.chat
        found = chat.find(message_id) if chat else None
        if found is None:
            raise LookupError(f"no message {message_id} in chat {self.id}")
        return found

    # timeout mirrors the emulator's wait_for, which it delegates to.
    async def wait_bot_message(
        self,
        *,
        after: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> EmuMessage:
        """The first live bot message newer than `after` (default: the user's last message)."""
        if after is None:
            own = [m.message_id for m in self.messages if not m.from_bot]
            after = own[-1] if own else 0
        floor = after

        def newer() -> EmuMessage | None:
            return next((m for m in self.bot_messages if m.message_id > floor), None)

        return await self.emulator.wait_for(newer, timeout=timeout)

    # -- internals -----------------------------------------------------------------------

    def _live_bot_message(self, message_id: int) -> EmuMessage:
        message = self.message(message_id)
        if message.deleted:
            raise LookupError(f"message {message_id} in chat {self.id} was deleted")
        if not message.from_bot:
            raise LookupError(f"message {message_id} in chat {self.id} is not from the bot")
        return message

    def _press(self, message: EmuMessage, data: str) -> str:
        chat = self._ensure_chat()
        if chat.blocked:
            raise RuntimeError("the user has blocked the bot; call unblock() first")
        return self._state.press(chat, message, self.api(), data)

    async def _set_membership(self, *, blocked: bool) -> None:
        chat = self._ensure_chat()
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        bot = self._state.bot_user
        old_member: dict[str, Any] = {"user": bot, "status": old}
        new_member: dict[str, Any] = {"user": bot, "status": new}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        self._state.enqueue_update(
            "my_chat_member",
            {
                "chat": chat.api(),
                "from": self.api(),
                "date": self._state.now(),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )
