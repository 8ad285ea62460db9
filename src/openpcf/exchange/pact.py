"""A calculation as a PACT ProductFootprint (Technical Specifications v3.0, or v2.3).

Every field is derived from the calculation's result and from the product model; nothing is
filled in by hand. Amounts are per declared unit (``declaredUnitAmount`` ×
``declaredUnitOfMeasurement``), as the result already is. The mapping is documented field by
field in ``docs/pact.md``.

Numbers are written as decimal strings (``"6.2054"``) through :func:`decimal_string`, which
never emits exponent notation: the v3 ``Decimal`` pattern ``^[+-]?\\d+(\\.\\d+)?$`` rejects
``"1e-07"`` although the spec's prose shows ``"1.2345e+6"``. Optional properties with no value
are left out instead of being set to ``null`` (PACT treats ``null`` as undefined, and
``productOrSectorSpecificRules`` must not be an empty list in the schema).

**Boundary.** PACT footprints are cradle-to-gate (:mod:`openpcf.model.part`), so the document
of a model with a wider boundary (cradle-to-grave) is its cradle-to-gate part by default
(``boundary="cradle-to-gate"``): every amount, the primary data share and the DQRs are sums
over the processes of the stages ``BOUNDARY_STAGES["cradle-to-gate"]``, and
``boundaryProcessesDescription`` says which stages were left out. ``boundary="model"`` writes
the model's own boundary, and is refused (:class:`PactBoundaryError`) for a boundary PACT
cannot carry. The full life-cycle result stays in the report and in ``calc --format json``.

**Illustrative factors.** A document whose numbers use factor rows flagged ``illustrative``
(placeholders without an open published source) says so at the start of ``comment``
(:func:`illustrative_statement`); whether such a document may be published or certified is
decided by :mod:`openpcf.services.publishing`.

PACT forbids some signs (``fossilGhgEmissions`` ≥ 0, ``biogenicCO2Uptake`` ≤ 0, ...). A result
that breaks them (e.g. a substitution credit larger than the fossil burden) raises
:class:`~openpcf.errors.InputError` rather than producing a document a recipient must reject.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING, Any, Literal

from openpcf.errors import InputError
from openpcf.exchange.errors import PactBoundaryError
from openpcf.exchange.supplier import SUPPLIER_SET
from openpcf.exchange.v2 import v2_view
from openpcf.exchange.vocabulary import GLOBAL, UN_REGIONS, V2_UNITS
from openpcf.factors import bundled_factor_set
from openpcf.model.part import PACT_BOUNDARY, LifeCyclePart, life_cycle_part, within
from openpcf.model.schema import BOUNDARY_STAGES

if TYPE_CHECKING:
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation
    from openpcf.model.schema import ProductModel

#: What ``--pact-boundary`` accepts: the cradle-to-gate part (the default), or the model's own
#: boundary (refused when PACT cannot carry it).
PactBoundary = Literal["cradle-to-gate", "model"]
PACT_BOUNDARIES: tuple[PactBoundary, ...] = ("cradle-to-gate", "model")
DEFAULT_PACT_BOUNDARY: PactBoundary = "cradle-to-gate"

SPEC_VERSIONS = {"3": "3.0.0", "2": "2.3.0"}

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_REPORT = re.compile(r"AR\d+")
#: Domain of the issuer of the EU Combined Nomenclature, for ``urn:pact:<domain>:<type>:<code>``
#: (PACT v3 §"Examples of Product Classifications": there is no registered URN namespace for CN).
CN_ISSUER = "ec.europa.eu"

#: Default number of decimal places: 1e-10 kg CO2e per declared unit is far below any
#: meaningful precision, and rounding there removes binary noise such as 0.30000000000000004.
PLACES = 10


def decimal_string(x: float | int | Decimal, places: int = PLACES) -> str:
    """Format ``x`` as a plain decimal string, as PACT's ``Decimal`` type requires.

    Rounds half-even to ``places`` decimal places, strips trailing zeros, never uses exponent
    notation and writes ``"0"`` for negative zero (and for anything that rounds to zero).

    >>> decimal_string(1e-7), decimal_string(1e20), decimal_string(-0.0), decimal_string(0.1 + 0.2)
    ('0.0000001', '100000000000000000000', '0', '0.3')

    Raises
    ------
    ValueError
        For NaN or infinity, which have no decimal representation.
    """
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"{x!r} cannot be written as a PACT decimal")
    if places < 0:
        raise ValueError(f"places must be >= 0, not {places}")
    try:
        # repr() is the shortest string that round-trips the float: no spurious digits.
        d = x if isinstance(x, Decimal) else Decimal(repr(float(x)) if isinstance(x, float) else x)
        if not d.is_finite():
            raise ValueError(f"{x!r} cannot be written as a PACT decimal")
        with localcontext() as context:  # enough digits for 1e20 at 10 places
            context.prec = max(28, d.adjusted() + places + 2)
            d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise ValueError(f"{x!r} cannot be written as a PACT decimal") from None
    if d.is_zero():
        return "0"
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def product_footprint(
    calculation: Calculation,
    *,
    version: Literal["3", "2"] = "3",
    footprint_id: uuid.UUID | None = None,
    created: dt.datetime | None = None,
    boundary: str = DEFAULT_PACT_BOUNDARY,
) -> dict[str, Any]:
    """The PACT ProductFootprint (v3.0 by default, v2.3 with ``version="2"``) of a calculation.

    v2.3 is a view of the v3.0 document (:func:`openpcf.exchange.v2.v2_view`), the same view
    the host serves on its ``/2`` routes: one mapping, one set of numbers.

    Parameters
    ----------
    calculation
        What :func:`openpcf.services.calculate.calculate` returned.
    version
        ``"3"`` for Technical Specifications 3.0.0, ``"2"`` for 2.3.0.
    footprint_id
        The footprint's ``id``; the calculation's own
        (:attr:`~openpcf.model.calculation.Calculation.footprint_id`) by default, so that every
        deliverable of one calculation names the same footprint.
    created
        Creation time (naive values are taken as UTC); now by default.
    boundary
        ``"cradle-to-gate"``: the cradle-to-gate part of the model (all of it when its boundary
        lies within); ``"model"``: the model's own boundary (see :func:`pact_part`).

    Raises
    ------
    PactBoundaryError
        ``boundary="model"`` for a model whose boundary PACT cannot carry.
    InputError
        When the model or result cannot be expressed in that PACT version: a geography that is
        neither a country, an ISO 3166-2 subdivision nor a UN region, ids that are not URNs,
        a negative fossil/LUC/biogenic amount or a positive uptake; for v2 also a missing
        ``product.cpc``, the ``piece`` unit or a GWP set other than AR5/AR6.
    """
    if version not in SPEC_VERSIONS:
        raise ValueError(f"PACT version must be '3' or '2', not {version!r}")
    ctx = _Context(calculation, pact_part(calculation, boundary))
    if version == "2":
        _check_v2(ctx)  # the same limits v2_view has, but naming the model file's lines
    doc = _v3(ctx, footprint_id or calculation.footprint_id, _utc(created))
    return doc if version == "3" else v2_view(doc, cpc=ctx.model.product.cpc)


def pact_part(calculation: Calculation, boundary: str = DEFAULT_PACT_BOUNDARY) -> LifeCyclePart:
    """The part of ``calculation`` a PACT document carries (see :func:`product_footprint`).

    Raises
    ------
    PactBoundaryError
        ``boundary="model"`` when the model's boundary reaches beyond cradle-to-gate, or a
        ``boundary`` that is not one of :data:`PACT_BOUNDARIES`.
    """
    model = calculation.compiled.model
    if boundary not in PACT_BOUNDARIES:
        raise PactBoundaryError(f"PACT boundary {boundary!r}: use {' or '.join(PACT_BOUNDARIES)}")
    if boundary == "model" and not within(model.boundary):
        stages = ", ".join(
            s.replace("_", " ")
            for s in BOUNDARY_STAGES[model.boundary]
            if s not in BOUNDARY_STAGES[PACT_BOUNDARY]
        )
        raise PactBoundaryError(
            f"{calculation.compiled.loaded.where('boundary')}: a PACT footprint cannot carry the "
            f"model's {model.boundary} boundary: PACT footprints are cradle-to-gate, and a buyer "
            f"adds them to its purchased goods (Scope 3 category 1), so the {stages} stages "
            "would be counted twice. Use --pact-boundary cradle-to-gate (the default) for the "
            "cradle-to-gate part, or change the model's boundary; the full life cycle is in "
            "`openpcf report` and `openpcf calc --format json`"
        )
    return life_cycle_part(calculation, model.boundary if boundary == "model" else PACT_BOUNDARY)


def illustrative_factors(part: LifeCyclePart) -> list[Factor]:
    """The factor rows flagged illustrative among those ``part``'s numbers use."""
    return [f for f in part.factors if f.illustrative]


