"""Time zones: their names, the zone a user means by what they type ("Berlin", "UTC+2"),
and the zone at a point on the map; all offline, nothing about Telegram."""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

from bot.places import Place, country_code, places_named

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

# A fixed offset as typed: "UTC+2", "GMT-5", "+05:30", "utc +5.30", "UTC−3" (a minus sign).
_TYPED_OFFSET = re.compile(
    r"^(?:utc|gmt)?\s*([+\-\u2212])\s*(\d{1,2})(?:[:.h]?(\d{2}))?$", re.IGNORECASE
)
# How a fixed offset is stored and shown: "UTC+05:30".
_STORED_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$", re.IGNORECASE)
# Offsets in use run from UTC-12 (Baker Island) to UTC+14 (Kiribati's Line Islands), in
# quarter hours (UTC+05:45, Nepal).
_EARLIEST, _LATEST = timedelta(hours=-12), timedelta(hours=14)
# A place this many times bigger than any other of its name, in another zone, is the one
# meant ("London" is London, England; Birmingham, England is only 6 times Birmingham,
# Alabama: the user chooses).
CLEARLY_BIGGER = 10
MAX_CHOICES = 5


@functools.cache
def _names_by_lower_case() -> dict[str, str]:
    # The tzdata package guarantees the list exists even on systems without /usr/share/zoneinfo.
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(name: str) -> str | None:
    """The IANA spelling of `name` ("europe/berlin" → "Europe/Berlin"), or a fixed offset
    as stored ("utc+05:30" → "UTC+05:30"), or None if neither.

    Looking names up in the known list (rather than trying ZoneInfo on any string) also
    keeps path-like input such as "../../etc" away from the file system."""
    stripped = name.strip()
    found = _names_by_lower_case().get(stripped.lower())
    if found is None and (match := _STORED_OFFSET.match(stripped)):
        found = _offset_name(_offset(match[1], match[2], match[3]))
    return found


def _offset(sign: str, hours: str, minutes: str | None) -> timedelta | None:
    """The offset, if it is one in use: within UTC-12..+14, in quarter hours."""
    whole_minutes = int(minutes or 0)
    if whole_minutes > 59 or whole_minutes % 15:
        return None
    size = timedelta(hours=int(hours), minutes=whole_minutes)
    offset = -size if sign in "-\u2212" else size
    return offset if _EARLIEST <= offset <= _LATEST else None


def _offset_name(offset: timedelta | None) -> str | None:
    if offset is None:
        return None
    if not offset:
        return "UTC"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"UTC{'-' if offset < timedelta(0) else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def is_fixed(name: str) -> bool:
    """A zone whose clock never changes for summer time because it is an offset, not a
    place: "UTC+02:00", "UTC", "Etc/GMT-2"."""
    return name.startswith(("UTC", "GMT", "Etc/"))


@functools.cache
def zone(name: str) -> tzinfo:
    """The zone of a stored name. A fixed offset is a fixed tzinfo rather than one of
    tzdata's Etc/GMT zones: those exist in whole hours only, and their signs are the
    POSIX way round (Etc/GMT-2 is UTC+2), which would be one more thing to get wrong."""
    match = _STORED_OFFSET.match(name)
    if match and (offset := _offset(*match.groups())) is not None:
        return timezone(offset, name)
    return ZoneInfo(name)


def user_zone_name(stored: str | None, default: str) -> tuple[str, bool]:
    """The user's zone, else the deployment's, else UTC, and whether it is not the user's
    own: one rule for reminders, streaks and dates, so they never disagree about what
    "today" is."""
    own = canonical_zone(stored or "")
    if own is not None:
        return own, False
    return canonical_zone(default) or "UTC", True


def user_zone(stored: str | None, default: str) -> tzinfo:
    return zone(user_zone_name(stored, default)[0])


@dataclass(frozen=True)
class ZoneFound:
    zone: str
    # The city it was found by, if a city was named, and the smaller places of that name
    # in other zones, so the reply can say how to choose one of those instead.
    place: Place | None = None
    others: tuple[Place, ...] = ()


@dataclass(frozen=True)
class ZoneChoices:
    """Places of the name in different zones, none clearly the one meant: most people first."""

    places: tuple[Place, ...]


def find_zone(text: str) -> ZoneFound | ZoneChoices | None:
    """The zone the user means: an IANA name ("Europe/Berlin"), a fixed offset ("UTC+2",
    "GMT-5", "+05:30"), or a city ("Berlin", "sao paulo", "London, Canada"); None if none."""
    typed = " ".join(text.split())
    if not typed:
        return None
    # An offset first: tzdata's "GMT+0" and "GMT-0" are offsets to store as "UTC".
    if match := _TYPED_OFFSET.match(typed):
        offset = _offset_name(_offset(*match.groups()))
        return ZoneFound(offset) if offset is not None else None
    named = canonical_zone(typed)
    if named is not None:
        return ZoneFound(named)
    return _by_city(typed)


def _by_city(typed: str) -> ZoneFound | ZoneChoices | None:
    places = places_named(typed)
    if not places:
        # "London, Canada", "Paris France", "Portland, Oregon": a country after the city
        # narrows it down; anything else there is let go of.
        city, comma, rest = typed.rpartition(",")
        if not comma:
            city, _, rest = typed.rpartition(" ")
        if city:
            country = country_code(rest)
            places = (places_named(city, country) if country else []) or places_named(city)
    if not places:
        return None
    first, others = places[0], places[1:]
    if all(
        first.population is not None
        and other.population is not None
        and first.population >= CLEARLY_BIGGER * other.population
        for other in others
    ):
        return ZoneFound(first.zone, first, tuple(others))
    return ZoneChoices(tuple(places[:MAX_CHOICES]))


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
