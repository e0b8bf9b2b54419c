"""What a Bot API method implementation looks like, shared by the methods and the registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from playground.emulator.params import Params
from playground.emulator.state import EmulatorState

MethodImpl = Callable[[EmulatorState, Params], Awaitable[Any]]
# Keyed by the method's name as the Bot API documents it, e.g. "sendMessage".
MethodTable = Mapping[str, MethodImpl]


@dataclass(frozen=True)
class Described:
    """A successful result that Telegram answers with an extra "description" field."""

    result: Any
    description: str