def illustrative_statement(rows: list[Factor]) -> str:
    """What a document says when its numbers use illustrative factor rows ("" for none)."""
    if not rows:
        return ""
    ids = ", ".join(f.id for f in rows)
    return (
        f"ILLUSTRATIVE: this PCF uses {len(rows)} illustrative emission factor(s) (placeholders "
        f"without an open published source: {ids}); replace them with supplier or database "
        "data before relying on the numbers."
    )


# --------------------------------------------------------------------------------------------
# shared derivations


class _Context:
    """The calculation plus the values both PACT versions derive from it."""

    def __init__(self, calculation: Calculation, part: LifeCyclePart) -> None:
        self.calc = calculation
        self.part = part
        self.result = calculation.result
        self.conformance = calculation.conformance
        self.compiled = calculation.compiled
        self.model: ProductModel = calculation.compiled.model
        self.loaded = calculation.compiled.loaded
        self.file = str(self.loaded.path)

    def where(self, *loc: str | int) -> str:
        """``file:line`` of a model value (just the file for a default the YAML omits)."""
        return self.loaded.where(*loc)

    # identity ---------------------------------------------------------------------------

    def urns(self, values: list[str], *loc: str) -> list[str]:
        bad = [v for v in values if not re.match(r"^[uU][rR][nN]:\S+$", v)]
        if bad:
            raise InputError(
                f"{self.where(*loc)}: {'.'.join(loc)} must be URNs (urn:<namespace>:<id>), "
                f"not {', '.join(map(repr, bad))}; e.g. 'urn:pact:example.com:company-id:42'"
            )
        return list(dict.fromkeys(values))

    def classifications(self) -> list[str]:
        p = self.model.product
        out = []
        if p.cpc:
            out.append(f"urn:cpc:{self.code(p.cpc, 'cpc')}")
        if p.cn_code:
            out.append(f"urn:pact:{CN_ISSUER}:cn-code:{self.code(p.cn_code, 'cn_code')}")
        return out

    def code(self, value: str, field: str) -> str:
        code = re.sub(r"[\s.]", "", value)
        if not code.isdigit():
            raise InputError(
                f"{self.where('product', field)}: product.{field} {value!r} must be digits "
                "(spaces and dots are allowed as separators), e.g. '72085100'"
            )
        return code

    def description(self) -> str:
        p = self.model.product
        text = p.description or p.name
        return f"{text} ({p.name_zh})" if p.name_zh else text

    def comment(self) -> str:
        prov = self.result.provenance
        statement = illustrative_statement(illustrative_factors(self.part))
        parts = [statement] if statement else []
        if self.model.comment:
            parts.append(self.model.comment)
        parts.append(
            f"Calculated with OpenPCF {prov.get('openpcf_version', '')} under ISO 14067 with "
            f"{self.result.gwp} GWP100 values; model {self.file} "
            f"(sha256 {prov.get('model_sha256', '')[:12]}), factor rows sha256 "
            f"{prov.get('factor_rows_sha256', '')[:12]}."
        )
        parts.extend(self.result.notes)
        return "\n".join(parts)

    # scope ------------------------------------------------------------------------------

    def period(self) -> tuple[str, str]:
        """Reference period as UTC date-times; PACT's end is exclusive, the model's inclusive."""
        period = self.model.product.reference_period
        start = dt.datetime.combine(period.start, dt.time(), tzinfo=dt.UTC)
        try:
            end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        except OverflowError:  # the day after 9999-12-31 has no RFC 3339 date-time
            raise InputError(
                f"{self.where('product', 'reference_period')}: the reference period ends "
                f"{period.end}; PACT writes the day after the end, which does not exist: end "
                "the period by 9999-12-30"
            ) from None
        return _iso(start), _iso(end)

    def geography(self) -> dict[str, str]:
        raw = self.model.product.geography.strip()
        if raw in GLOBAL or raw.upper() in GLOBAL:
            return {}
        if raw in UN_REGIONS:
            return {"geographyRegionOrSubregion": raw}
        code = raw.upper()
        if _COUNTRY.match(code):
            return {"geographyCountry": code}
        if _SUBDIVISION.match(code):
            return {"geographyCountrySubdivision": code}
        raise InputError(
            f"{self.where('product', 'geography')}: product.geography {raw!r} cannot be written "
            "in PACT: use an ISO 3166-1 country ('CN'), an ISO 3166-2 subdivision ('CN-HE'), "
            "a UN region or subregion ('Eastern Asia') or 'GLO'"
        )

    def boundary_description(self) -> str:
        """The stages and processes the document covers; for a part of a wider model, also
        what it leaves out."""
        inside = "; ".join(
            f"{stage.replace('_', ' ')}: {', '.join(names)}"
            for stage, names in self.part.processes.items()
        )
        boundary = self.model.boundary
        if set(self.part.stages) == set(BOUNDARY_STAGES[boundary]):
            return f"{boundary} ({inside})"
        left_out = [
            f"{stage.replace('_', ' ')} ({', '.join(names)})"
            for stage in BOUNDARY_STAGES[boundary]
            if stage not in self.part.stages
            for names in [[p.name for p in self.model.processes if p.stage == stage]]
            if names
        ]
        out = f"{PACT_BOUNDARY} part of a {boundary} model ({inside})"
        if left_out:
            out += (
                f". Not included: {'; '.join(left_out)}; the {boundary} total is in the "
                "model's report"
            )
        return out

    def sector_rules(self) -> dict[str, Any]:
        """``productOrSectorSpecificRules`` of a calculation made under a rule set."""
        c = self.conformance
        if c is None:
            return {}
        return {
            "productOrSectorSpecificRules": [
                {
                    "operator": "Other",
                    "ruleNames": [f"{c.title} ({c.ref}; {'; '.join(c.documents)})"],
                    "otherOperatorName": "OpenPCF rule set",
                }
            ]
        }

    def exempted(self) -> tuple[Decimal, str]:
        """Exempted share and why.

        The model lists exclusions in words only; each must fall under the model's cut-off
        criterion (``cutoff_percent``), which is therefore reported as the exempted share (an
        upper bound). Without declared exclusions nothing is exempted: "0".
        """
        if not self.model.exclusions:
            return Decimal(0), ""
        text = "; ".join(self.model.exclusions)
        cutoff = decimal_string(self.model.cutoff_percent, 4)
        return Decimal(cutoff), f"{text} (each below the model's {cutoff} % cut-off criterion)"

    def reports(self) -> list[str]:
        """IPCC reports of every characterisation used: ours and suppliers' CO2e factors."""
        found = _REPORT.findall(self.result.gwp)
        for f in self.part.factors:
            if f.gwp_basis:
                found.extend(_REPORT.findall(f.gwp_basis))
        if not found:
            raise InputError(
                f"{self.file}: GWP set {self.result.gwp!r} names no IPCC assessment report; "
                "PACT needs one (calculate with --gwp AR6)"
            )
        return sorted(set(found), key=lambda r: int(r[2:]))

    def secondary_sources(self) -> list[dict[str, str]]:
        """Factor sets the calculation drew secondary data from (supplier PCFs are primary).

        A bundled set's version is the OpenPCF release that ships it; any other set is
        identified by the hash of the factor rows used.
        """
        prov = self.result.provenance
        bundled = set(bundled_factor_set().set_names)
        names = sorted(
            {f.set_name or self.compiled.factor_set.name for f in self.part.factors}
            - {SUPPLIER_SET}
        )
        return [
            {
                "name": f"OpenPCF factor set {name}",
                "version": (
                    f"OpenPCF {prov.get('openpcf_version', '')}"
                    if name in bundled
                    else f"rows sha256 {prov.get('factor_rows_sha256', '')[:12]}"
                ),
            }
            for name in names
        ]

    # amounts ----------------------------------------------------------------------------

    def amount(self, name: str, value: float, sign: Literal["+", "-", ""] = "+") -> str:
        text = decimal_string(value)
        if (sign == "+" and text.startswith("-")) or (sign == "-" and not _nonpositive(text)):
            need = ">= 0" if sign == "+" else "<= 0"
            raise InputError(
                f"{self.file}: PACT requires {name} {need} kg CO2e per declared unit, but the "
                f"result is {text}. Check substitution credits and CO2-uptake/emission signs "
                "in the model"
            )
        return text


