"""What the v3.0 and v2.3 ProductFootprint models share: formats, decimals, lists, the base model.

Each rule cites the clause it comes from; ``v3 §Basic Types`` is PACT Technical Specifications
v3.0 §"Data Model" › "OpenAPI Schema" › "Basic Types" and "Qualifiers", ``v2 #dt-decimal`` is the
v2.3 data type of that anchor.

Design note, formats: JSON Schema leaves ``format`` checks to the implementation, and the
``jsonschema`` package checks ``uuid`` only (``date-time`` and ``uri`` need optional packages).
The checks here are strict and dependency-free, and :mod:`openpcf.exchange.schema` gives the
same ones to ``jsonschema`` when it validates against an official OpenAPI file, so the two ways
of validating differ only where the rules below say so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from openpcf.exchange.vocabulary import DECIMAL, UnRegion

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# formats

#: RFC 3339 §5.6 ``date-time``: full date, ``T``, time with seconds, optional fraction, and a
#: time zone (``Z`` or an offset); ``T`` and ``Z`` may be lower case (§5.6, NOTE).
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
#: RFC 9562 §4 (formerly RFC 4122) string form: 8-4-4-4-12 hexadecimal digits.
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
#: RFC 3986 §3 absolute URI: a scheme, a colon, then no white space, quotes or angle brackets.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\"<>\\^`{|}]*")
#: The ``Urn`` schema's own check (v3 and v2 OpenAPI): the ``urn:`` prefix in any case.
_URN = re.compile(r"[uU][rR][nN]:")
#: ``specVersion``: ``major.minor.patch`` with an optional ``-YYYYMMDD`` (v3 and v2 OpenAPI).
_SPEC_VERSION = re.compile(r"(?P<major>[0-9]+)\.[0-9]+\.[0-9]+(?:-[0-9]{8})?")
#: ``ipccCharacterizationFactors`` (v3) and ``ipccCharacterizationFactorsSources`` (v2).
_IPCC_REPORT = re.compile(r"AR[0-9]+")
#: ISO 3166-1 alpha-2 (``geographyCountry``) and ISO 3166-2 (``geographyCountrySubdivision``).
_COUNTRY = re.compile(r"[A-Z]{2}")
_SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")


def is_date_time(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 ``date-time`` (a real date, a time zone).

    >>> [is_date_time(v) for v in ("2025-04-23T18:25:43.511Z", "2024-02-29t00:00:00+08:00")]
    [True, True]
    >>> [is_date_time(v) for v in ("2025-04-23", "2025-02-30T00:00:00Z", "2025-04-23T18:25Z")]
    [False, False, False]
    """
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    try:
        dt.date.fromisoformat(match["date"])
    except ValueError:
        return False
    # second 60 is a leap second (RFC 3339 §5.7)
    return (
        int(match["hour"]) <= 23
        and int(match["minute"]) <= 59
        and int(match["second"]) <= 60
        and int(match["off_hour"] or 0) <= 23
        and int(match["off_minute"] or 0) <= 59
    )


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in its 36-character string form (any version)."""
    return _UUID.fullmatch(value) is not None


def is_uri(value: str) -> bool:
    """Whether ``value`` is an absolute URI (it has a scheme: ``https:``, ``urn:``, ...)."""
    return _URI.fullmatch(value) is not None


def _format(check: Callable[[str], bool], name: str, hint: str) -> AfterValidator:
    def validate(value: str) -> str:
        if not check(value):
            raise PydanticCustomError("pact_format", f"{value!r} is not {name} ({hint})")
        return value

    return AfterValidator(validate)


def _pattern(pattern: re.Pattern[str], name: str, *, prefix: bool = False) -> AfterValidator:
    def check(value: str) -> bool:
        found = pattern.match(value) if prefix else pattern.fullmatch(value)
        return found is not None

    return _format(check, name, f"pattern {pattern.pattern}")


Uuid = Annotated[str, _format(is_uuid, "a UUID", "8-4-4-4-12 hexadecimal digits")]
DateTime = Annotated[
    str, _format(is_date_time, "an RFC 3339 date-time", "e.g. 2025-04-23T18:25:43Z")
]
Uri = Annotated[str, _format(is_uri, "an absolute URI", "e.g. https://example.com/schema.json")]
Urn = Annotated[str, _pattern(_URN, "a URN", prefix=True)]
IpccReport = Annotated[str, _pattern(_IPCC_REPORT, "an IPCC assessment report (AR5, AR6, ...)")]
Country = Annotated[str, _pattern(_COUNTRY, "an ISO 3166-1 alpha-2 country code")]
Subdivision = Annotated[str, _pattern(_SUBDIVISION, "an ISO 3166-2 subdivision code")]
NonEmptyString = Annotated[str, Field(min_length=1)]


def spec_version(major: str) -> AfterValidator:
    """``specVersion`` of a document validated as PACT ``major`` (``"3"`` or ``"2"``).

    Beyond the pattern, the major version must be the one validated against: a ``2.3.0``
    document is a v2.3 document, whatever endpoint it came from (OpenPCF's own rule; the
    OpenAPI files check the pattern only).
    """

    def check(value: str) -> str:
        match = _SPEC_VERSION.fullmatch(value)
        if match is None:
            raise PydanticCustomError(
                "pact_format", f"{value!r} is not a version major.minor.patch, e.g. '{major}.0.0'"
            )
        if match["major"] != major:
            raise PydanticCustomError(
                "pact_spec_version",
                f"{value!r} is not a PACT v{major} version: validate it as v{match['major']}",
            )
        return value

    return AfterValidator(check)


# --------------------------------------------------------------------------------------------
# decimals (v3 §Basic Types string<decimal>; v2 #dt-decimal "a dotted-decimal number")


def _decimal(rule: str, holds: Callable[[str, Decimal], bool]) -> AfterValidator:
    def check(text: str) -> str:
        if DECIMAL.fullmatch(text) is None:
            raise PydanticCustomError(
                "pact_decimal",
                f"{text!r} is not a PACT decimal: a string of digits with an optional sign and "
                'decimal point, such as "12.5" (no exponent, spaces or JSON numbers)',
            )
        if not holds(text, Decimal(text)):
            raise PydanticCustomError("pact_decimal_range", f"{text!r} is not a decimal {rule}")
        return text

    return AfterValidator(check)


#: v3 ``Decimal``: any sign.
AnyDecimal = Annotated[str, _decimal("", lambda _, x: True)]
#: v3 ``PositiveOrZeroDecimal`` (pattern ``^[+]?...``: no minus sign, not even on zero);
#: v2 "a decimal equal to or greater than zero".
NonNegativeDecimal = Annotated[
    str, _decimal(">= 0", lambda text, x: x >= 0 and not text.startswith("-"))
]
#: v3 ``PositiveNonZeroDecimal``; v2 ``StrictlyPositiveDecimal`` (#dt-strictlypositivedecimal).
PositiveDecimal = Annotated[str, _decimal("> 0", lambda _, x: x > 0)]
#: v3 ``NegativeOrZeroDecimal``; v2 "equal to or less than zero" (biogenicCarbonWithdrawal).
NonPositiveDecimal = Annotated[str, _decimal("<= 0", lambda _, x: x <= 0)]
#: v3 DQRs: "The value MUST be between 1 and 5 inclusive" (DataQualityIndicators).
Dqr1To5 = Annotated[str, _decimal("from 1 to 5", lambda _, x: 1 <= x <= 5)]
#: v3 percentages (primaryDataShare, exemptedEmissionsPercent): v2's Percent (#dt-percent,
#: 0 to 100) written as a decimal string since v3.0 (ADR 39).
PercentDecimal = Annotated[str, _decimal("from 0 to 100", lambda _, x: 0 <= x <= 100)]


def _integral(value: object) -> object:
    """A JSON number with no fraction (``1.0``) is an integer in JSON Schema."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: v2 ``version``: a JSON integer, format int32, minimum 0.
