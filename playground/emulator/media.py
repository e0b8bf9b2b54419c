"""Uploads kept in memory: sendPhoto, sendDocument, sendAudio, sendVoice, editMessageMedia
(photos and audio) and getFile."""

from __future__ import annotations

import io
import mimetypes
import secrets
import struct
from typing import Any, NamedTuple

import soundfile

from playground.emulator.contract import MethodTable
from playground.emulator.errors import bad_request
from playground.emulator.keyboards import check_markup_fits_chat, parse_reply_markup
from playground.emulator.methods import (
    NOT_MODIFIED,
    apply_reply_keyboard,
    check_edit_markup,
    editable_message,
    formatted_text,
    inline_markup_for_edit,
    mark_edited,
    reply_target,
    send_options,
)
from playground.emulator.params import Params, Upload
from playground.emulator.state import EmulatorState, EmuMessage, StoredFile

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files, as the cloud Bot API does
PHOTO_LIMIT = 10 * 1024 * 1024
_THUMB_SIDES = (90, 320, 800, 1280)
MAX_DURATION = 100_000  # the Bot API server clamps a given duration to this many seconds
# Telegram's answer to a file of the wrong kind: a voice note that is no voice recording, or
# a file_id of a voice note sent as audio (and the other way round).
TYPE_MISMATCH = "type of file mismatch"
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxk",
    "document": "BQACAgIAAxk",
    "audio": "CQACAgIAAxk",
    "voice": "AwACAgIAAxk",
}
_FOLDER = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ""),
    "audio": ("music", ""),
    "voice": ("voice", ".oga"),
}


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF or WebP header; None if it is none of them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        # SOF markers carry the frame size; C4, C8 and CC share the range but are not frames.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def store_file(
    state: EmulatorState, kind: str, data: bytes, *, file_id: str | None = None, **meta: Any
) -> StoredFile:
    """Keep an upload; `file_id`: the id it already has (one a bot was given before)."""
    serial = state.next_serial()
    prefix = _FILE_ID_PREFIX[kind]
    folder, default_ext = _FOLDER[kind]
    ext = default_ext
    if kind in ("document", "audio"):
        name = meta.get("file_name") or ""
        ext = name[name.rfind(".") :] if "." in name else ""
    stored = StoredFile(
        file_id=file_id or f"{prefix}{serial}_{secrets.token_urlsafe(18)}",
        file_unique_id=f"AQAD{serial}{secrets.token_urlsafe(6)}",
        kind=kind,
        data=data,
        file_path=f"{folder}/file_{serial}{ext}",
        **meta,
    )
    state.files[stored.file_id] = stored
    state.files_by_path[stored.file_path] = stored
    return stored


def keep_photo(state: EmulatorState, file_id: str, data: bytes) -> StoredFile:
    """A photo known by `file_id` from now on, as if uploaded and given that id."""
    size = image_size(data)
    if size is None or 0 in size:
        raise ValueError("not a PNG, JPEG, GIF or WebP picture")
    return store_file(state, "photo", data, file_id=file_id, width=size[0], height=size[1])