def _nonpositive(text: str) -> bool:
    return text == "0" or text.startswith("-")


def _utc(created: dt.datetime | None) -> str:
    if created is None:
        return _iso(dt.datetime.now(dt.UTC))
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return _iso(created.astimezone(dt.UTC))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# v3.0


def _v3(ctx: _Context, pf_id: uuid.UUID, created: str) -> dict[str, Any]:
    r, p = ctx.part, ctx.model.product
    start, end = ctx.period()
    exempted, exempted_why = ctx.exempted()
    q = r.quality
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": p.declared_unit,
        "declaredUnitAmount": decimal_string(p.declared_amount),
        "productMassPerDeclaredUnit": decimal_string(p.mass_per_declared_unit),
        "referencePeriodStart": start,
        "referencePeriodEnd": end,
        **ctx.geography(),
        "boundaryProcessesDescription": ctx.boundary_description(),
        "pcfExcludingBiogenicUptake": ctx.amount(
            "pcfExcludingBiogenicUptake", r.pcf_excluding_biogenic_uptake, ""
        ),
        "pcfIncludingBiogenicUptake": ctx.amount(
            "pcfIncludingBiogenicUptake", r.pcf_including_biogenic_uptake, ""
        ),
        "fossilGhgEmissions": ctx.amount("fossilGhgEmissions", r.fossil),
        # The model has no carbon-content data yet (no fossil C per declared unit): "0".
        # Replace once product.fossil_carbon_content exists in the model schema.
        "fossilCarbonContent": "0",
        "landUseChangeGhgEmissions": ctx.amount("landUseChangeGhgEmissions", r.luc),
        "biogenicCO2Uptake": ctx.amount("biogenicCO2Uptake", r.uptake, "-"),
        "biogenicNonCO2Emissions": ctx.amount("biogenicNonCO2Emissions", r.biogenic_non_co2),
        "aircraftGhgEmissions": ctx.amount("aircraftGhgEmissions", r.aircraft),
        # The model has no packaging flag; packaging processes, if any, are in the total but
        # not reported apart, so packagingGhgEmissions stays undefined as PACT requires.
        "packagingEmissionsIncluded": False,
        "ipccCharacterizationFactors": ctx.reports(),
        "crossSectoralStandards": ["ISO14067"],
        # productOrSectorSpecificRules: the rule set the calculation was made under (an
        # OpenPCF rule set: operator Other); without one the property is left undefined (the
        # schema forbids [], minItems 1).
        **ctx.sector_rules(),
        "exemptedEmissionsPercent": decimal_string(exempted),
        "exemptedEmissionsDescription": exempted_why,
        "primaryDataShare": decimal_string(_clamp(r.primary_data_share, 0, 100), 2),
        "dqi": {
            "technologicalDQR": decimal_string(_clamp(q.technological, 1, 5), 2),
            "geographicalDQR": decimal_string(_clamp(q.geographical, 1, 5), 2),
            "temporalDQR": decimal_string(_clamp(q.temporal, 1, 5), 2),
        },
    }
    sources = ctx.secondary_sources()
    if sources:
        pcf["secondaryEmissionFactorSources"] = sources
    doc: dict[str, Any] = {
        "id": str(pf_id),
        "specVersion": SPEC_VERSIONS["3"],
        "created": created,
        "status": "Active",
        "companyName": p.company_name,
        "companyIds": ctx.urns(p.company_ids, "product", "company_ids"),
        "productDescription": ctx.description(),
        "productIds": ctx.urns(p.ids, "product", "ids"),
    }
    classifications = ctx.classifications()
    if classifications:
        doc["productClassifications"] = classifications
    doc["productNameCompany"] = p.name
    doc["comment"] = ctx.comment()
    doc["pcf"] = pcf
    return doc


# --------------------------------------------------------------------------------------------
# v2.3: preconditions only; the document is v2_view() of the v3 one


def _check_v2(ctx: _Context) -> None:
    r, p = ctx.result, ctx.model.product
    if p.declared_unit not in V2_UNITS:
        raise InputError(
            f"{ctx.where('product', 'declared_unit')}: PACT v2.3 has no declared unit "
            f"{p.declared_unit!r}; export PACT v3 or declare a unit of {', '.join(V2_UNITS)}"
        )
    if not p.cpc:
        raise InputError(
            f"{ctx.where('product')}: PACT v2.3 requires productCategoryCpc; add product.cpc "
            "(the UN CPC 2.1 code of the product, e.g. '41231') to the model, or export PACT v3"
        )
    ctx.code(p.cpc, "cpc")
    ctx.reports()
    if r.gwp not in ("AR5", "AR6"):
        raise InputError(
            f"{ctx.file}: PACT v2.3 characterizationFactors allows only AR5 or AR6, not "
            f"{r.gwp!r}; calculate with --gwp AR6 (or AR5)"
        )


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)
