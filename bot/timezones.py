"""Time zone names, and the zone at a point on the map; all offline, nothing about Telegram."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder


@functools.cache
def _names_by_lower_case() -> dict[str, str]:
    # The tzdata package guarantees the list exists even on systems without /usr/share/zoneinfo.
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(name: str) -> str | None:
    """The IANA spelling of `name` ("europe/berlin" → "Europe/Berlin"), or None if unknown.

    Looking names up in the known list (rather than trying ZoneInfo on any string) also
    keeps path-like input such as "../../etc" away from the file system."""
    return _names_by_lower_case().get(name.strip().lower())


@functools.cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def user_zone_name(stored: str | None, default: str) -> tuple[str, bool]:
    """The user's zone, else the deployment's, else UTC, and whether it is not the user's
    own: one rule for reminders, streaks and dates, so they never disagree about what
    "today" is."""
    own = canonical_zone(stored or "")
    if own is not None:
        return own, False
    return canonical_zone(default) or "UTC", True


def user_zone(stored: str | None, default: str) -> ZoneInfo:
    return zone(user_zone_name(stored, default)[0])


class ZoneFinder:
    """The zone at a latitude/longitude, from timezonefinder's bundled map.

    The finder loads its data when created (a few tenths of a second), so it is created on
    first use, once, and looked up off the event loop."""

    def __init__(self) -> None:
        self._finder: TimezoneFinder | None = None
        self._lock = threading.Lock()

    async def zone_at(self, latitude: float, longitude: float) -> str | None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return await asyncio.to_thread(self._lookup, latitude, longitude)

    def _lookup(self, latitude: float, longitude: float) -> str | None:
        with self._lock:
            if self._finder is None:
                from timezonefinder import TimezoneFinder

                self._finder = TimezoneFinder()
            found = self._finder.timezone_at(lng=longitude, lat=latitude)
        return canonical_zone(found) if found else None
