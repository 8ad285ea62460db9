"""Read factor sets from CSV or YAML files and refuse rows without provenance.

File formats (see ``docs/factors.md``):

- **CSV**: header ``id,name,name_zh,unit,category,geography,year,source,licence,gwp_basis,
  illustrative,notes`` (``name_zh``, ``gwp_basis``, ``illustrative``, ``notes`` may be left
  out), an optional ``ncv_mj_per_kg`` column, the optional provenance columns of a set derived
  from an LCI database (:data:`PROVENANCE`), the optional stats_arrays columns of a row whose
  source gives its uncertainty (:data:`UNCERTAINTY`, below), and one column per gas id it
  uses. A gas cell left empty means 0.
- **YAML**: a top-level ``factors:`` list of mappings with the same keys and an
  ``emissions:`` mapping gas id -> amount.

**Uncertainty** (optional, empty = none; never filled in without a source that gives it):
``uncertainty_type`` 2 lognormal, 3 normal, 4 uniform, 5 triangular (0, 1 or empty: none) and
``loc, scale, minimum, maximum`` as stats_arrays defines them, for the row's amount of the gas
``uncertainty_gas`` in kg per unit (may be left empty when the row gives one gas). ``loc`` left
empty is the row's amount (lognormal: ``ln amount``, the median; normal: the mean; triangular:
the mode). E.g. a lognormal with GSD² 1.2: ``uncertainty_type`` 2, ``scale`` 0.0912
(``ln 1.2 / 2``).

Every error names the file and the row (CSV: the line number; YAML: the list index and line)
and says what to do, because factor files are written by hand and the user must be able to
find the cell at fault.

Files in ``factors/data`` whose name starts with ``_`` are lookup tables (e.g. the province
-> grid map), not factor sets, and :func:`bundled_factor_set` skips them.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from openpcf.core import uncertainty, units
from openpcf.core.uncertainty import Distribution
from openpcf.errors import FactorSetError, InputError, ModelFileError, OpenPCFError
from openpcf.factors.schema import CATEGORIES, Factor
from openpcf.factors.store import FactorSet
from openpcf.files import yamlfile
from openpcf.files.bounded import read_bounded
from openpcf.methods.gases import GAS_IDS

REQUIRED = ("id", "name", "unit", "category", "geography", "year", "source", "licence")
OPTIONAL = ("name_zh", "gwp_basis", "illustrative", "notes", "ncv_mj_per_kg")
#: Provenance columns of sets derived from an LCI database (:mod:`openpcf.factors.derive`).
#: Accepted and not parsed: the same facts are written into ``source`` and ``notes``.
PROVENANCE = (
    "database",
    "database_version",
    "process_uuid",
    "lost_share",
    "linking_rules",
)
#: The stats_arrays columns of a row's distribution (module docstring).
UNCERTAINTY = ("uncertainty_type", "loc", "scale", "minimum", "maximum", "uncertainty_gas")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*(\.[a-z0-9][a-z0-9_\-]*)*$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


def _check_unit(unit: str) -> str | None:
    """Return None if pint can parse ``unit``, else the reason it cannot.

    Kept as one small function so the parse check follows the shared registry of
    :mod:`openpcf.core.units` (which defines ``tkm``, ``piece``, ``Nm3``, ``m3``, ``m2``).
    """
    try:
        units.parse(unit)
    except OpenPCFError as exc:
        return str(exc)
    return None


def _fail(where: str, problem: str, fix: str) -> FactorSetError:
    return FactorSetError(f"{where}: {problem}. {fix}")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _amount(value: Any, where: str, gas: str) -> float | None:
    """Parse one gas amount; None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _fail(where, f"amount of {gas} is {value!r}", "Give a number (kg per unit).")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(
            where, f"amount of {gas} is {value!r}, not a number", "Give a number (kg per unit)."
        ) from None
    if not math.isfinite(number):
        raise _fail(where, f"amount of {gas} is {value!r}", "Give a finite number.")
    if number < 0:
        raise _fail(
            where,
            f"amount of {gas} is negative ({number})",
            "Amounts are masses emitted and must be >= 0; book removals as a positive "
            "amount on CO2-uptake.",
        )
    return number


