"""Formatting checks for parse_mode, so markup Telegram would reject fails in tests too.

The text is stored as sent; this only reproduces Telegram's "can't parse entities" errors
for the mistakes that actually reach production (unsupported tags such as <br>, unclosed
tags, unescaped MarkdownV2 characters) and yields the visible text for length checks.
"""

from __future__ import annotations

import html
import re

from playground.emulator.errors import bad_request

PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>")
_MDV2_ALWAYS_ESCAPED = set("#+-={}.!")
_MDV2_TOGGLES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough"}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _fail(detail: str) -> Exception:
    return bad_request(f"can't parse entities: {detail}")


def _check_html(text: str) -> str:
    stack: list[tuple[str, int]] = []
    for match in _TAG_RE.finditer(text):
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        at = _offset(text, match.start())
        if closing:
            if not stack:
                raise _fail(f"Unexpected end tag at byte offset {at}")
            opened, _ = stack.pop()
            if opened != name:
                raise _fail(
                    f'Unmatched end tag at byte offset {at}, expected "</{opened}>", '
                    f'found "</{name}>"'
                )
            continue
        if name not in _HTML_TAGS or (name == "span" and "tg-spoiler" not in attrs):
            raise _fail(f'Unsupported start tag "{name}" at byte offset {at}')
        if not attrs.rstrip().endswith("/"):
            stack.append((name, at))
    if stack:
        name, _ = stack[-1]
        raise _fail(f"Can't find end tag corresponding to start tag {name}")
    # Telegram rejects any "<" that does not open a tag: text must escape it as &lt;.
    tag_starts = {match.start() for match in _TAG_RE.finditer(text)}
    stray = next((i for i, c in enumerate(text) if c == "<" and i not in tag_starts), None)
    if stray is not None:
        raise _fail(f'Unsupported start tag "" at byte offset {_offset(text, stray)}')
    return html.unescape(_TAG_RE.sub("", text))


def _check_markdown_v2(text: str) -> str:
    visible: list[str] = []
    open_at: dict[str, int] = {}
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            visible.append(text[i + 1])
            i += 2
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _fail(f"can't find end of Code entity at byte offset {_offset(text, i)}")
            visible.append(text[i + len(fence) : end])
            i = end + len(fence)
            continue
        token = text[i : i + 2] if text.startswith(("__", "||"), i) else ch
        token_name = "Spoiler" if token == "||" else _MDV2_TOGGLES.get(token, "")
        if token_name:
            if token in open_at:
                del open_at[token]
            else:
                open_at[token] = i
            i += len(token)
            continue
        if ch == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close >= 0 else -1
            if end < 0:
                raise _fail(f"can't find end of a URL at byte offset {_offset(text, i)}")
            visible.append(_check_markdown_v2(text[i + 1 : close]))
            i = end + 1
            continue
        at_line_start = i == 0 or text[i - 1] == "\n"
        if ch in _MDV2_ALWAYS_ESCAPED or ch in "()]|" or (ch == ">" and not at_line_start):
            raise _fail(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        visible.append(ch)
        i += 1
    if open_at:
        token, index = min(open_at.items(), key=lambda item: item[1])
        name = "Spoiler" if token == "||" else _MDV2_TOGGLES[token]
        raise _fail(f"can't find end of {name} entity at byte offset {_offset(text, index)}")
    return "".join(visible)


def _check_markdown(text: str) -> str:
    # Legacy Markdown has no nesting: each marker runs to its next occurrence.
    visible: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            visible.append(text[i + 1])
            i += 2
            continue
        marker = "```" if text.startswith("```", i) else text[i]
        if marker in ("```", "`", "*", "_"):
            end = text.find(marker, i + len(marker))
            if end < 0:
                raise _fail(
                    f"can't find end of the entity starting at byte offset {_offset(text, i)}"
                )
            visible.append(text[i + len(marker) : end])
            i = end + len(marker)
            continue
        visible.append(text[i])
        i += 1
    return "".join(visible)


def normalize_parse_mode(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    mode = PARSE_MODES.get(value.lower())
    if mode is None:
        raise bad_request(f"unsupported parse_mode {value}")
    return mode


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user would see; raises Telegram's error for markup it can't parse."""
    if parse_mode == "HTML":
        return _check_html(text)
    if parse_mode == "MarkdownV2":
        return _check_markdown_v2(text)
    if parse_mode == "Markdown":
        return _check_markdown(text)
    return text
