"""In-memory world of the emulator: chats, messages, files, the update queue, call log."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playground.emulator.errors import bad_request, forbidden
from playground.emulator.markup import visible_text
from playground.emulator.params import Params

# What Telegram delivers when a bot never said otherwise (or sent an empty list).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


class Signal:
    """Wakes every current waiter on notify(); waiters re-check their condition themselves.

    A fresh Event per generation avoids the lost-wakeup and clear() races of a shared one,
    and notify() stays synchronous so state changes never need to await.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        await self._event.wait()


@dataclass
class MediaCounts:
    """The files the bot sent with its send methods: uploaded (the bytes in the request) or
    by a file_id it was given. An upload costs Telegram's time and the bot's bandwidth; a
    file_id costs neither."""

    uploaded: Counter[str] = field(default_factory=Counter)  # kind -> uploads
    by_file_id: Counter[str] = field(default_factory=Counter)  # kind -> sends by file_id
    # The SHA-256 of each uploaded content -> how many times it was uploaded.
    per_content: Counter[str] = field(default_factory=Counter)

    def upload(self, kind: str, data: bytes, *, reusable: bool = True) -> None:
        """One upload; `reusable=False` for what Telegram never takes by file_id (an audio's
        thumbnail): counted per kind, but not per content, as uploading it again is no waste."""
        self.uploaded[kind] += 1
        if reusable:
            self.per_content[hashlib.sha256(data).hexdigest()] += 1

    def most_uploads_of_one_file(self) -> int:
        """The most times any one content was uploaded (1: each file once; 0: none)."""
        return max(self.per_content.values(), default=0)


@dataclass
class StoredFile:
    """An uploaded file, kept whole in memory so getFile can serve it back."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document", "audio" or "voice"
    data: bytes = field(repr=False)
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None  # seconds, of an audio file or a voice note
    # An audio file's cover (a PhotoSize), as uploaded with it: sent again by its file_id,
    # the audio keeps it.
    thumbnail: dict[str, Any] | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class EmuMessage:
    """One message of a private chat, from either side, as the emulator keeps it."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    sender: dict[str, Any] = field(repr=False)
    chat: dict[str, Any] = field(repr=False)
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] | None = None
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None
    location: dict[str, float] | None = None
    reply_to: EmuMessage | None = field(default=None, repr=False)
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    options: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def plain(self) -> str | None:
        """The words as the user sees them (those of a photo or an audio are its caption):
        markup applied, entities' tags gone."""
        if self.text is not None:
            return self.text if self.entities else visible_text(self.text, self.parse_mode)
        if self.caption is None or self.caption_entities:
            return self.caption
        return visible_text(self.caption, self.parse_mode)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for b in self.buttons]

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            # Telegram answers with the visible text, never the markup it was sent with.
            data["text"] = self.plain
        if self.entities:
            data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo
        if self.document is not None:
            data["document"] = self.document
        if self.audio is not None:
            data["audio"] = self.audio
        if self.voice is not None:
            data["voice"] = self.voice
        if self.location is not None:
            data["location"] = self.location
        if self.caption is not None:
            # As the text: the visible caption, never the markup it was sent with.
            data["caption"] = self.plain
        if self.caption_entities:
            data["caption_entities"] = self.caption_entities
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class Chat:
    """A private chat, which exists only once its user has written to the bot; or, with a
    `title`, a group the bot was added to (`user` is then the member who added it)."""

    id: int
    user: dict[str, Any]
    chat_instance: str
    messages: list[EmuMessage] = field(default_factory=list)
    next_message_id: int = 1
    # The user blocked the bot; in a group, the bot is not (or no longer) a member.
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None
    last_action: str | None = None
    title: str | None = None
    # Set by setChatMenuButton for this chat; None: the bot's default applies.
    menu_button: dict[str, Any] | None = None

    @property
    def private(self) -> bool:
        return self.title is None

    def api(self) -> dict[str, Any]:
        if self.title is not None:
            return {"id": self.id, "type": "group", "title": self.title}
        data = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
        for key in ("last_name", "username"):
            if self.user.get(key):
                data[key] = self.user[key]
        return data

    def find(self, message_id: int) -> EmuMessage | None:
        # Ids only grow, so the list index is a good first guess before scanning.
        index = message_id - 1
        if 0 <= index < len(self.messages) and self.messages[index].message_id == message_id:
            return self.messages[index]
        return next((m for m in self.messages if m.message_id == message_id), None)