def _row_to_factor(
    row: Mapping[str, Any], emissions: Mapping[str, Any], where: str, set_name: str
) -> Factor:
    """Validate one row (already split into fields and gas amounts) and build a Factor."""
    for key in REQUIRED:
        if not _text(row.get(key)):
            raise _fail(
                where,
                f"required field {key!r} is missing or empty",
                f"Every factor needs {', '.join(REQUIRED)}; fill in {key!r}.",
            )
    factor_id = _text(row["id"])
    if not _ID_RE.match(factor_id):
        raise _fail(
            where, f"id {factor_id!r} is not lowercase dotted", "Use e.g. 'my.steel.coil.2024'."
        )
    unit = _text(row["unit"])
    reason = _check_unit(unit)
    if reason is not None:
        raise _fail(where, f"unit {unit!r} cannot be parsed ({reason})", "Use e.g. kg, kWh, tkm.")
    category = _text(row["category"]).lower()
    if category not in CATEGORIES:
        raise _fail(where, f"category {category!r} is unknown", f"Use one of {CATEGORIES}.")
    try:
        year = int(_text(row["year"]))
    except ValueError:
        raise _fail(
            where, f"year {row['year']!r} is not a whole number", "Give e.g. 2023."
        ) from None
    if not 1900 <= year <= 2100:
        raise _fail(where, f"year {year} is out of range", "Give the data's reference year.")
    flag = _text(row.get("illustrative")).lower()
    if flag not in _TRUE | _FALSE:
        raise _fail(where, f"illustrative is {flag!r}", "Write true or false.")
    unknown = [gas for gas in emissions if gas not in GAS_IDS]
    if unknown:
        raise _fail(
            where, f"unknown gas id(s) {unknown}", f"Use gas ids from: {', '.join(GAS_IDS)}."
        )
    amounts = {gas: a for gas, v in emissions.items() if (a := _amount(v, where, gas)) is not None}
    if not amounts:
        raise _fail(where, "no gas amount given", "Write 0 in a gas column if the factor is zero.")
    ncv = _text(row.get("ncv_mj_per_kg"))
    distribution, gas = _distribution(row, amounts, where)
    return Factor(
        id=factor_id,
        name=_text(row["name"]),
        name_zh=_text(row.get("name_zh")),
        unit=unit,
        emissions=amounts,
        category=category,
        geography=_text(row["geography"]),
        year=year,
        source=_text(row["source"]),
        licence=_text(row["licence"]),
        gwp_basis=_text(row.get("gwp_basis")),
        illustrative=flag in _TRUE,
        notes=_text(row.get("notes")),
        set_name=set_name,
        ncv_mj_per_kg=_amount(ncv, where, "ncv_mj_per_kg") if ncv else None,
        uncertainty=distribution,
        uncertainty_gas=gas,
    )


def _distribution(
    row: Mapping[str, Any], amounts: Mapping[str, float], where: str
) -> tuple[Distribution | None, str]:
    """The row's distribution and the gas it describes (module docstring); (None, "")."""
    kind = _text(row.get("uncertainty_type"))
    given = [k for k in UNCERTAINTY[1:] if _text(row.get(k))]
    if kind in ("", "0", "1"):
        if given:
            raise _fail(where, f"{given} given without uncertainty_type", _KINDS)
        return None, ""
    if kind not in ("2", "3", "4", "5"):
        raise _fail(where, f"uncertainty_type is {kind!r}", _KINDS)
    gas = _text(row.get("uncertainty_gas")) or (next(iter(amounts)) if len(amounts) == 1 else "")
    if gas not in amounts:
        raise _fail(
            where,
            f"uncertainty_gas {gas!r} is not one of the row's gases {sorted(amounts)}",
            "Name the gas whose amount the distribution describes.",
        )
    amount = amounts[gas]
    loc, scale, low, high = (_number(row, k, where) for k in ("loc", "scale", "minimum", "maximum"))
    centre = amount if math.isnan(loc) else loc
    try:
        if kind == "2":  # loc is ln of the median: kept as written, so a row reloads exactly
            d = uncertainty.lognormal(amount, scale)
            d = d if math.isnan(loc) else replace(d, loc=loc)
        elif kind == "3":
            d = uncertainty.normal(centre, scale)
        elif kind == "4":
            d = uncertainty.uniform(low, high)
        else:
            d = uncertainty.triangular(low, centre, high)
    except InputError as e:
        raise _fail(where, str(e), "Fix the distribution's columns (stats_arrays).") from None
    return (d, gas) if d.uncertainty_type > uncertainty.NO_UNCERTAINTY else (None, "")


_KINDS = "Write uncertainty_type 2 (lognormal), 3 (normal), 4 (uniform) or 5 (triangular)."


def _number(row: Mapping[str, Any], key: str, where: str) -> float:
    """A distribution column as a float; NaN when empty."""
    text = _text(row.get(key))
    try:
        return float(text) if text else math.nan
    except ValueError:
        raise _fail(where, f"{key} is {text!r}, not a number", "Give a number.") from None


