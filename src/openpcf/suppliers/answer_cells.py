"""The answer cells of a questionnaire workbook, read and checked one by one and together.

:func:`read_cells` reads every field of :mod:`openpcf.suppliers.template` from the cell values
:mod:`openpcf.suppliers.answers` took out of the workbook, records a
:class:`~openpcf.suppliers.errors.Problem` for each bad cell and goes on, so that all problems
are reported together; the rules are listed in :mod:`openpcf.suppliers.answers`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from openpcf.core.units import PACT_UNITS, conversion_factor
from openpcf.errors import InputError
from openpcf.suppliers import template as t
from openpcf.suppliers.errors import Problem
from openpcf.suppliers.spec import TEMPLATE_VERSION

#: Largest relative difference between the total and fossil + biogenic + land-use change.
TOLERANCE = 0.01
#: Absolute floor of that tolerance, in kg CO2e per declared unit (for totals near zero).
TOLERANCE_FLOOR = 1e-6
_EMISSION_UNIT = re.compile(r"^\s*(.+?)\s*CO2\s*-?\s*eq?\s*(?:/\s*(.+?))?\s*$", re.IGNORECASE)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_NUMBER = re.compile(r"\s*[+-]?[0-9]+(\.[0-9]+)?\s*")
_URN = re.compile(r"^[uU][rR][nN]:\S+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The verification statement the supplier names."""

    verifier: str
    standard: str
    date: dt.date
    assurance: str  # "limited", "reasonable" or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectricityRow:
    """One electricity source; ``kwh`` is the amount converted to kWh."""

    row: int
    source: str
    region: str
    kwh: float
    certificate: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplierAnswer:
    """A checked answer. Amounts are kg CO2e per **one** declared unit, shares in percent."""

    name: str
    request_id: uuid.UUID
    token: str = field(repr=False)
    template_version: str
    company_name: str
    company_id: str
    product_name: str
    product_id: str
    declared_unit: str  # a PACT declared unit name
    mass_per_declared_unit: float | None
    geography: str
    boundary: str
    boundary_description: str
    standard: str
    standard_other: str
    gwp: str
    period_start: dt.date
    period_end: dt.date
    pcf_total: float
    fossil: float
    biogenic: float
    removals: float
    luc: float
    process: float | None
    primary_share: float
    exempted: float | None
    recycled_pre: float | None
    recycled_post: float | None
    verification: Verification | None
    electricity: tuple[ElectricityRow, ...]


@dataclass
class AnswerCells:
    """The values of a workbook's cells and the problems found so far."""

    name: str
    request_id: uuid.UUID
    token: str
    cells: dict[str, dict[str, Any]]  # sheet -> coordinate -> value
    formats: dict[str, dict[str, str]]  # sheet -> coordinate -> number format
    problems: list[Problem]


def read_cells(book: AnswerCells, unit: str | None) -> SupplierAnswer | None:
    """The answer of ``book``'s cells, or None with the problems added to ``book.problems``.

    ``unit``: the unit the request asks the material in (the declared unit must convert).
    """
    return _Reader(book).answer(unit)


class _MissingError(Exception):
    """A cell that could not be read (its problem is recorded already)."""


