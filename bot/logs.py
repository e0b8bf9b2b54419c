"""Logging set-up that keeps the bot token, and whatever users wrote or are called, out of
every line at every level.

The project's own code logs ids, counts and lengths only. Libraries are kept in line
here: those whose INFO and DEBUG lines are payloads are held at WARNING (NOISY_LOGGERS),
and the rest have their arguments cut down below WARNING (KeepUserTextOut): at DEBUG,
python-telegram-bot logs every Bot API call with its parameters and answer, and every
update whole, and those hold the notes, the typed text and the names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from enum import Enum

# httpx logs every request URL at INFO, and Bot API URLs carry the token; httpcore, hpack
# and h2 log the HTTP traffic itself at DEBUG; aiosqlite logs every statement with its
# values, and every result, at DEBUG; APScheduler tells of every job at INFO.
NOISY_LOGGERS = ("httpx", "httpcore", "hpack", "h2", "aiosqlite", "apscheduler")

# The project's own loggers: they log ids, counts and lengths, never a user's words.
OWN_LOGGERS = ("bot", "handlers", "player", "playground", "cli", "sequences", "migrations")
# Libraries whose lines never hold a row or a message, passed whole: Alembic names the
# dialect and each revision it runs ("Running upgrade 0011 -> 0012, ..."), which an
# operator reads at start-up.
PLAIN_LIBRARIES = ("alembic",)

# python-telegram-bot lines whose first argument is named by its own code (a Bot API
# method; a retry loop's name, with the network error that ended its last run): kept, as
# it says what the line is about.
_NAMED_BY_CODE = frozenset(
    {
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "Call to Bot API endpoint `%s` finished with return value `%s`",
        "%s Starting",
        "%s Cancelled",
        "%s Action succeeded. Stopping loop.",
        "%s Failed run number %s of %s. Retrying.",
    }
)


class RedactSecrets(logging.Filter):
    """Replaces each secret with a placeholder in the final message and any traceback text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<token>")
        return text


class KeepUserTextOut(logging.Filter):
    """A library's INFO or DEBUG line keeps its message and its numbers; any other argument
    is replaced by what it is and how long: text by its length, a mapping by its keys (and
    their numbers), an object by its type (and update id). So "Calling Bot API endpoint
    `sendMessage` with parameters `{chat_id: 42, text: <31 chars>}`" stays readable and
    says nothing of the note.

    Warnings and errors pass whole: they are rare, needed as they are, and carry error
    descriptions rather than payloads. The project's own lines, and Alembic's, pass whole:
    they hold no user text to begin with."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or _is_own(record.name) or not record.args:
            return True
        # Once per record, however many handlers it passes: a cut line is not cut again.
        if getattr(record, "user_text_cut", False):
            return True
        record.user_text_cut = True
        args = record.args
        if isinstance(args, Mapping):
            record.args = {key: _summary(value) for key, value in args.items()}
            return True
        named = (
            record.name.startswith("telegram")
            and isinstance(record.msg, str)
            and record.msg in _NAMED_BY_CODE
        )
        record.args = tuple(
            value if index == 0 and named else _summary(value) for index, value in enumerate(args)
        )
        return True


def _is_own(name: str) -> bool:
    return any(
        name == own or name.startswith(own + ".") for own in (*OWN_LOGGERS, *PLAIN_LIBRARIES)
    )


def _summary(value: object, *, depth: int = 0) -> object:
    """What may be logged of a value: numbers as they are, anything else by its shape."""
    if value is None or isinstance(value, bool | int | float | Enum):
        return value
    if isinstance(value, str):
        return f"<{len(value)} chars>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        if depth > 0:
            return f"<{len(value)} keys>"
        # Keys are field names of the Bot API (chat_id, text), named by code, not users.
        inner = ", ".join(
            f"{key}: {_summary(item, depth=depth + 1)}"
            for key, item in value.items()
            if isinstance(key, str)
        )
        return f"{{{inner}}}"
    if isinstance(value, list | tuple | set | frozenset):
        if all(isinstance(item, int) for item in value):
            return list(value)  # e.g. the update ids of a getUpdates answer
        return f"<{len(value)} items>"
    if isinstance(value, type):
        return value.__name__  # a class, named by code
    update_id = getattr(value, "update_id", None)
    if isinstance(update_id, int):
        return f"<{type(value).__name__} {update_id}>"
    return f"<{type(value).__name__}>"


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Cut first, then redact the cut line: the token never shows either way.
    filters = (KeepUserTextOut(), RedactSecrets(secrets))
    for handler in logging.getLogger().handlers:
        for log_filter in filters:
            handler.addFilter(log_filter)