def uncertainty_cells(factor: Factor) -> list[str]:
    """The :data:`UNCERTAINTY` cells of ``factor`` (empty without a distribution), written so
    that they reload exactly."""
    d = factor.uncertainty
    if d is None:
        return [""] * len(UNCERTAINTY)
    values = (d.loc, d.scale, d.minimum, d.maximum)
    numbers = ["" if math.isnan(v) else repr(float(v)) for v in values]
    return [str(d.uncertainty_type), *numbers, factor.uncertainty_gas]


def _csv_factors(text: str, label: str, set_name: str) -> Iterator[tuple[str, Factor]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise _fail(f"{label} line 1", f"header lacks {missing}", f"Add columns {missing}.")
    known = (*REQUIRED, *OPTIONAL, *PROVENANCE, *UNCERTAINTY, *GAS_IDS)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise _fail(
            f"{label} line 1",
            f"column(s) {unknown} are neither a known field nor a gas id",
            f"Rename them; gas columns must be one of: {', '.join(GAS_IDS)}.",
        )
    reader.fieldnames = header
    for row in reader:
        where = f"{label} line {reader.line_num}"
        if None in row:
            raise _fail(where, "row has more cells than the header", "Check commas and quotes.")
        gases = {k: v for k, v in row.items() if k in GAS_IDS}
        yield where, _row_to_factor(row, gases, where, set_name)


def _yaml_factors(text: str, label: str, set_name: str) -> Iterator[tuple[str, Factor]]:
    # yamlfile bounds nesting and aliases: yaml.safe_load raised RecursionError on a deeply
    # nested file (a traceback, issue 11, item 12)
    try:
        doc = yamlfile.load(Path(label), text)
    except ModelFileError as exc:
        raise _fail(label, f"is not valid YAML ({exc})", "Fix the syntax.") from None
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("factors"), list):
        raise _fail(label, "has no top-level 'factors:' list", "See docs/factors.md.")
    for index, item in enumerate(data["factors"]):
        line_number = doc.lines.get(("factors", index))
        line = f" (line {line_number})" if line_number else ""
        where = f"{label} factors[{index}]{line}"
        if not isinstance(item, dict):
            raise _fail(where, "is not a mapping", "Write each factor as key: value pairs.")
        unknown = [k for k in item if k not in (*REQUIRED, *OPTIONAL, *UNCERTAINTY, "emissions")]
        if unknown:
            raise _fail(
                where, f"unknown key(s) {unknown}", f"Use {REQUIRED + OPTIONAL + UNCERTAINTY}."
            )
        emissions = item.get("emissions") or {}
        if not isinstance(emissions, dict):
            raise _fail(where, "emissions is not a mapping", "Write gas id: amount pairs.")
        gases = {str(k): v for k, v in emissions.items()}
        yield where, _row_to_factor(item, gases, where, set_name)


def parse_factor_text(text: str, *, label: str, set_name: str, fmt: str) -> FactorSet:
    """Parse factor-set ``text`` in ``fmt`` ("csv" or "yaml"); ``label`` names it in errors."""
    rows = _csv_factors if fmt == "csv" else _yaml_factors
    seen: dict[str, str] = {}
    factors = []
    for where, factor in rows(text, label, set_name):
        if factor.id in seen:
            raise _fail(
                where,
                f"id {factor.id!r} is already used at {seen[factor.id]}",
                "Give every factor its own id.",
            )
        seen[factor.id] = where
        factors.append(factor)
    return FactorSet(set_name, factors)


def load_factor_set(path: Path) -> FactorSet:
    """Load a user factor set from a ``.csv``, ``.yaml`` or ``.yml`` file.

    Raises
    ------
    FactorSetError
        If the file cannot be read, has an unsupported suffix or a row fails validation.
    """
    path = Path(path)
    fmt = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix.lower())
    if fmt is None:
        raise _fail(str(path), "has an unsupported suffix", "Use a .csv, .yaml or .yml file.")
    data = read_bounded(path, error=FactorSetError)  # bounded: not /dev/zero until memory ends
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(str(path), f"cannot be read ({exc})", "Save it as UTF-8.") from None
    return parse_factor_text(text, label=str(path), set_name=path.stem, fmt=fmt)


@cache
def bundled_factor_set() -> FactorSet:
    """Return every factor shipped in ``openpcf/factors/data`` as one set named "bundled"."""
    folder = resources.files("openpcf.factors").joinpath("data")
    result: FactorSet | None = None
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".csv") or entry.name.startswith("_"):
            continue
        name = entry.name.removesuffix(".csv")
        part = parse_factor_text(
            entry.read_text("utf-8"), label=f"factors/data/{entry.name}", set_name=name, fmt="csv"
        )
        result = part if result is None else result.merged(part)
    if result is None:
        return FactorSet("bundled", [])
    return FactorSet("bundled", result.factors.values(), set_names=result.set_names)
