"""What /timezone understands: zone names, fixed offsets and cities, folded as people type
them; and the city data it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.places import DATA, Place, country_code, fold, places_named
from bot.reminders import Schedule, next_due
from bot.timezones import (
    CLEARLY_BIGGER,
    ZoneChoices,
    ZoneFound,
    canonical_zone,
    find_zone,
    is_fixed,
    zone,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Berlin", "Europe/Berlin"),
        ("london", "Europe/London"),
        ("New York", "America/New_York"),
        ("new_york", "America/New_York"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("SAO-PAULO", "America/Sao_Paulo"),
        ("  sao   paulo ", "America/Sao_Paulo"),
        ("Munich", "Europe/Berlin"),  # a city that is not a zone's
        ("lodz", "Europe/Warsaw"),  # Łódź: a letter Unicode does not split from its stroke
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("London, Canada", "America/Toronto"),
        ("london ca", "America/Toronto"),
        ("Paris, France", "Europe/Paris"),
        ("London, UK", "Europe/London"),
        ("Birmingham, England", "Europe/London"),
        # Not a country after the comma: let go of, the city alone decides.
        ("Berlin, Somewhere", "Europe/Berlin"),
    ],
)
def test_names_people_type_find_their_zone(typed: str, expected: str) -> None:
    found = find_zone(typed)
    assert isinstance(found, ZoneFound)
    assert found.zone == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("UTC+2", "UTC+02:00"),
        ("utc+2", "UTC+02:00"),
        ("GMT-5", "UTC-05:00"),
        ("+05:30", "UTC+05:30"),
        ("UTC +5.30", "UTC+05:30"),
        ("UTC+0545", "UTC+05:45"),
        ("UTC\u22123", "UTC-03:00"),  # a typographic minus
        ("-3", "UTC-03:00"),
        ("UTC-12", "UTC-12:00"),
        ("UTC+14", "UTC+14:00"),
        ("GMT+0", "UTC"),
    ],
)
def test_fixed_offsets_are_stored_as_utc_plus_or_minus(typed: str, expected: str) -> None:
    assert find_zone(typed) == ZoneFound(expected)
    assert is_fixed(expected)
    assert canonical_zone(expected) == expected
    assert canonical_zone(expected.lower()) == expected


@pytest.mark.parametrize("typed", ["UTC+15", "UTC-13", "UTC+5:20", "UTC+2:60", "Mars/Base", ""])
def test_what_is_no_place_and_no_offset_in_use_finds_nothing(typed: str) -> None:
    assert find_zone(typed) is None


def test_a_fixed_offset_is_its_offset_all_year_with_the_sign_as_written() -> None:
    # Etc/GMT-2 would be UTC+2: the stored offset reads the way people write it.
    plus_two, minus_five = zone("UTC+02:00"), zone("UTC-05:00")
    for month in (1, 7):
        moment = datetime(2026, month, 1, 12, tzinfo=UTC)
        assert moment.astimezone(plus_two).utcoffset() == timedelta(hours=2)
        assert moment.astimezone(minus_five).utcoffset() == timedelta(hours=-5)
    # A reminder at 07:30 in UTC+05:30 is due at 02:00 UTC, summer and winter.
    for month in (1, 7):
        after = datetime(2026, month, 5, 0, 0, tzinfo=UTC)
        assert next_due(Schedule(7, 30), "UTC+05:30", after) == after.replace(hour=2)


def test_places_are_not_fixed_and_offsets_are() -> None:
    assert not is_fixed("Europe/Berlin")
    assert is_fixed("UTC") and is_fixed("Etc/GMT-2") and is_fixed("UTC+05:30")


def test_a_clearly_bigger_city_is_the_one_meant_and_the_others_are_kept() -> None:
    found = find_zone("London")
    assert isinstance(found, ZoneFound)
    assert found.place is not None and found.place.country == "GB"
    assert [(p.country, p.zone) for p in found.others] == [("CA", "America/Toronto")]
    assert found.place.population is not None
    assert all(
        p.population is not None and found.place.population >= CLEARLY_BIGGER * p.population
        for p in found.others
    )


def test_cities_of_one_name_in_zones_far_apart_are_offered_biggest_first() -> None:
    found = find_zone("Birmingham")
    assert isinstance(found, ZoneChoices)
    assert [(p.country, p.zone) for p in found.places] == [
        ("GB", "Europe/London"),
        ("US", "America/Chicago"),
        ("US", "America/Detroit"),
    ]
    # One place per zone: Springfield, Illinois and Springfield, Missouri are one choice.
    springfields = find_zone("springfield")
    assert isinstance(springfields, ZoneChoices)
    zones = [p.zone for p in springfields.places]
    assert len(zones) == len(set(zones))


def test_a_zones_own_city_missing_from_geonames_is_still_a_choice() -> None:
    # GeoNames calls it "New York City"; the zone's name says New York.
    assert places_named("new york") == [Place("New York", "US", "America/New_York", None)]
    assert country_code("Canada") == country_code("ca") == "CA"
    assert country_code("uk") == "GB"
    assert country_code("Narnia") is None


@given(st.text(max_size=40))
def test_anything_typed_finds_a_known_zone_or_nothing(typed: str) -> None:
    found = find_zone(typed)
    if isinstance(found, ZoneFound):
        assert canonical_zone(found.zone) == found.zone
    elif isinstance(found, ZoneChoices):
        assert len(found.places) >= 2 and all(canonical_zone(p.zone) for p in found.places)


def test_the_city_file_is_keyed_and_sorted_by_the_folding_the_bot_uses() -> None:
    """bot/data/make_places.py wrote the first column with fold(); if fold() changes, the
    file must be made again, or names would stop being found."""
    lines = [
        line.split("\t")
        for line in (DATA / "places.tsv").read_text("utf-8").splitlines()
        if not line.startswith("#")
    ]
    assert len(lines) > 30_000
    keys = [fields[0] for fields in lines]
    assert keys == sorted(keys)
    assert all(fields[0] == fold(fields[2]) for fields in lines)
    assert all(canonical_zone(fields[3]) == fields[3] for fields in lines)
