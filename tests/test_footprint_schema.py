"""OpenPCF's own PACT ProductFootprint validator (v3.0, v2.3) against the official documents.

OpenPCF ships no WBCSD file (their licence: unmodified, non-commercial copies only), so the
official OpenAPI documents, examples and sample footprints are read from
``../shared/reference/pact`` here, never copied; the tests that need them skip when it is
absent. What they check:

* every official example and sample footprint is valid under our validator, and so are
  OpenPCF's own exports (``tests/fixtures/pact_widget.yaml`` in v3 and v2);
* a table of mutations of those exports is refused, naming the path of the problem;
* for every example and every mutation our verdict (valid or not) equals the verdict of the
  official OpenAPI file, except the listed cases where OpenPCF is stricter on purpose
  (``BEYOND_THE_FILE``; the module docstring of :mod:`openpcf.exchange.footprint_schema` says
  why), for which the official file must still accept what we refuse;
* our models have the official documents' property names, required properties and
  enumerations.
"""

from __future__ import annotations

import copy
import doctest
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

import openpcf.exchange
from openpcf.errors import InputError
from openpcf.exchange import footprint_schema, schema, vocabulary
from openpcf.exchange.footprint_schema import base, v2, v3
from openpcf.exchange.pact import product_footprint
from openpcf.exchange.schema import validate_footprint
from openpcf.model.calculation import Calculation
from openpcf.services.calculate import calculate

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "reference" / "pact"
OFFICIAL = {"3": SHARED / "v3" / "openapi.yaml", "2": SHARED / "v2" / "openapi.yaml"}
ABSENT = f"the official PACT documents are not at {SHARED} (../shared is absent)"
needs_shared = pytest.mark.skipif(not all(p.is_file() for p in OFFICIAL.values()), reason=ABSENT)


# --------------------------------------------------------------------------------------------
# the official examples and samples


