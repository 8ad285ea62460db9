"""PACT v3 → Catena-X PCF 8.0.0: required members, JSON numbers, enums, what is refused.

The required lists and enums below are those of ``io.catenax.pcf/8.0.0/gen/Pcf-schema.json``
(eclipse-tractusx/sldt-semantic-models), written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.api_support import example
from openpcf.exchange.catenax import PCF_TYPES, REGIONS, UNITS, CatenaXMappingError, catenax_pcf

REQUIRED = (
    "id",
    "specVersion",
    "partialFullPcf",
    "version",
    "created",
    "status",
    "validityPeriodEnd",
    "companyName",
    "companyIds",
    "productIds",
    "productNameCompany",
    "pcf",
    "retroOrProspectivePcfType",
    "ccsTechnologicalCO2CaptureIncluded",
)
PCF_REQUIRED = (
    "declaredUnitOfMeasurement",
    "declaredUnitAmount",
    "productMassPerDeclaredUnit",
    "exemptedEmissionsPercent",
    "geographyRegionOrSubregion",
    "referencePeriodStart",
    "referencePeriodEnd",
    "crossSectoralStandards",
    "productOrSectorSpecificRules",
    "ipccCharacterizationFactors",
    "allocationWasteIncineration",
    "secondaryEmissionFactorSources",
    "packagingEmissionsIncluded",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "massBalancingUsed",
    "packagingPcfIncludingBiogenicUptake",
    "distributionStageIncluded",
)


def check(doc: dict) -> None:  # type: ignore[type-arg]
    assert [k for k in REQUIRED if k not in doc] == []
    pcf = doc["pcf"]
    assert [k for k in PCF_REQUIRED if k not in pcf] == []
    assert doc["specVersion"] == ["urn:io.catenax.pcf:datamodel:version:8.0.0"]
    assert doc["version"] == 0
    assert doc["partialFullPcf"] in ("Cradle-to-gate", "Cradle-to-grave")
    assert doc["retroOrProspectivePcfType"] in PCF_TYPES
    assert pcf["declaredUnitOfMeasurement"] in UNITS
    assert pcf["geographyRegionOrSubregion"] in REGIONS
    assert pcf["ipccCharacterizationFactors"] in ("AR4", "AR5", "AR6", "unspecified")
    for key in (
        "declaredUnitAmount",
        "pcfExcludingBiogenicUptake",
        "pcfIncludingBiogenicUptake",
        "packagingPcfIncludingBiogenicUptake",
        "exemptedEmissionsPercent",
    ):
        assert isinstance(pcf[key], int | float), key
    assert all(isinstance(s, str) for s in pcf["secondaryEmissionFactorSources"])
    assert all(isinstance(s, str) for s in pcf["productOrSectorSpecificRules"])
    for entry in doc.get("precedingPfIds", []):
        assert set(entry) == {"id"}


def test_example_1_with_a_subdivision_needs_a_region() -> None:
    with pytest.raises(CatenaXMappingError, match="region"):
        catenax_pcf(example(1))
    doc = catenax_pcf(example(1), region="Northern America")
    check(doc)
    pcf = doc["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == 0.384
    assert pcf["biogenicCO2Uptake"] == -1.61
    assert pcf["crossSectoralStandards"] == [
        "GHG Protocol Product standard",
        "PACT Methodology 3.0",
    ]
    assert pcf["productOrSectorSpecificRules"] == [
        "The Product Carbon Footprint Guideline for the Chemical Industry, v.3"
    ]
    assert pcf["secondaryEmissionFactorSources"] == ["Ecoinvent 3.1"]
    assert pcf["dataQualityRating"] == {
        "technologicalDQR": 1.5,
        "geographicalDQR": 3.2,
        "temporalDQR": 2.4,
    }
    assert pcf["carbonContentTotal"] == 0.44
    assert pcf["geographyCountrySubdivision"] == "US-TX"


@pytest.mark.parametrize("n", [2, 3, 4])
def test_examples_map(n: int) -> None:
    doc = catenax_pcf(example(n), region="Several")
    check(doc)
    assert doc["id"] == example(n)["id"]


def test_example_3_outbound_logistics_is_the_distribution_stage() -> None:
    pcf = catenax_pcf(example(3), region="Western Europe")["pcf"]
    assert pcf["distributionStageIncluded"] is True
    assert pcf["distributionStageFossilGhgEmissions"] == float(
        example(3)["pcf"]["outboundLogisticsGhgEmissions"]
    )


def test_defaults_and_refusals() -> None:
    doc = example(4)
    doc.pop("validityPeriodEnd", None)
    doc["precedingPfIds"] = ["f4b1225a-bd44-4c8e-861d-079e4e1dfd69"]
    out = catenax_pcf(doc, partial_full="Cradle-to-grave", legal_statement="For information")
    check(out)
    assert out["precedingPfIds"] == [{"id": "f4b1225a-bd44-4c8e-861d-079e4e1dfd69"}]
    assert out["pcfLegalStatement"] == "For information"
    bad = example(4)
    bad["pcf"]["declaredUnitOfMeasurement"] = "megabit second"
    with pytest.raises(CatenaXMappingError, match="megabit second"):
        catenax_pcf(bad)
    with pytest.raises(CatenaXMappingError, match="v3"):
        catenax_pcf({**example(4), "specVersion": "2.3.0"})
    with pytest.raises(CatenaXMappingError, match="pcf_type"):
        catenax_pcf(example(4), pcf_type="Guess")
    glob = example(4)
    glob["pcf"].pop("geographyRegionOrSubregion")
    assert catenax_pcf(glob)["pcf"]["geographyRegionOrSubregion"] == "Global"


def test_catenax_command(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from fixtures.api_support import EXAMPLES
    from openpcf.cli.pact import app

    out = tmp_path / "cx.json"
    result = CliRunner().invoke(
        app, ["catenax", str(EXAMPLES / "example-4.json"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    check(json.loads(out.read_text()))
    missing = CliRunner().invoke(app, ["catenax", "nothing-here"])
    assert missing.exit_code != 0