@dataclass
class RecordedCall:
    time: float  # time.monotonic() when the request arrived
    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None = None
    description: str | None = None
    result: Any = field(default=None, repr=False)
    duration: float = 0.0
    # The connection was closed without an answer (before or after the call was carried out).
    dropped: bool = False


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateQueue:
    """Pending updates with Telegram's confirm-by-offset semantics."""

    def __init__(self, first_update_id: int = 1) -> None:
        self.pending: list[dict[str, Any]] = []
        self.next_id = first_update_id
        self.allowed: frozenset[str] = DEFAULT_ALLOWED_UPDATES

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        # Telegram never creates updates of a type the bot filtered out.
        if kind not in self.allowed:
            return None
        update = {"update_id": self.next_id, kind: payload}
        self.next_id += 1
        self.pending.append(update)
        return update

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            # A negative offset keeps the last -offset updates and forgets the rest.
            self.pending = self.pending[offset:]

    def take(self, limit: int) -> list[dict[str, Any]]:
        return list(self.pending[:limit])

    def set_allowed(self, kinds: list[str]) -> None:
        self.allowed = frozenset(kinds) if kinds else DEFAULT_ALLOWED_UPDATES

    def drop_all(self) -> None:
        self.pending.clear()


class EmulatorState:
    """Everything the Bot API methods read and change; one per emulator."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_first_name: str,
        clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.clock = clock
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.media = MediaCounts()
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # setChatMenuButton without chat_id; None: the commands menu.
        self.default_menu_button: dict[str, Any] | None = None
        self.calls: list[RecordedCall] = []
        self.updates = UpdateQueue(first_update_id)
        self.update_log: list[dict[str, Any]] = []
        self.webhook: WebhookConfig | None = None
        self.changed = Signal()
        self.subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self.internal_errors: list[BaseException] = []
        self.closing = False
        self.poll_generation = 0
        self._counter = 0

    def now(self) -> int:
        return int(self.clock())

    def next_serial(self) -> int:
        self._counter += 1
        return self._counter

    # -- change notification -------------------------------------------------------------

    def emit(self, event_type: str, **data: Any) -> None:
        event = {"type": event_type, **data}
        for queue in self.subscribers:
            queue.put_nowait(event)
        self.changed.notify()

    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        update = self.updates.push(kind, payload)
        if update is not None:
            self.update_log.append(update)
            self.emit("update", update=update)
        return update

    # -- lookups used by the methods -----------------------------------------------------

    def chat_for(self, p: Params) -> Chat:
        """The target chat of a method call, with Telegram's errors for bad targets."""
        raw = p.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(raw) if isinstance(raw, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            if chat.title is not None:
                raise forbidden("bot is not a member of the group chat")
            raise forbidden("bot was blocked by the user")
        return chat

    def add_message(
        self,
        chat: Chat,
        *,
        from_bot: bool,
        sender: dict[str, Any] | None = None,
        **fields: Any,
    ) -> EmuMessage:
        """A new message in `chat`: the bot's, or (by default) the chat's user's; in a group,
        `sender` is the member who wrote it."""
        message = EmuMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            from_bot=from_bot,
            date=self.now(),
            sender=self.bot_user if from_bot else sender or chat.user,
            chat=chat.api(),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages.append(message)
        self.emit("message", chat_id=chat.id, message=message.to_api())
        return message

    def press(self, chat: Chat, message: EmuMessage, user: dict[str, Any], data: str) -> str:
        """`user` presses a button with callback `data` on `message` in `chat`: the
        callback_query update the bot receives. Returns the query's id."""
        query_id = str(secrets.randbits(63))
        self.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=user["id"],
            chat_id=chat.id,
            message_id=message.message_id,
            data=data,
        )
        self.enqueue_update(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": message.to_api(),
                "chat_instance": chat.chat_instance,
                "data": data,
            },
        )
        return query_id

    @staticmethod
    def commands_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""
