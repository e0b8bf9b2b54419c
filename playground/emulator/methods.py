"""Bot API methods about the bot itself, text messages, keyboards and callbacks."""

from __future__ import annotations

import re
from typing import Any

from playground.emulator.contract import MethodTable
from playground.emulator.errors import bad_request
from playground.emulator.keyboards import check_markup_fits_chat, parse_reply_markup
from playground.emulator.markup import normalize_parse_mode, utf16_len, visible_text
from playground.emulator.params import Params
from playground.emulator.state import Chat, EmulatorState, EmuMessage

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_OPTION_KEYS = (
    "disable_notification",
    "protect_content",
    "link_preview_options",
    "disable_web_page_preview",
    "message_effect_id",
    "allow_paid_broadcast",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


# -- helpers shared with the media methods ---------------------------------------------------


def formatted_text(
    p: Params, key: str, entities_key: str, *, limit: int, empty: str | None, too_long: str
) -> tuple[str | None, str | None, list[dict[str, Any]] | None]:
    """(text, parse_mode, entities) of a text or caption; empty=None makes it optional."""
    text = p.opt_str(key)
    mode = normalize_parse_mode(p.opt_str("parse_mode"))
    entities = p.opt_list(entities_key, invalid="can't parse entities JSON object")
    if not text:
        if empty is not None:
            raise bad_request(empty)
        return None, None, None
    # Telegram ignores parse_mode when explicit entities are given.
    visible = text if entities else visible_text(text, mode)
    if not visible.strip():
        if empty is not None:
            raise bad_request(empty)
        return None, None, None
    if utf16_len(visible) > limit:
        raise bad_request(too_long)
    return text, mode, entities or None


def reply_target(chat: Chat, p: Params) -> EmuMessage | None:
    params = p.opt_dict("reply_parameters", invalid="can't parse reply parameters JSON object")
    if params is not None:
        target_id = params.get("message_id")
        allow = bool(params.get("allow_sending_without_reply"))
    else:
        target_id = p.opt_int("reply_to_message_id")
        allow = p.flag("allow_sending_without_reply")
    if target_id is None:
        return None
    target = chat.find(target_id) if isinstance(target_id, int) else None
    if target is None or target.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return target


def send_options(p: Params) -> dict[str, Any]:
    return {key: p.get(key) for key in _OPTION_KEYS if key in p}


def apply_reply_keyboard(chat: Chat, markup: dict[str, Any] | None) -> None:
    if markup is None:
        return
    chat.reply_keyboard = None if markup.get("remove_keyboard") else markup


def inline_markup_for_edit(p: Params) -> dict[str, Any] | None:
    inline, other = parse_reply_markup(p.get("reply_markup"))
    if other is not None:
        raise bad_request("inline keyboard expected")
    return inline


def check_edit_markup(state: EmulatorState, message: EmuMessage, markup: Any) -> None:
    """The new keyboard of an edit must suit the message's chat, as a sent one must."""
    check_markup_fits_chat(markup, private=state.chats[message.chat_id].private)


def editable_message(state: EmulatorState, p: Params) -> EmuMessage:
    if "inline_message_id" in p:
        # The emulator has no inline mode, so no inline message can exist.
        raise bad_request("MESSAGE_ID_INVALID")
    chat = state.chat_for(p)
    message_id = p.req_int(
        "message_id",
        missing="message identifier is not specified",
        invalid="message to edit not found",
    )
    message = chat.find(message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def mark_edited(state: EmulatorState, message: EmuMessage) -> dict[str, Any]:
    message.edit_date = state.now()
    message.edits += 1
    data = message.to_api()
    state.emit("edit", chat_id=message.chat_id, message=data)
    return data


# -- methods -----------------------------------------------------------------------------


async def get_me(state: EmulatorState, p: Params) -> dict[str, Any]:
    return {
        **state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def send_message(state: EmulatorState, p: Params) -> dict[str, Any]:
    chat = state.chat_for(p)
    text, mode, entities = formatted_text(
        p,
        "text",
        "entities",
        limit=4096,
        empty="message text is empty",
        too_long="message is too long",
    )
    inline, keyboard = parse_reply_markup(p.get("reply_markup"))
    check_markup_fits_chat(inline, private=chat.private)
    reply_to = reply_target(chat, p)
    apply_reply_keyboard(chat, keyboard)
    message = state.add_message(
        chat,
        from_bot=True,
        text=text,
        entities=entities,
        parse_mode=mode,
        reply_markup=inline,
        reply_to=reply_to,
        options=send_options(p),
    )
    return message.to_api()


async def edit_message_text(state: EmulatorState, p: Params) -> dict[str, Any]:
    message = editable_message(state, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, mode, entities = formatted_text(
        p,
        "text",
        "entities",
        limit=4096,
        empty="message text is empty",
        too_long="message is too long",
    )
    # An omitted reply_markup removes the keyboard, exactly as on Telegram.
    markup = inline_markup_for_edit(p)
    check_edit_markup(state, message, markup)
    before = (message.text, message.entities, message.parse_mode, message.reply_markup)
    if (text, entities, mode, markup) == before:
        raise bad_request(NOT_MODIFIED)
    message.text, message.entities, message.parse_mode = text, entities, mode
    message.reply_markup = markup
    return mark_edited(state, message)


async def edit_message_caption(state: EmulatorState, p: Params) -> dict[str, Any]:
    message = editable_message(state, p)
    media = (message.photo, message.document, message.audio, message.voice)
    if all(item is None for item in media):
        raise bad_request("there is no caption in the message to edit")
    caption, mode, entities = formatted_text(
        p,
        "caption",
        "caption_entities",
        limit=1024,
        empty=None,
        too_long="message caption is too long",
    )
    markup = inline_markup_for_edit(p)
    check_edit_markup(state, message, markup)
    before = (message.caption, message.caption_entities, message.parse_mode, message.reply_markup)
    if (caption, entities, mode, markup) == before:
        raise bad_request(NOT_MODIFIED)
    message.caption, message.caption_entities, message.parse_mode = caption, entities, mode
    message.reply_markup = markup
    return mark_edited(state, message)


async def edit_message_reply_markup(state: EmulatorState, p: Params) -> dict[str, Any]:
    message = editable_message(state, p)
    markup = inline_markup_for_edit(p)
    check_edit_markup(state, message, markup)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    return mark_edited(state, message)


async def delete_message(state: EmulatorState, p: Params) -> bool:
    chat = state.chat_for(p)
    message_id = p.req_int(
        "message_id",
        missing="message identifier is not specified",
        invalid="message to delete not found",
    )
    message = chat.find(message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    message.deleted = True
    state.emit("delete", chat_id=chat.id, message_id=message_id)
    return True


async def answer_callback_query(state: EmulatorState, p: Params) -> bool:
    query_id = p.opt_str("callback_query_id") or ""
    record = state.callback_queries.get(query_id)
    if record is None or record.answered:
        raise bad_request(QUERY_INVALID)
    text = p.opt_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    answer = {
        "callback_query_id": query_id,
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.opt_str("url"),
        "cache_time": p.opt_int("cache_time"),
        "user_id": record.user_id,
    }
    state.callback_answers.append(answer)
    state.emit("callback_answer", chat_id=record.chat_id, answer=answer)
    return True


async def send_chat_action(state: EmulatorState, p: Params) -> bool:
    chat = state.chat_for(p)
    action = p.opt_str("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.last_action = action
    state.emit("chat_action", chat_id=chat.id, action=action)
    return True


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.opt_dict("scope", invalid="can't parse BotCommandScope JSON object")
    return EmulatorState.commands_key(scope, p.opt_str("language_code"))


async def set_my_commands(state: EmulatorState, p: Params) -> bool:
    commands = p.opt_list("commands", invalid="can't parse commands JSON object")
    if commands is None:
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned: list[dict[str, Any]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", "")).strip()
        if not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("command description must be 1-256 characters long")
        cleaned.append({"command": command, "description": description})
    state.commands[_commands_key(p)] = cleaned
    state.emit("commands", commands=cleaned)
    return True


async def get_my_commands(state: EmulatorState, p: Params) -> list[dict[str, Any]]:
    return list(state.commands.get(_commands_key(p), []))


async def delete_my_commands(state: EmulatorState, p: Params) -> bool:
    state.commands.pop(_commands_key(p), None)
    state.emit("commands", commands=[])
    return True


async def close(state: EmulatorState, p: Params) -> bool:
    return True


async def log_out(state: EmulatorState, p: Params) -> bool:
    return True


METHODS: MethodTable = {
    "getMe": get_me,
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "close": close,
    "logOut": log_out,
}