Int32 = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=2**31 - 1)]


# --------------------------------------------------------------------------------------------
# lists (v3 §Qualifiers NonEmpty and Unique)


def _unique(items: object) -> object:
    if isinstance(items, list):
        seen: set[str] = set()
        for item in items:
            key = json.dumps(item, sort_keys=True, default=repr)
            if key in seen:
                raise PydanticCustomError(
                    "pact_unique", f"items must be unique: {item!r} is given twice"
                )
            seen.add(key)
    return items


NonEmptyList = Annotated[list[T], Field(min_length=1)]
NonEmptyUniqueList = Annotated[list[T], BeforeValidator(_unique), Field(min_length=1)]


# --------------------------------------------------------------------------------------------
# the base model

_ACRONYMS = {"co2": "CO2", "dqr": "DQR"}


def camel(name: str) -> str:
    """The PACT property name of a Python field name.

    >>> camel("biogenic_co2_uptake"), camel("p_cf_excluding_biogenic"), camel("temporal_dqr")
    ('biogenicCO2Uptake', 'pCfExcludingBiogenic', 'temporalDQR')
    """
    first, *rest = name.split("_")
    return first + "".join(_ACRONYMS.get(part, part.capitalize()) for part in rest)


class PactModel(BaseModel):
    """An object of the PACT data model: strict JSON types, PACT's property names.

    * **strict**: a decimal is a JSON string, a number is not a string, ``true`` is no integer;
    * **other properties are allowed**: neither version forbids them (no
      ``additionalProperties: false`` in either OpenAPI document; v3 §Data Model lets later
      revisions add properties), so a footprint from a newer minor version still validates;
    * **``null`` is refused** for every property, required or not. v3 §Qualifiers: a required
      property MUST NOT be ``null``; v3 §Undefined Properties counts an optional ``null`` as
      undefined, but the OpenAPI types refuse it, and OpenPCF follows the schema, which
      governs machine exchange (v3 §Validation). Leave the property out instead.
    """

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, alias_generator=camel)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError(
                "pact_null", "must not be null (leave an undefined property out)"
            )
        return value


