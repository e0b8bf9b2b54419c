"""The emergency number for where the user is: the table, checked against libphonenumber's
short-number data, and the zone → country → number rule."""

from __future__ import annotations

import pytest
from phonenumbers import shortnumberinfo

from bot.emergency import EU, NUMBERS, UNKNOWN, EmergencyNumber, emergency_number
from bot.places import zone_countries
from handlers.render import safety as render


@pytest.mark.parametrize(("country", "number"), sorted(NUMBERS.items()))
def test_every_number_in_the_table_is_an_emergency_number_there(country: str, number: str) -> None:
    # Google's libphonenumber, as the phonenumbers package ships it: a second, independent
    # source for each entry.
    assert shortnumberinfo.is_emergency_number(number, country)


def test_every_country_in_the_table_has_a_zone_and_the_eu_is_all_there() -> None:
    assert set(NUMBERS) <= set(zone_countries().values())
    assert len(set(EU)) == 27 and all(NUMBERS[c] == "112" for c in EU)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", EmergencyNumber("999", "the United Kingdom", nhs=True)),
        ("America/New_York", EmergencyNumber("911", "the United States")),
        ("America/Los_Angeles", EmergencyNumber("911", "the United States")),
        ("America/Toronto", EmergencyNumber("911", "Canada")),
        ("Europe/Berlin", EmergencyNumber("112", "Germany")),
        ("Europe/Amsterdam", EmergencyNumber("112", "the Netherlands")),
        ("Europe/Madrid", EmergencyNumber("112", "Spain")),
        ("Australia/Sydney", EmergencyNumber("000", "Australia")),
        ("Pacific/Auckland", EmergencyNumber("111", "New Zealand")),
        ("Asia/Tokyo", EmergencyNumber("119", "Japan")),
        ("Asia/Kolkata", EmergencyNumber("112", "India")),
        # Not in the table, not a country, or not the user's own zone: no number.
        ("Africa/Lagos", UNKNOWN),
        ("America/Guadeloupe", UNKNOWN),
        ("UTC+02:00", UNKNOWN),
        ("UTC", UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_the_number_follows_the_country_of_the_users_zone(
    zone: str | None, expected: EmergencyNumber
) -> None:
    assert emergency_number(zone) == expected


def test_only_the_uk_hears_of_a_and_e_and_an_unknown_country_hears_no_number() -> None:
    uk = render.urgent(emergency_number("Europe/London")).text
    assert uk.startswith("Please get urgent medical care now: call 999 or go to A&E.")
    us = render.urgent(emergency_number("America/Chicago")).text
    assert us.startswith(
        "Please get urgent medical care now: call 911 (the emergency number in the United "
        "States) or go to the nearest emergency department."
    )
    unknown = render.urgent(UNKNOWN).text
    assert unknown.startswith(
        "Please get urgent medical care now: call your local emergency number or go to the "
        "nearest emergency department."
    )
    for text in (us, unknown, render.urgent(emergency_number("Pacific/Auckland")).text):
        assert "A&E" not in text and "999" not in text and "NHS" not in text
    # Whatever the country, the advice itself is the same.
    for text in (uk, us, unknown):
        assert text.endswith(
            "These signs need a doctor now, so there is no class today. Take care."
        )