class _Reader:
    """Reads the answer cells, recording a problem per bad cell and going on."""

    def __init__(self, book: AnswerCells) -> None:
        self.book = book
        self.rows = t.answer_rows()
        self.formula_cells = {(p.sheet, p.cell) for p in book.problems if p.cell}

    def problem(self, sheet: str, cell: str, reason: str) -> None:
        self.book.problems.append(Problem(sheet, cell, reason))

    # one field -------------------------------------------------------------------------

    def cell(self, key: str) -> str:
        return f"C{self.rows[key][0]}"

    def raw(self, sheet: str, coordinate: str) -> Any:
        return self.book.cells.get(sheet, {}).get(coordinate)

    def value(self, key: str) -> Any:
        """The typed value of an answer field, None when empty; records problems."""
        row, f = self.rows[key]
        where = f"C{row}"
        if (t.SHEET_ANSWER, where) in self.formula_cells:
            raise _MissingError
        raw = self.raw(t.SHEET_ANSWER, where)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if f.mandatory:
                self.problem(t.SHEET_ANSWER, where, f"{f.en} ({f.zh}) is mandatory: fill it in")
                raise _MissingError
            return None
        fmt = self.book.formats.get(t.SHEET_ANSWER, {}).get(where, "")
        reason, value = _parse(f, raw, fmt)
        if reason:
            self.problem(t.SHEET_ANSWER, where, f"{f.en}: {reason}")
            raise _MissingError
        return value

    def get(self, key: str) -> Any:
        try:
            return self.value(key)
        except _MissingError:
            return _MISSING

    def emission(self, key: str, declared: str | None) -> Any:
        """An amount of the PCF block in kg CO2e per declared unit (its unit cell applied)."""
        amount = self.get(key)
        if amount is _MISSING or amount is None:
            return amount
        row, f = self.rows[key]
        unit = str(self.raw(t.SHEET_ANSWER, f"D{row}") or "").strip() or "kg CO2e"
        reason, factor = emission_factor(unit, declared)
        if reason:
            self.problem(t.SHEET_ANSWER, f"D{row}", f"{f.en}: {reason}")
            return _MISSING
        return amount * factor

    # the whole answer -------------------------------------------------------------------

    def answer(self, unit: str | None) -> SupplierAnswer | None:
        g = self.get
        declared = g("declared_unit")
        declared_ok = declared if isinstance(declared, str) else None
        if declared_ok and unit:
            self._check_request_unit(declared_ok, unit)
        v = {
            key: g(key)
            for key in (
                "company_name", "company_id", "product_name", "product_id",
                "mass_per_declared_unit", "geography", "boundary", "boundary_description",
                "standard", "standard_other", "gwp", "period_start", "period_end",
                "primary_share", "exempted", "recycled_pre", "recycled_post", "verified",
                "verifier", "verification_standard", "verification_date", "assurance",
            )
        }  # fmt: skip
        for key in ("pcf_total", "fossil", "biogenic", "removals", "luc", "process"):
            v[key] = self.emission(key, declared_ok)
        self._cross_checks(v, declared_ok)
        electricity = self._electricity()
        if self.book.problems or any(x is _MISSING for x in v.values()) or declared_ok is None:
            return None
        verification = None
        if v["verified"] == "yes":
            verification = Verification(
                verifier=v["verifier"],
                standard=v["verification_standard"] or "",
                date=v["verification_date"],
                assurance=v["assurance"] or "",
            )
        return SupplierAnswer(
            name=self.book.name,
            request_id=self.book.request_id,
            token=self.book.token,
            template_version=TEMPLATE_VERSION,
            company_name=v["company_name"],
            company_id=v["company_id"] or "",
            product_name=v["product_name"],
            product_id=v["product_id"] or "",
            declared_unit=declared_ok,
            mass_per_declared_unit=v["mass_per_declared_unit"],
            geography=v["geography"],
            boundary=v["boundary"],
            boundary_description=v["boundary_description"] or "",
            standard=v["standard"],
            standard_other=v["standard_other"] or "",
            gwp=v["gwp"],
            period_start=v["period_start"],
            period_end=v["period_end"],
            pcf_total=v["pcf_total"],
            fossil=v["fossil"],
            biogenic=v["biogenic"],
            removals=v["removals"] or 0.0,
            luc=v["luc"],
            process=v["process"],
            primary_share=v["primary_share"],
            exempted=v["exempted"],
            recycled_pre=v["recycled_pre"],
            recycled_post=v["recycled_post"],
            verification=verification,
            electricity=electricity,
        )

    def _check_request_unit(self, declared: str, unit: str) -> None:
        try:
            conversion_factor(PACT_UNITS[declared], unit)
        except InputError:
            self.problem(
                t.SHEET_ANSWER,
                self.cell("declared_unit"),
                f"a footprint per {declared} cannot be used for the material, which your "
                f"customer buys in {unit}: declare it per a unit that converts to {unit}",
            )

    def _cross_checks(self, v: dict[str, Any], declared: str | None) -> None:
        here = self.cell

        def known(*keys: str) -> bool:
            return all(v[k] is not _MISSING and v[k] is not None for k in keys)

        if known("geography"):
            geo = str(v["geography"]).upper()
            if not (_COUNTRY.match(geo) or _SUBDIVISION.match(geo)):
                self.problem(
                    t.SHEET_ANSWER, here("geography"),
                    f"{v['geography']!r} is not an ISO 3166 country ('CN') or province ('CN-JS')",
                )  # fmt: skip
                v["geography"] = _MISSING
            else:
                v["geography"] = geo
        for key in ("company_id", "product_id"):
            if known(key) and not _URN.match(str(v[key])):
                self.problem(
                    t.SHEET_ANSWER, here(key),
                    f"{v[key]!r} is not a URN (urn:<namespace>:<id>); leave it empty if there is "
                    "none",
                )  # fmt: skip
                v[key] = _MISSING
        if declared and declared != "kilogram" and v["mass_per_declared_unit"] is None:
            self.problem(
                t.SHEET_ANSWER, here("mass_per_declared_unit"),
                f"the mass of one {declared} of the product is mandatory when it is not declared "
                "per kilogram",
            )  # fmt: skip
            v["mass_per_declared_unit"] = _MISSING
        if v["standard"] == "other" and v["standard_other"] is None:
            self.problem(
                t.SHEET_ANSWER, here("standard_other"),
                "the standard is 'other': name it here",
            )  # fmt: skip
            v["standard_other"] = _MISSING
        if known("period_start", "period_end") and v["period_end"] < v["period_start"]:
            self.problem(
                t.SHEET_ANSWER, here("period_end"),
                f"the reference period ends ({v['period_end']}) before it starts "
                f"({v['period_start']})",
            )  # fmt: skip
        if known("pcf_total", "fossil"):
            self._adds_up(v, complete=known("biogenic", "luc"))
        if known("process", "fossil") and v["process"] > v["fossil"] + TOLERANCE_FLOOR:
            self.problem(
                t.SHEET_ANSWER, here("process"),
                f"process emissions ({_g(v['process'])} kg CO2e) are part of the fossil "
                f"emissions ({_g(v['fossil'])} kg CO2e) and cannot be larger",
            )  # fmt: skip
        if known("recycled_pre", "recycled_post") and v["recycled_pre"] + v["recycled_post"] > 100:
            self.problem(
                t.SHEET_ANSWER, here("recycled_post"),
                f"pre- and post-consumer content add up to "
                f"{_g(v['recycled_pre'] + v['recycled_post'])} %, more than 100 %",
            )  # fmt: skip
        if v["verified"] == "yes":
            for key in ("verifier", "verification_date"):
                if v[key] is None:
                    self.problem(
                        t.SHEET_ANSWER, here(key),
                        "mandatory when the footprint was verified: fill it in",
                    )  # fmt: skip
                    v[key] = _MISSING

    def _adds_up(self, v: dict[str, Any], *, complete: bool) -> None:
        """More fossil than total (from those two alone), else whether the parts add up
        (when all of them could be read)."""
        total, fossil = v["pcf_total"], v["fossil"]
        if fossil > total + TOLERANCE_FLOOR:
            self.problem(
                t.SHEET_ANSWER, self.cell("fossil"),
                f"more fossil emissions ({_g(fossil)} kg CO2e) than the total ({_g(total)} kg "
                "CO2e): the total includes the fossil emissions",
            )  # fmt: skip
            return
        if not complete:
            return
        biogenic, luc = v["biogenic"], v["luc"]
        parts = fossil + biogenic + luc
        if abs(parts - total) > max(TOLERANCE * abs(total), TOLERANCE_FLOOR):
            self.problem(
                t.SHEET_ANSWER, self.cell("pcf_total"),
                f"the footprint does not add up: fossil {_g(fossil)} + biogenic non-CO2 "
                f"{_g(biogenic)} + land-use change {_g(luc)} = {_g(parts)} kg CO2e, but the "
                f"total is {_g(total)} kg CO2e (a difference of {_g(abs(parts - total))}; at "
                f"most {TOLERANCE:.0%} of the total is allowed for rounding)",
            )  # fmt: skip

    def _electricity(self) -> tuple[ElectricityRow, ...]:
        sheet = t.SHEET_ELECTRICITY
        out = []
        first = t.ELECTRICITY_FIRST_ROW
        for row in range(first, first + t.ELECTRICITY_ROWS):
            raw = {
                key: self.raw(sheet, f"{col}{row}") for col, key, _zh, _en in t.ELECTRICITY_COLUMNS
            }
            filled = {k: x for k, x in raw.items() if k != "unit" and x not in (None, "")}
            if not filled:
                continue
            parsed = self._electricity_row(row, raw)
            if parsed is not None:
                out.append(parsed)
        return tuple(out)

    def _electricity_row(self, row: int, raw: dict[str, Any]) -> ElectricityRow | None:
        sheet = t.SHEET_ELECTRICITY
        ok = True

        def bad(col: str, reason: str) -> None:
            nonlocal ok
            ok = False
            self.problem(sheet, f"{col}{row}", reason)

        source = _choice(raw["source"], t.ELECTRICITY_SOURCES)
        if source is None:
            bad("A", f"source type must be one of {', '.join(t.ELECTRICITY_SOURCES)}")
        region = str(raw["region"] or "").strip().upper()
        if not region:
            bad("B", "the province or country is mandatory (ISO 3166, e.g. 'CN-JS' or 'CN')")
        elif not (_COUNTRY.match(region) or _SUBDIVISION.match(region)):
            bad("B", f"{raw['region']!r} is not an ISO 3166 country ('CN') or province ('CN-JS')")
        amount = _number(raw["amount"])
        kwh = 0.0
        if amount is None:
            bad("C", "the amount is mandatory and must be a number")
        elif amount < 0:
            bad("C", f"a negative amount ({_g(amount)}): amounts are 0 or more")
        else:
            unit = str(raw["unit"] or "").strip() or "kWh"
            try:
                kwh = amount * conversion_factor(unit, "kWh")
            except InputError as e:
                bad("D", f"unit {unit!r}: {e}; use kWh, MWh, GJ or MJ")
        certificate = str(raw["certificate"] or "").strip()
        if source in t.CERTIFIED_SOURCES and not certificate:
            bad("E", f"a {source} row needs its certificate or contract id")
        start, end = _date_or_none(raw["start"]), _date_or_none(raw["end"])
        for col, key, value in (("F", "start", start), ("G", "end", end)):
            if raw[key] not in (None, "") and value is None:
                bad(col, f"{raw[key]!r} is not a date (YYYY-MM-DD)")
        if start and end and end < start:
            bad("G", f"the period ends ({end}) before it starts ({start})")
        if not ok or source is None:
            return None
        return ElectricityRow(
            row=row, source=source, region=region, kwh=kwh, certificate=certificate,
            start=start, end=end,
        )  # fmt: skip


