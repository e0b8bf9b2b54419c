"""The number to call in a medical emergency, for the country of the user's time zone.

The country comes from the user's own zone (set by /timezone or a shared location) through
tzdata's zone.tab; a deployment's default zone says nothing about where a person is, and a
fixed offset ("UTC+02:00") names no country. Where the country is not known, or not in the
table, the advice is "your local emergency number": a wrong number is worse than none.

The table holds, for each country, the number its own emergency services give for an
ambulance. Sources:
- European Union: 112, the single European emergency number, free in every member state
  (Directive (EU) 2018/1972, Art. 109; European Commission, "112 — Europe's emergency
  number", digital-strategy.ec.europa.eu/en/policies/112). Iceland: 112 (112.is).
- Norway: 113 for medical emergencies (helsenorge.no, "Emergency numbers").
- Switzerland: 144 for an ambulance (ch.ch, "Emergency numbers").
- United Kingdom: 999 (nhs.uk, "When to call 999"); the Isle of Man, Jersey and Guernsey
  use 999 too (their governments' emergency services pages).
- United States and its territories, Canada: 911 (911.gov; Canadian Radio-television and
  Telecommunications Commission, "9-1-1"). Mexico: 911 (gob.mx, "911 Emergencias").
- Australia: 000 (triplezero.gov.au). New Zealand: 111 (111.govt.nz).
- India: 112 (Emergency Response Support System, 112.gov.in).
- Japan: 119 for fire and ambulance (Fire and Disaster Management Agency, fdma.go.jp).
  South Korea: 119 (National Fire Agency). Taiwan: 119 (National Fire Agency).
- China: 120 for an ambulance. Hong Kong: 999 (gov.hk, "Emergency Services").
  Singapore: 995 for an ambulance (Singapore Civil Defence Force, scdf.gov.sg).
- Israel: 101 (Magen David Adom, mdais.org). Turkey: 112 (since 2021 its single number).
- Brazil: 192 for an ambulance (SAMU, gov.br). South Africa: 10177 for an ambulance
  (gov.za, "Emergency numbers"). Philippines: 911 (since 2016, Executive Order 56).
tests/rules/test_emergency.py checks every entry against libphonenumber's short-number
data (Google's, as the phonenumbers package ships it): each is an emergency number there.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.places import country_name, zone_countries

# The 27 member states.
EU = [
    *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
    *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
]

NUMBERS: dict[str, str] = {
    # Overseas regions that tzdata lists under their own codes (Guadeloupe, Réunion, …) are
    # left out: their ambulance numbers differ, and "your local emergency number" is true.
    **dict.fromkeys(EU, "112"),
    "IS": "112",
    "NO": "113",
    "CH": "144",
    **dict.fromkeys(("GB", "IM", "JE", "GG"), "999"),
    **dict.fromkeys(("US", "PR", "GU", "VI", "AS", "MP", "CA", "MX"), "911"),
    "AU": "000",
    "NZ": "111",
    "IN": "112",
    "JP": "119",
    "KR": "119",
    "TW": "119",
    "CN": "120",
    "HK": "999",
    "SG": "995",
    "IL": "101",
    "TR": "112",
    "BR": "192",
    "ZA": "10177",
    "PH": "911",
}


# Countries whose English name takes "the" ("the emergency number in the Philippines");
# GeoNames writes "The Netherlands" itself.
_WITH_THE = {"US", "GB", "PH", "IM", "VI", "MP"}


@dataclass(frozen=True)
class EmergencyNumber:
    """Whom to call. `number` and `country` are None where the country is not known."""

    number: str | None = None
    country: str | None = None  # as said after "in": "Germany", "the United States"
    # The UK: the NHS's words (999, A&E) rather than "the emergency department".
    nhs: bool = False


# Whom to call: the NHS's words in the UK, the number of the user's country elsewhere, and
# no number at all where the country is not known (below); every surface says it in these words.
CALL_IN_THE_UK = "call 999 or go to A&E"
CALL_THE_NUMBER = (
    "call {number} (the emergency number in {country}) or go to the nearest emergency department"
)
CALL_LOCAL = "call your local emergency number or go to the nearest emergency department"


def whom_to_call(emergency: EmergencyNumber) -> str:
    """The words after "Please get urgent medical care now:"."""
    if emergency.nhs:
        return CALL_IN_THE_UK
    if emergency.number is not None:
        return CALL_THE_NUMBER.format(number=emergency.number, country=emergency.country)
    return CALL_LOCAL


UNKNOWN = EmergencyNumber()


def emergency_number(own_zone: str | None) -> EmergencyNumber:
    """For the zone the user set themselves (None if they have not)."""
    code = zone_countries().get(own_zone or "")
    number = NUMBERS.get(code or "")
    if code is None or number is None:
        return UNKNOWN
    name = country_name(code).removeprefix("The ")
    country = f"the {name}" if code in _WITH_THE or name != country_name(code) else name
    return EmergencyNumber(number, country, nhs=code == "GB")
