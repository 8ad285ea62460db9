"""Countries of origin: ISO 3166-1 alpha-2 / alpha-3 codes and the names used in Annex I.

``cbam/data/countries.csv`` lists the 121 countries and territories that have their own table
in Annex I of Implementing Regulation (EU) 2025/2621 (ISO codes added by OpenPCF). Any other
well-formed code is accepted: the annex sends every unlisted country to the table "Other
countries and territories".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from openpcf.cbam.errors import CbamError

OTHER_COUNTRIES = "Other countries and territories"

#: Origins outside CBAM's scope: the EU-27 (internal market) and the countries of Annex III
#: point 1 of Regulation (EU) 2023/956 (Iceland, Liechtenstein, Norway, Switzerland), whose
#: carbon pricing is the EU ETS or linked to it.
_EU27 = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
OUTSIDE_SCOPE = frozenset([*_EU27.split(" "), "IS", "LI", "NO", "CH"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Country:
    iso2: str
    iso3: str | None
    name: str
    listed: bool


@cache
def _table() -> dict[str, Country]:
    text = resources.files("openpcf.cbam").joinpath("data/countries.csv").read_text("utf-8")
    out: dict[str, Country] = {}
    for row in csv.DictReader(io.StringIO(text)):
        c = Country(iso2=row["iso2"], iso3=row["iso3"], name=row["name_in_annex"], listed=True)
        out[c.iso2] = out[c.iso3 or ""] = out[c.name.casefold()] = c
    return out


def country(code: str, *, where: str = "country") -> Country:
    """Resolve an ISO alpha-2 or alpha-3 code or an Annex I country name.

    Raises
    ------
    CbamError
        If ``code`` is neither a two- or three-letter code nor a name in Annex I.
    """
    text = code.strip()
    found = _table().get(text.upper()) or _table().get(text.casefold())
    if found is not None:
        return found
    if text.isalpha() and text.isascii() and len(text) == 2:
        return Country(iso2=text.upper(), iso3=None, name=text.upper(), listed=False)
    if text.isalpha() and text.isascii() and len(text) == 3:
        upper = text.upper()
        return Country(iso2=upper, iso3=upper, name=upper, listed=False)
    raise CbamError(f"{where} {code!r} is not an ISO 3166 country code; give two letters, e.g. CN.")


def check_in_scope(c: Country, *, where: str = "country") -> None:
    """Refuse origins whose goods CBAM does not cover (EU-27, IS, LI, NO, CH)."""
    if c.iso2 in OUTSIDE_SCOPE:
        raise CbamError(
            f"{where} {c.iso2}: goods originating there are outside CBAM (EU internal market "
            "or Annex III of Regulation (EU) 2023/956); they need no CBAM certificates."
        )