class Geography(PactModel):
    """The geography of a CarbonFootprint: at most one of the three (none means global).

    v3 and v2 §CarbonFootprint "Scope"; the OpenAPI documents say it with ``oneOf`` (exactly
    one required, or none of them present).
    """

    geography_region_or_subregion: UnRegion | None = None
    geography_country: Country | None = None
    geography_country_subdivision: Subdivision | None = None

    @model_validator(mode="after")
    def _at_most_one_geography(self) -> Geography:
        given = [
            camel(name)
            for name in (
                "geography_region_or_subregion",
                "geography_country",
                "geography_country_subdivision",
            )
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise PydanticCustomError(
                "pact_geography",
                f"give at most one of geographyRegionOrSubregion, geographyCountry and "
                f"geographyCountrySubdivision, not {' and '.join(given)}",
            )
        return self


class EmissionFactorSource(PactModel):
    """v3 ``EmissionFactorSource``; v2 ``EmissionFactorDS`` (#dt-emissionfactords)."""

    name: NonEmptyString
    version: NonEmptyString


class ProductOrSectorSpecificRule(PactModel):
    """v3 and v2 ``ProductOrSectorSpecificRule`` (v2 #dt-productorsectorspecificrule)."""

    operator: Literal["PEF", "EPD International", "Other"]
    rule_names: NonEmptyUniqueList[NonEmptyString]
    other_operator_name: NonEmptyString | None = None


class DataModelExtension(PactModel):
    """v3 and v2 ``DataModelExtension`` (v2 #dt-datamodelextension): ``data`` is free-form."""

    spec_version: str
    data_schema: Uri
    documentation: Uri | None = None
    data: dict[str, Any]
