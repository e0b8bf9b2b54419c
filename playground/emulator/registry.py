"""The table of every Bot API method the emulator implements."""

from __future__ import annotations

from dataclasses import dataclass

from playground.emulator.contract import MethodImpl, MethodTable
from playground.emulator.media import METHODS as MEDIA_METHODS
from playground.emulator.methods import METHODS as MESSAGE_METHODS
from playground.emulator.polling import METHODS as UPDATE_METHODS
from playground.emulator.webapps import METHODS as WEB_APP_METHODS


@dataclass(frozen=True)
class MethodSpec:
    name: str
    impl: MethodImpl


def build_table(*tables: MethodTable) -> dict[str, MethodSpec]:
    """One table keyed by the lower-cased name, as Telegram matches names case-insensitively."""
    specs: dict[str, MethodSpec] = {}
    for table in tables:
        for name, impl in table.items():
            key = name.lower()
            if key in specs:
                # Merging would silently let one implementation shadow the other.
                raise ValueError(f"Bot API method {name} is implemented twice")
            specs[key] = MethodSpec(name, impl)
    return specs


METHODS: dict[str, MethodSpec] = build_table(
    MESSAGE_METHODS, MEDIA_METHODS, UPDATE_METHODS, WEB_APP_METHODS
)


def lookup(name: str) -> MethodSpec | None:
    return METHODS.get(name.lower())
