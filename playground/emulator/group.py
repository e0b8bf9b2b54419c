"""A group chat that simulated users share with the bot: they write in it, tap the bot's
buttons in it, and add or remove the bot."""

from __future__ import annotations

import secrets
from typing import Any

from playground.emulator.state import Chat, EmulatorState, EmuMessage
from playground.emulator.user import SimulatedUser, command_entities


class SimulatedGroup:
    """A basic group (negative id). The bot is not in it until a member `add_bot`s it;
    until then, and after `remove_bot`, its sends there fail with 403 as Telegram's do."""

    def __init__(self, state: EmulatorState, chat_id: int, title: str) -> None:
        if chat_id >= 0:
            raise ValueError("a group's id is negative")
        self._state = state
        self.id = chat_id
        self.chat = Chat(
            id=chat_id,
            user={},
            chat_instance=str(secrets.randbits(63)),
            blocked=True,
            title=title,
        )
        state.chats[chat_id] = self.chat

    def __repr__(self) -> str:
        return f"SimulatedGroup(id={self.id}, title={self.chat.title!r})"

    # -- what members do -----------------------------------------------------------------

    async def add_bot(self, by: SimulatedUser) -> None:
        """`by` adds the bot: Telegram tells it with a my_chat_member update."""
        await self._set_membership(by, member=True)

    async def remove_bot(self, by: SimulatedUser) -> None:
        await self._set_membership(by, member=False)

    async def send(self, member: SimulatedUser, text: str) -> dict[str, Any]:
        """`member` writes in the group; the bot receives it (as with privacy mode off)."""
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        message = self._state.add_message(
            self.chat,
            from_bot=False,
            sender=member.api(),
            text=text,
            entities=command_entities(text) or None,
        )
        data = message.to_api()
        self._state.enqueue_update("message", data)
        return data

    async def tap(self, member: SimulatedUser, message_id: int, text: str) -> str:
        """`member` presses the button labelled `text` on a bot message in the group."""
        message = self._bot_message(message_id)
        button = next((b for b in message.buttons if b.get("text") == text), None)
        if button is None or "callback_data" not in button:
            raise LookupError(f"no button {text!r} with data on message {message_id}")
        return self._press(member, message, button["callback_data"])

    async def tap_data(self, member: SimulatedUser, message_id: int, data: str) -> str:
        """`member` presses a button with arbitrary callback data on a bot message."""
        return self._press(member, self._bot_message(message_id), data)

    # -- what members see ----------------------------------------------------------------

    @property
    def messages(self) -> list[EmuMessage]:
        return list(self.chat.messages)

    @property
    def bot_messages(self) -> list[EmuMessage]:
        return [m for m in self.chat.messages if m.from_bot and not m.deleted]

    # -- internals -----------------------------------------------------------------------

    def _bot_message(self, message_id: int) -> EmuMessage:
        message = self.chat.find(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise LookupError(f"no live bot message {message_id} in group {self.id}")
        return message

    def _press(self, member: SimulatedUser, message: EmuMessage, data: str) -> str:
        return self._state.press(self.chat, message, member.api(), data)

    async def _set_membership(self, by: SimulatedUser, *, member: bool) -> None:
        if self.chat.blocked != member:
            return
        self.chat.blocked = not member
        if member:
            self.chat.user = by.api()
        old, new = ("left", "member") if member else ("member", "left")
        bot = self._state.bot_user
        self._state.enqueue_update(
            "my_chat_member",
            {
                "chat": self.chat.api(),
                "from": by.api(),
                "date": self._state.now(),
                "old_chat_member": {"user": bot, "status": old},
                "new_chat_member": {"user": bot, "status": new},
            },
        )