def _footprints(path: Path) -> list[dict[str, Any]]:
    """The ProductFootprints in an example file: a footprint, a list, a Get/List response, or
    a RequestFulfilled event; none in an error response."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, list):
        return doc
    data = doc.get("data")
    if isinstance(data, dict) and "pfs" in data:
        return list(data["pfs"])
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    return [] if "code" in doc else [doc]


def _example_files() -> list[Any]:
    files = [("3", p) for p in sorted((SHARED / "v3" / "examples").glob("*.json"))]
    files += [("3", p) for p in sorted((SHARED / "samples").glob("*.json"))]
    files += [("2", p) for p in sorted((SHARED / "v2" / "examples").glob("*.json"))]
    if not files:
        return [pytest.param("3", None, marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(v, p, id=f"v{v}-{p.parent.name}-{p.stem}") for v, p in files]


@pytest.mark.parametrize(("version", "path"), _example_files())
def test_official_examples_are_valid_and_verdicts_agree(version: str, path: Path) -> None:
    docs = _footprints(path)
    if path.stem.startswith("error-response"):
        assert docs == []
        return
    assert docs, f"{path} holds no footprint"
    for i, doc in enumerate(docs):
        assert validate_footprint(doc, version=version) == [], f"{path.name}[{i}]"
        assert validate_footprint(doc, openapi_path=OFFICIAL[version]) == [], f"{path.name}[{i}]"


@needs_shared
def test_every_example_and_sample_file_is_covered() -> None:
    """187 v3 footprints (examples 1–4, list, get, event; 12 sample files) and 3 of v2."""
    counts = {"3": 0, "2": 0}
    for param in _example_files():
        version, path = param.values
        counts[version] += len(_footprints(path))
    assert counts == {"3": 187, "2": 3}


# --------------------------------------------------------------------------------------------
# OpenPCF's own exports


@pytest.fixture(scope="module")
def widget() -> Calculation:
    return calculate(FIXTURES / "pact_widget.yaml")


@pytest.fixture(scope="module")
def exports(widget: Calculation) -> dict[str, dict[str, Any]]:
    return {"3": product_footprint(widget), "2": product_footprint(widget, version="2")}


@pytest.mark.parametrize("version", ["3", "2"])
def test_openpcf_exports_are_valid(exports: dict[str, dict[str, Any]], version: str) -> None:
    assert validate_footprint(exports[version], version=version) == []


@needs_shared
@pytest.mark.parametrize("version", ["3", "2"])
def test_openpcf_exports_are_valid_under_the_official_files(
    exports: dict[str, dict[str, Any]], version: str
) -> None:
    assert validate_footprint(exports[version], openapi_path=OFFICIAL[version]) == []


# --------------------------------------------------------------------------------------------
# mutations

DELETE = object()
V2_DQI = {
    "coveragePercent": 100,
    "technologicalDQR": 2,
    "temporalDQR": 2,
    "geographicalDQR": 2,
    "completenessDQR": 2,
    "reliabilityDQR": 2,
}

#: name -> (API version, changes {path: value or DELETE}, path the problem must be reported at)
MUTATIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    # v3
    "v3 missing companyName": ("3", {"companyName": DELETE}, "companyName"),
    "v3 missing pcf/fossilGhgEmissions": (
        "3",
        {"pcf/fossilGhgEmissions": DELETE},
        "pcf/fossilGhgEmissions",
    ),
    "v3 missing pcf": ("3", {"pcf": DELETE}, "pcf"),
    "v3 exponent decimal": ("3", {"pcf/fossilGhgEmissions": "1e-7"}, "pcf/fossilGhgEmissions"),
    "v3 decimal as JSON number": (
        "3",
        {"pcf/fossilGhgEmissions": 6.2054},
        "pcf/fossilGhgEmissions",
    ),
    "v3 positive uptake": ("3", {"pcf/biogenicCO2Uptake": "1.5"}, "pcf/biogenicCO2Uptake"),
    "v3 negative fossil": ("3", {"pcf/fossilGhgEmissions": "-1"}, "pcf/fossilGhgEmissions"),
    "v3 negative LUC": (
        "3",
        {"pcf/landUseChangeGhgEmissions": "-0.5"},
        "pcf/landUseChangeGhgEmissions",
    ),
    "v3 negative biogenic non-CO2": (
        "3",
        {"pcf/biogenicNonCO2Emissions": "-2"},
        "pcf/biogenicNonCO2Emissions",
    ),
    "v3 negative aircraft": ("3", {"pcf/aircraftGhgEmissions": "-3"}, "pcf/aircraftGhgEmissions"),
    "v3 zero declared amount": ("3", {"pcf/declaredUnitAmount": "0"}, "pcf/declaredUnitAmount"),
    "v3 bad UUID": ("3", {"id": "widget-1"}, "id"),
    "v3 bad preceding UUID": ("3", {"precedingPfIds": ["1234"]}, "precedingPfIds/0"),
    "v3 date without time": ("3", {"created": "2025-05-01"}, "created"),
    "v3 date-time month 13": (
        "3",
        {"pcf/referencePeriodStart": "2024-13-01T00:00:00Z"},
        "pcf/referencePeriodStart",
    ),
    "v3 unknown declared unit": (
        "3",
        {"pcf/declaredUnitOfMeasurement": "bananas"},
        "pcf/declaredUnitOfMeasurement",
    ),
    "v3 DQR 6": ("3", {"pcf/dqi/technologicalDQR": "6"}, "pcf/dqi/technologicalDQR"),
    "v3 DQR missing": ("3", {"pcf/dqi/temporalDQR": DELETE}, "pcf/dqi/temporalDQR"),
    "v3 specVersion 3.0": ("3", {"specVersion": "3.0"}, "specVersion"),
    "v3 specVersion 2.3.0": ("3", {"specVersion": "2.3.0"}, "specVersion"),
    "v3 non-URN productId": ("3", {"productIds": ["widget-1"]}, "productIds/0"),
    "v3 empty companyIds": ("3", {"companyIds": []}, "companyIds"),
    "v3 duplicate productIds": (
        "3",
        {"productIds": ["urn:gtin:1", "urn:gtin:1"]},
        "productIds",
    ),
    "v3 unknown status": ("3", {"status": "Retired"}, "status"),
    "v3 empty companyName": ("3", {"companyName": ""}, "companyName"),
    "v3 null comment": ("3", {"comment": None}, "comment"),
    "v3 two geographies": ("3", {"pcf/geographyCountry": "CN"}, "pcf"),
    "v3 lower-case country": (
        "3",
        {"pcf/geographyCountrySubdivision": DELETE, "pcf/geographyCountry": "cn"},
        "pcf/geographyCountry",
    ),
    "v3 unknown region": (
        "3",
        {"pcf/geographyCountrySubdivision": DELETE, "pcf/geographyRegionOrSubregion": "Asia-Pac"},
        "pcf/geographyRegionOrSubregion",
    ),
    "v3 IPCC report AR 6": (
        "3",
        {"pcf/ipccCharacterizationFactors": ["AR 6"]},
        "pcf/ipccCharacterizationFactors/0",
    ),
    "v3 extension without dataSchema": (
        "3",
        {"extensions": [{"specVersion": "2.0.0", "data": {}}]},
        "extensions/0/dataSchema",
    ),
    "v3 empty rule names": (
        "3",
        {"pcf/productOrSectorSpecificRules": [{"operator": "PEF", "ruleNames": []}]},
        "pcf/productOrSectorSpecificRules/0/ruleNames",
    ),
    "v3 exponent declared amount": (
        "3",
        {"pcf/declaredUnitAmount": "1e-7"},
        "pcf/declaredUnitAmount",
    ),
    "v3 uptake 10": ("3", {"pcf/biogenicCO2Uptake": "10"}, "pcf/biogenicCO2Uptake"),
    "v3 primary data share 101": ("3", {"pcf/primaryDataShare": "101"}, "pcf/primaryDataShare"),
    # v2
    "v2 missing productCategoryCpc": (
        "2",
        {"productCategoryCpc": DELETE},
        "productCategoryCpc",
    ),
    "v2 missing comment": ("2", {"comment": DELETE}, "comment"),
    "v2 missing pcf/biogenicCarbonContent": (
        "2",
        {"pcf/biogenicCarbonContent": DELETE},
        "pcf/biogenicCarbonContent",
    ),
    "v2 exponent decimal": ("2", {"pcf/fossilGhgEmissions": "1e-7"}, "pcf/fossilGhgEmissions"),
    "v2 positive withdrawal": (
        "2",
        {"pcf/biogenicCarbonWithdrawal": "1.5"},
        "pcf/biogenicCarbonWithdrawal",
    ),
    "v2 negative fossil": ("2", {"pcf/fossilGhgEmissions": "-1"}, "pcf/fossilGhgEmissions"),
    "v2 bad UUID": ("2", {"id": "widget-1"}, "id"),
    "v2 bad date-time": ("2", {"created": "yesterday"}, "created"),
    "v2 piece is a v3 unit": ("2", {"pcf/declaredUnit": "piece"}, "pcf/declaredUnit"),
    "v2 DQR 6": ("2", {"pcf/dqi": V2_DQI | {"technologicalDQR": 6}}, "pcf/dqi/technologicalDQR"),
    "v2 specVersion 2.3": ("2", {"specVersion": "2.3"}, "specVersion"),
    "v2 negative version": ("2", {"version": -1}, "version"),
    "v2 version as string": ("2", {"version": "1"}, "version"),
    "v2 non-URN productId": ("2", {"productIds": ["widget-1"]}, "productIds/0"),
    "v2 percent as string": (
        "2",
        {"pcf/exemptedEmissionsPercent": "0"},
        "pcf/exemptedEmissionsPercent",
    ),
    "v2 unknown standard used": (
        "2",
        {"pcf/crossSectoralStandardsUsed": ["ISO 14067"]},
        "pcf/crossSectoralStandardsUsed/0",
    ),
    "v2 assurance without provider": (
        "2",
        {"pcf/assurance": {"assurance": True}},
        "pcf/assurance/providerName",
    ),
}

#: Mutations OpenPCF refuses and the official OpenAPI files accept, and why.
BEYOND_THE_FILE = {
    "v3 DQR 6": "v3 DQRs MUST be from 1 to 5 (DataQualityIndicators text; no bounds in schema)",
    "v3 exponent declared amount": "PositiveNonZeroDecimal's pattern ^a|b$ is anchored once",
    "v3 uptake 10": "NegativeOrZeroDecimal's pattern ^a|b$ matches anything ending in 0",
    "v3 primary data share 101": "a percentage; v3 writes v2's Percent (0-100) as a decimal",
    "v3 specVersion 2.3.0": "a 2.3.0 document is validated as v2.3, not v3",
    "v2 exponent decimal": "v2 decimals are dotted decimals; its OpenAPI has no pattern",
    "v2 positive withdrawal": "v2 prose: biogenicCarbonWithdrawal <= 0; no sign in its OpenAPI",
    "v2 negative fossil": "v2 prose: fossilGhgEmissions >= 0; no sign in its OpenAPI",
}

#: Changes the official files and OpenPCF both accept.
ACCEPTED: dict[str, tuple[str, dict[str, Any]]] = {
    "v3 extra top-level property": ("3", {"x-acme-plant": "Hebei 2"}),
    "v3 extra pcf property": ("3", {"pcf/x-acme-batch": {"id": 7}}),
    "v3 unknown cross-sectoral standard": ("3", {"pcf/crossSectoralStandards": ["ISO14067-2"]}),
    "v3 no geography (global)": ("3", {"pcf/geographyCountrySubdivision": DELETE}),
    "v3 plus sign and zero uptake": (
        "3",
        {"pcf/fossilGhgEmissions": "+6.2054", "pcf/biogenicCO2Uptake": "-0"},
    ),
    "v3 offset date-time": ("3", {"created": "2025-05-01T10:30:00.5+08:00"}),
    "v3 extension": (
        "3",
        {
            "extensions": [
                {
                    "specVersion": "2.0.0",
                    "dataSchema": "https://catalog.example.com/shipment/2.0.0/data-model.json",
                    "data": {"mass": "1"},
                }
            ]
        },
    ),
    "v2 extra top-level property": ("2", {"x-acme-plant": "Hebei 2"}),
    "v2 integral float version": ("2", {"version": 1.0}),
    "v2 dqi": ("2", {"pcf/dqi": V2_DQI}),
    "v2 assurance": ("2", {"pcf/assurance": {"assurance": False, "providerName": "Audit Co"}}),
}


def _mutated(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        *parents, name = path.split("/")
        target = out
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[name]
        else:
            target[name] = value
    return out


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_refused_naming_the_path(exports: dict[str, dict[str, Any]], name: str) -> None:
    version, changes, where = MUTATIONS[name]
    problems = validate_footprint(_mutated(exports[version], changes), version=version)
    assert problems, name
    assert any(p.startswith(f"{where}: ") for p in problems), problems


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_change(exports: dict[str, dict[str, Any]], name: str) -> None:
    version, changes = ACCEPTED[name]
    assert validate_footprint(_mutated(exports[version], changes), version=version) == []


@needs_shared
@pytest.mark.parametrize("name", [*MUTATIONS, *ACCEPTED])
def test_verdict_equals_the_official_files(exports: dict[str, dict[str, Any]], name: str) -> None:
    version, changes = MUTATIONS[name][:2] if name in MUTATIONS else ACCEPTED[name]
    doc = _mutated(exports[version], changes)
    ours = validate_footprint(doc, version=version) == []
    theirs = validate_footprint(doc, openapi_path=OFFICIAL[version]) == []
    if name in BEYOND_THE_FILE:
        assert (ours, theirs) == (False, True), BEYOND_THE_FILE[name]
    else:
        assert ours == theirs


def test_beyond_the_file_names_only_mutations() -> None:
    assert set(BEYOND_THE_FILE) <= set(MUTATIONS)


# --------------------------------------------------------------------------------------------
# messages and the API


def test_messages_say_what_is_wrong(exports: dict[str, dict[str, Any]]) -> None:
    doc = _mutated(
        exports["3"],
        {
            "companyName": DELETE,
            "pcf/fossilGhgEmissions": "-1",
            "pcf/declaredUnitAmount": 1,
            "productIds": ["urn:gtin:1", "urn:gtin:1"],
        },
    )
    assert validate_footprint(doc) == [
        "companyName: required property is missing",
        "pcf/declaredUnitAmount: must be a string, not the number 1",
        "pcf/fossilGhgEmissions: '-1' is not a decimal >= 0",
        "productIds: items must be unique: 'urn:gtin:1' is given twice",
    ]
    assert validate_footprint([], version="2") == ["(document): must be an object, not an array"]
    geo = _mutated(exports["3"], {"pcf/geographyCountry": "CN"})
    assert validate_footprint(geo) == [
        "pcf: give at most one of geographyRegionOrSubregion, geographyCountry and "
        "geographyCountrySubdivision, not geographyCountry and geographyCountrySubdivision"
    ]


def test_unknown_version_and_other_components_need_a_file() -> None:
    with pytest.raises(InputError, match="OpenPCF reads 3 and 2"):
        validate_footprint({}, version="1")
    with pytest.raises(InputError, match=r"give the official openapi\.yaml"):
        validate_footprint({}, component="RequestFulfilledEvent")
    assert schema.validated_against("2") == "OpenPCF's PACT v2.3 ProductFootprint validator"
    assert schema.validated_against("3", Path("x/openapi.yaml")) == "x/openapi.yaml"


def test_no_file_ships_with_the_exchange_package() -> None:
    """The validator is code: no OpenAPI document (or any other data file) in the package."""
    package = Path(openpcf.exchange.__file__).parent
    files = [p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert files == []
    assert "exchange/data" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_doctests() -> None:
    for module in (footprint_schema, base, schema):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.failed == 0, module.__name__


# --------------------------------------------------------------------------------------------
# the models against the official documents' structure

#: our model -> the official component it implements, per version
COMPONENTS: dict[str, list[tuple[type[BaseModel], str]]] = {
    "3": [
        (v3.ProductFootprint, "ProductFootprint"),
        (v3.CarbonFootprint, "CarbonFootprint"),
        (v3.DataQualityIndicators, "DataQualityIndicators"),
        (v3.Verification, "Verification"),
        (base.EmissionFactorSource, "EmissionFactorSource"),
        (base.ProductOrSectorSpecificRule, "ProductOrSectorSpecificRule"),
        (base.DataModelExtension, "DataModelExtension"),
    ],
    "2": [
        (v2.ProductFootprint, "ProductFootprint"),
        (v2.CarbonFootprint, "CarbonFootprint"),
        (v2.DataQualityIndicators, "DataQualityIndicators"),
        (v2.Assurance, "Assurance"),
        (base.EmissionFactorSource, "EmissionFactorDatabases"),
        (base.ProductOrSectorSpecificRule, "ProductOrSectorSpecificRule"),
        (base.DataModelExtension, "DataModelExtension"),
    ],
}


def _official_components(version: str) -> Iterator[tuple[type[BaseModel], dict[str, Any]]]:
    doc = yaml.safe_load(OFFICIAL[version].read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    for model, name in COMPONENTS[version]:
        yield model, schemas[name]


@needs_shared
@pytest.mark.parametrize("version", ["3", "2"])
def test_models_have_the_official_properties_and_required_sets(version: str) -> None:
    for model, component in _official_components(version):
        fields = {f.alias: f for f in model.model_fields.values()}
        assert set(fields) == set(component["properties"]), model.__qualname__
        required = {alias for alias, f in fields.items() if f.is_required()}
        assert required == set(component.get("required", [])), model.__qualname__


def _literal(model: type[BaseModel], field: str) -> set[str]:
    annotation = model.model_fields[field].annotation
    args = typing.get_args(annotation)
    literal = next((a for a in args if typing.get_origin(a) is typing.Literal), annotation)
    return set(typing.get_args(literal))


@needs_shared
def test_enumerations_are_the_official_ones() -> None:
    s3 = yaml.safe_load(OFFICIAL["3"].read_text(encoding="utf-8"))["components"]["schemas"]
    s2 = yaml.safe_load(OFFICIAL["2"].read_text(encoding="utf-8"))["components"]["schemas"]
    cf3, cf2 = s3["CarbonFootprint"]["properties"], s2["CarbonFootprint"]["properties"]
    assert set(typing.get_args(v3.DeclaredUnit)) == set(cf3["declaredUnitOfMeasurement"]["enum"])
    assert set(typing.get_args(v2.DeclaredUnit)) == set(cf2["declaredUnit"]["enum"])
    regions = set(typing.get_args(vocabulary.UnRegion))
    assert regions == set(cf3["geographyRegionOrSubregion"]["enum"])
    assert regions == set(cf2["geographyRegionOrSubregion"]["enum"])
    named = set(cf3["crossSectoralStandards"]["items"]["x-enum"]) - {"..."}
    assert set(v3.CROSS_SECTORAL_STANDARDS) == named
    assert set(typing.get_args(vocabulary.V2CrossSectoralStandard)) == set(
        cf2["crossSectoralStandards"]["items"]["enum"]
    )
    assert set(typing.get_args(v2.CrossSectoralStandardUsed)) == set(
        cf2["crossSectoralStandardsUsed"]["items"]["enum"]
    )
    assert _literal(v3.Verification, "coverage") == set(
        s3["Verification"]["properties"]["coverage"]["enum"]
    )
    assert _literal(v2.Assurance, "coverage") == set(
        s2["Assurance"]["properties"]["coverage"]["enum"]
    )


def test_vocabulary_agrees_with_the_validator() -> None:
    """The exporter's vocabulary (:mod:`openpcf.exchange.vocabulary`) and the validator name the
    same declared units and regions."""
    assert set(vocabulary.V3_UNITS) == set(typing.get_args(v3.DeclaredUnit))
    assert set(vocabulary.V2_UNITS) <= set(typing.get_args(v2.DeclaredUnit))
    assert set(vocabulary.UN_REGIONS) == set(typing.get_args(vocabulary.UnRegion))
