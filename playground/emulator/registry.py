"""The table of Bot API methods, filled by the modules that implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from playground.emulator.params import Params
from playground.emulator.state import EmulatorState

MethodImpl = Callable[[EmulatorState, Params], Awaitable[Any]]


@dataclass(frozen=True)
class Described:
    """A successful result that Telegram answers with an extra "description" field."""

    result: Any
    description: str


@dataclass(frozen=True)
class MethodSpec:
    name: str
    impl: MethodImpl


# Keyed by the lower-cased name because Telegram matches method names case-insensitively.
METHODS: dict[str, MethodSpec] = {}


def method(name: str) -> Callable[[MethodImpl], MethodImpl]:
    def register(impl: MethodImpl) -> MethodImpl:
        METHODS[name.lower()] = MethodSpec(name, impl)
        return impl

    return register


def lookup(name: str) -> MethodSpec | None:
    return METHODS.get(name.lower())