_MISSING: Any = object()


def emission_factor(unit: str, declared: str | None) -> tuple[str, float]:
    """``("", factor)`` turning an amount in ``unit`` into kg CO2e per one declared unit, or
    ``(reason, 0)``.

    >>> emission_factor("t CO2e", "kilogram"), emission_factor("kg CO2e / t", "kilogram")
    (('', 1000.0), ('', 0.001))
    """
    match = _EMISSION_UNIT.match(unit)
    if match is None:
        return (
            f"unit {unit!r} is not a mass of CO2 equivalent: use kg CO2e, t CO2e or g CO2e "
            "(per declared unit), or e.g. 'kg CO2e / t'",
            0.0,
        )
    mass, per = match.group(1), match.group(2)
    try:
        factor = conversion_factor(mass, "kg")
        if per:
            if declared is None:
                return "", 1.0  # the declared unit's own problem is reported
            factor /= conversion_factor(per, PACT_UNITS[declared])
    except InputError as e:
        return f"unit {unit!r}: {e}", 0.0
    return "", factor


def _parse(f: t.Field, raw: Any, fmt: str) -> tuple[str, Any]:
    """``("", value)`` or ``(reason, None)`` for a non-empty cell of field ``f``."""
    if f.kind == "text":
        return "", str(raw).strip()
    if f.kind == "choice":
        choice = _choice(raw, f.choices)
        if choice is None:
            return f"{raw!r} is not one of {', '.join(f.choices)}", None
        return "", choice
    if f.kind == "date":
        date = _date_or_none(raw)
        return ("", date) if date else (f"{raw!r} is not a date (YYYY-MM-DD)", None)
    number = _number(raw)
    if number is None:
        return f"{raw!r} is not a number", None
    if f.kind == "percent" and "%" in fmt and isinstance(raw, int | float):
        number *= 100  # a cell formatted as a percentage holds 0.35 for 35 %
    if number < 0:
        return f"a negative amount ({_g(number)}): amounts are 0 or more", None
    if f.kind == "percent" and number > 100:
        return f"{_g(number)} % is outside 0-100 %", None
    return "", number


def _choice(raw: Any, choices: tuple[str, ...]) -> str | None:
    text = str(raw if raw is not None else "").strip().lower()
    return next((c for c in choices if c.lower() == text), None)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    numeric = isinstance(raw, int | float)
    if not numeric and not (isinstance(raw, str) and _NUMBER.fullmatch(raw)):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _date_or_none(raw: Any) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def _g(x: float) -> str:
    return f"{x:.6g}"