def _input_file(state: EmulatorState, p: Params, kind: str) -> Upload | StoredFile:
    """The upload or the already known file a send method refers to (counted in
    `state.media` as the bot sent it, whether it is then accepted or not)."""
    value = p.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get(value.removeprefix("attach://"))
    if isinstance(value, Upload):
        state.media.upload(kind, value.data)
        return value
    if value is None or value == "":
        raise bad_request(f"there is no {kind} in the request")
    if not isinstance(value, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    if value.startswith(("http://", "https://")):
        # Telegram would download it; the emulator has no network, and says so like Telegram.
        raise bad_request("failed to get HTTP URL content")
    state.media.by_file_id[kind] += 1
    return _known_file(state, value, kind)


def _known_file(state: EmulatorState, file_id: str, kind: str) -> StoredFile:
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if {stored.kind, kind} == {"audio", "voice"}:
        # Both are documents to Telegram's file store; its servers tell them apart later.
        raise bad_request(TYPE_MISMATCH)
    if stored.kind != kind:
        raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return stored


def _photo_sizes(state: EmulatorState, source: Upload | StoredFile) -> list[dict[str, Any]]:
    if isinstance(source, StoredFile):
        full = source
    else:
        if source.size > PHOTO_LIMIT:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        size = image_size(source.data)
        if size is None or 0 in size:
            raise bad_request("IMAGE_PROCESS_FAILED")
        full = store_file(state, "photo", source.data, width=size[0], height=size[1])
    width, height = full.width or 0, full.height or 0
    sizes = []
    # The emulator does not resample: smaller sizes describe a thumbnail but serve the original.
    for side in _THUMB_SIDES:
        if max(width, height) > side:
            scale = side / max(width, height)
            thumb = store_file(
                state,
                "photo",
                full.data,
                width=max(1, round(width * scale)),
                height=max(1, round(height * scale)),
            )
            sizes.append(_photo_size(thumb))
    sizes.append(_photo_size(full))
    return sizes


def _photo_size(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "width": stored.width,
        "height": stored.height,
    }


def _document(state: EmulatorState, source: Upload | StoredFile) -> dict[str, Any]:
    if isinstance(source, Upload):
        name = source.filename or "file"
        mime = source.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or mime or "application/octet-stream"
        source = store_file(state, "document", source.data, file_name=name, mime_type=mime)
    info: dict[str, Any] = {
        "file_id": source.file_id,
        "file_unique_id": source.file_unique_id,
        "file_size": source.file_size,
    }
    if source.file_name:
        info["file_name"] = source.file_name
    if source.mime_type:
        info["mime_type"] = source.mime_type
    return info


class _Sound(NamedTuple):
    """What an audio file's own bytes say: its container and codec, its length."""

    mime_type: str | None  # None: no audio Telegram plays
    voice: bool  # a format Telegram shows as a voice note
    seconds: float | None  # None: unknown to the emulator (M4A, or unreadable)


def _sound(data: bytes) -> _Sound:
    """OGG/Opus, MP3 (as Telegram takes for a voice note) or anything else libsndfile reads,
    and M4A by its header (libsndfile reads no MP4)."""
    if data[4:8] == b"ftyp":
        return _Sound("audio/mp4", True, None)
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return _Sound(None, False, None)
    if info.format == "OGG":
        return _Sound("audio/ogg", info.subtype == "OPUS", info.duration)
    if info.format == "MP3":
        return _Sound("audio/mpeg", True, info.duration)
    mime = {"WAV": "audio/x-wav", "FLAC": "audio/flac"}.get(info.format)
    return _Sound(mime, False, info.duration)


def _given_duration(p: Params) -> int | None:
    value = p.opt_int("duration")
    return None if value is None else min(max(value, 0), MAX_DURATION)


def _stored_sound(
    state: EmulatorState, kind: str, source: Upload | StoredFile, p: Params
) -> StoredFile:
    """The audio file or voice note of a send or an edit, kept if it was uploaded."""
    if isinstance(source, StoredFile):
        return source
    sound = _sound(source.data)
    if kind == "voice" and not sound.voice:
        raise bad_request(TYPE_MISMATCH)
    # The file's own length wins over the bot's word, as Telegram reads the file too.
    seconds = round(sound.seconds) if sound.seconds is not None else _given_duration(p)
    meta: dict[str, Any] = {"mime_type": sound.mime_type, "duration": seconds or 0}
    if kind == "audio":
        name = source.filename or "audio"
        meta["file_name"] = name
        if meta["mime_type"] is None:
            meta["mime_type"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return store_file(state, kind, source.data, **meta)


def _thumbnail(state: EmulatorState, p: Params, value: Any) -> dict[str, Any] | None:
    """An audio's cover picture: uploaded with each send (Telegram takes no file_id for a
    thumbnail), and silently left out when it is no picture, as Telegram does."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get(value.removeprefix("attach://"))
    if not isinstance(value, Upload):
        return None
    state.media.upload("thumbnail", value.data, reusable=False)
    size = image_size(value.data)
    if size is None or 0 in size:
        return None
    return _photo_size(store_file(state, "photo", value.data, width=size[0], height=size[1]))


def _sound_object(
    stored: StoredFile,
    *,
    title: str | None = None,
    performer: str | None = None,
    thumbnail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Audio or Voice object as the Bot API documents it."""
    info: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": stored.duration or 0,
    }
    if stored.kind == "audio":
        if performer:
            info["performer"] = performer
        if title:
            info["title"] = title
        if stored.file_name:
            info["file_name"] = stored.file_name
    if stored.mime_type:
        info["mime_type"] = stored.mime_type
    info["file_size"] = stored.file_size
    if thumbnail is not None:
        info["thumbnail"] = thumbnail
    return info


def _media_object(
    state: EmulatorState, p: Params, kind: str, source: Upload | StoredFile, fields: Params
) -> dict[str, Any]:
    """The message's media field; `fields`: where its options are (the request's own, or an
    edit's InputMedia), while attach:// names a part of the request `p`."""
    if kind == "photo":
        return {"photo": _photo_sizes(state, source)}
    if kind == "document":
        return {"document": _document(state, source)}
    stored = _stored_sound(state, kind, source, fields)
    if kind == "voice":
        return {"voice": _sound_object(stored)}
    cover = _thumbnail(state, p, fields.get("thumbnail"))
    if isinstance(source, Upload):
        stored.thumbnail = cover
    elif cover is None:
        cover = stored.thumbnail
    return {
        "audio": _sound_object(
            stored,
            title=fields.opt_str("title"),
            performer=fields.opt_str("performer"),
            thumbnail=cover,
        )
    }


async def _send_media(state: EmulatorState, p: Params, kind: str) -> dict[str, Any]:
    chat = state.chat_for(p)
    source = _input_file(state, p, kind)
    caption, mode, entities = formatted_text(
        p,
        "caption",
        "caption_entities",
        limit=1024,
        empty=None,
        too_long="message caption is too long",
    )
    inline, keyboard = parse_reply_markup(p.get("reply_markup"))
    check_markup_fits_chat(inline, private=chat.private)
    reply_to = reply_target(chat, p)
    media = _media_object(state, p, kind, source, p)
    apply_reply_keyboard(chat, keyboard)
    message = state.add_message(
        chat,
        from_bot=True,
        caption=caption,
        caption_entities=entities,
        parse_mode=mode,
        reply_markup=inline,
        reply_to=reply_to,
        options=send_options(p),
        **media,
    )
    return message.to_api()


async def send_photo(state: EmulatorState, p: Params) -> dict[str, Any]:
    return await _send_media(state, p, "photo")


async def send_document(state: EmulatorState, p: Params) -> dict[str, Any]:
    return await _send_media(state, p, "document")


async def send_audio(state: EmulatorState, p: Params) -> dict[str, Any]:
    return await _send_media(state, p, "audio")


async def send_voice(state: EmulatorState, p: Params) -> dict[str, Any]:
    return await _send_media(state, p, "voice")


# The kinds of InputMedia Telegram knows; the emulator edits into photos and audio.
_INPUT_MEDIA_TYPES = frozenset({"animation", "audio", "document", "live_photo", "photo", "video"})


class _Edit(NamedTuple):
    """What an editMessageMedia asks for: the file, and its caption's words."""

    kind: str
    source: Upload | StoredFile
    raw: Params  # the InputMedia's own fields (an audio's title, performer, thumbnail)
    caption: str | None
    parse_mode: str | None
    entities: list[dict[str, Any]] | None


def _input_media(state: EmulatorState, p: Params) -> _Edit:
    """The InputMedia of an edit, checked in Telegram's order and worded as Telegram words
    it: the object, its caption, its type, the file it names (an upload by attach://, or a
    file_id), then whether the type is one Telegram edits a message into."""
    raw = p.get("media")
    if raw is None or raw == "":
        raise bad_request('parameter "media" is required')
    if isinstance(raw, str):  # JSON that did not parse is left a string (params.py)
        raise bad_request("can't parse input media JSON object")
    if not isinstance(raw, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    caption, mode, entities = formatted_text(
        Params(raw),
        "caption",
        "caption_entities",
        limit=1024,
        empty=None,
        too_long="message caption is too long",
    )
    kind = raw.get("type")
    if kind is None:
        raise bad_request("can't parse InputMedia: Can't find field \"type\"")
    if not isinstance(kind, str):
        raise bad_request('can\'t parse InputMedia: Field "type" must be of type String')
    value = raw.get("media")
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get(value.removeprefix("attach://"))
    if not value or not isinstance(value, str | Upload):
        raise bad_request("can't parse InputMedia: media not found")
    if kind not in _INPUT_MEDIA_TYPES:
        # A voice note, say: no message is edited into one.
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    if kind not in ("photo", "audio"):
        raise bad_request(f"the emulator edits media into photos and audio only, not into {kind}")
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        state.media.by_file_id[kind] += 1
        value = _known_file(state, value, kind)
    else:
        # Counted as a send's upload is: an upload is an upload, whichever call carries it.
        state.media.upload(kind, value.data)
    return _Edit(kind, value, Params(raw), caption, mode, entities)


async def edit_message_media(state: EmulatorState, p: Params) -> dict[str, Any]:
    """A photo or an audio file in place of a message's photo, document, audio or text
    (Telegram adds media to a text message), with its caption and keyboard: the message keeps
    its id and place. A voice note is no media Telegram edits."""
    markup = inline_markup_for_edit(p)
    edit = _input_media(state, p)
    message = editable_message(state, p)
    check_edit_markup(state, message, markup)
    current = (message.text, message.photo, message.document, message.audio)
    if all(item is None for item in current):
        raise bad_request("there is no media in the message to edit")
    words = (edit.caption, edit.entities, edit.parse_mode, markup)
    if (
        isinstance(edit.source, StoredFile)
        and _file_unique_id(message) == edit.source.file_unique_id
        and words
        == (message.caption, message.caption_entities, message.parse_mode, message.reply_markup)
    ):
        raise bad_request(NOT_MODIFIED)
    media = _media_object(state, p, edit.kind, edit.source, edit.raw)
    message.photo, message.audio = media.get("photo"), media.get("audio")
    message.document = None
    message.text, message.entities = None, None
    message.caption, message.caption_entities = edit.caption, edit.entities
    message.parse_mode, message.reply_markup = edit.parse_mode, markup
    return mark_edited(state, message)


def _file_unique_id(message: EmuMessage) -> str | None:
    if message.photo:
        return str(message.photo[-1]["file_unique_id"])
    if message.audio:
        return str(message.audio["file_unique_id"])
    return None


async def get_file(state: EmulatorState, p: Params) -> dict[str, Any]:
    file_id = p.opt_str("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
        "file_path": stored.file_path,
    }


METHODS: MethodTable = {
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendAudio": send_audio,
    "sendVoice": send_voice,
    "editMessageMedia": edit_message_media,
    "getFile": get_file,
}
