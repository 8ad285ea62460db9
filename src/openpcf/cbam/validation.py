"""Checks an installation file must pass before it is calculated.

The schema checks types and ranges; this module checks what needs the CBAM rules or more
than one field: the reporting period, ids and references, goods, routes, precursors, and
which gases belong to which goods. Each error names file:line and the field.

Reporting period (⚠R for the article numbers): by default the calendar year; a fiscal year
is allowed; a period of at least three months may be used where it matches an eligible
monitoring, reporting and verification scheme (Implementing Regulation (EU) 2023/1773,
Annex III, section A; Commission guidance for installation operators, section 6; the same
rule carries into the definitive period). So OpenPCF accepts 3 to 12 months, both dates
included.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from openpcf.cbam.countries import check_in_scope, country
from openpcf.cbam.errors import (
    CbamModelError,
    PrecursorNotRelevantError,
    ReportingPeriodError,
)
from openpcf.cbam.goods import AggregatedGood, aggregated_good, classify
from openpcf.cbam.loading import Locator
from openpcf.cbam.schema import Installation

MIN_MONTHS = 3
MAX_MONTHS = 12
_SHARE_TOLERANCE = 1e-6


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (clamped to the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_period(inst: Installation, locate: Locator) -> None:
    """Refuse a reversed period, one shorter than 3 months or longer than 12 months."""
    start, end = inst.reporting_period.start, inst.reporting_period.end
    where = locate("reporting_period")
    if end < start:
        raise ReportingPeriodError(f"{where}: end {end} is before start {start}.")
    last_allowed = add_months(start, MAX_MONTHS) - timedelta(days=1)
    if end > last_allowed:
        raise ReportingPeriodError(
            f"{where}: {start} to {end} is longer than {MAX_MONTHS} months; the reporting "
            f"period is at most 12 months (calendar or fiscal year): end it by {last_allowed}."
        )
    if end < add_months(start, MIN_MONTHS) - timedelta(days=1):
        raise ReportingPeriodError(
            f"{where}: {start} to {end} is shorter than {MIN_MONTHS} months, the minimum for a "
            "reporting period."
        )


def _unique(ids: list[str], what: str, key: str, locate: Locator) -> None:
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise CbamModelError(f"{locate(key, i, 'id')}: duplicate {what} id {item!r}.")
        seen.add(item)


def check_ids(inst: Installation, locate: Locator) -> None:
    """Ids are unique; every reference names a process (or a precursor, for ``from``)."""
    processes = [p.id for p in inst.processes]
    purchased = [p.id for p in inst.purchased_precursors]
    _unique(processes, "process", "processes", locate)
    _unique(purchased, "purchased precursor", "purchased_precursors", locate)
    _unique([s.id for s in inst.source_streams], "source stream", "source_streams", locate)
    for i, pid in enumerate(purchased):
        if pid in processes:
            raise CbamModelError(
                f"{locate('purchased_precursors', i, 'id')}: {pid!r} is also a process id."
            )
    known = set(processes)
    for i, s in enumerate(inst.source_streams):
        targets = [s.process] if s.process is not None else list(s.split or {})
        for target in targets:
            if target not in known:
                field = "process" if s.process is not None else "split"
                raise CbamModelError(f"{locate('source_streams', i, field)}: {_unknown(target)}")
        if s.split is not None:
            total = sum(s.split.values())
            if abs(total - 1) > _SHARE_TOLERANCE or min(s.split.values()) <= 0:
                raise CbamModelError(
                    f"{locate('source_streams', i, 'split')}: shares must be > 0 and sum to 1 "
                    f"(they sum to {total:g})."
                )
    refs = [("pfc", i, e.process) for i, e in enumerate(inst.pfc)]
    refs += [("measured", i, m.process) for i, m in enumerate(inst.measured)]
    for key, i, target in refs:
        if target not in known:
            raise CbamModelError(f"{locate(key, i, 'process')}: {_unknown(target)}")


def _unknown(name: str) -> str:
    return f"no process with id {name!r}; use the id of an entry under processes."


def check_goods(inst: Installation, locate: Locator) -> dict[str, AggregatedGood]:
    """Goods, routes, products, gases and precursors; returns process id -> its good."""
    check_in_scope(country(inst.installation.country), where=locate("installation", "country"))
    goods: dict[str, AggregatedGood] = {}
    for i, p in enumerate(inst.processes):
        good = aggregated_good(p.aggregated_good, where=locate("processes", i, "aggregated_good"))
        good.check_route(p.route, where=locate("processes", i, "route"))
        goods[p.id] = good
        for j, product in enumerate(p.products):
            where = locate("processes", i, "products", j, "cn")
            found = classify(product.cn, where=where)
            if found.good is not good:
                raise CbamModelError(
                    f"{where}: CN {found.cn_display} is {found.good.name!r}, but process "
                    f"{p.id!r} produces {good.name!r}; move the product to the right process."
                )
    purchased = {}
    for i, pp in enumerate(inst.purchased_precursors):
        where = locate("purchased_precursors", i, "cn")
        purchased[pp.id] = classify(pp.cn, where=where).good
        check_in_scope(country(pp.country), where=locate("purchased_precursors", i, "country"))
    for i, p in enumerate(inst.processes):
        for j, use in enumerate(p.precursors):
            where = locate("processes", i, "precursors", j, "from")
            if use.from_ == p.id:
                raise CbamModelError(f"{where}: process {p.id!r} cannot be its own precursor.")
            source = goods.get(use.from_) or purchased.get(use.from_)
            if source is None:
                raise CbamModelError(
                    f"{where}: {use.from_!r} is neither a process nor a purchased precursor."
                )
            consumer = goods[p.id]
            if not consumer.accepts_precursor(source.name):
                route = f", route {p.route!r}" if p.route else ""
                allowed = "; ".join(consumer.precursors) or "none"
                raise PrecursorNotRelevantError(
                    f"{where}: {source.name!r} is not a relevant precursor of "
                    f"{consumer.name!r}{route}. Relevant precursors: {allowed}. Leave it out: "
                    "its emissions are not part of this good's embedded emissions."
                )
    gas_rules = [("pfc", i, e.process, "aluminium", "PFC") for i, e in enumerate(inst.pfc)]
    gas_rules += [
        ("measured", i, m.process, "fertilisers", "N2O")
        for i, m in enumerate(inst.measured)
        if m.gas == "N2O"
    ]
    for key, i, process, sector, gas in gas_rules:
        if goods[process].sector != sector:
            raise CbamModelError(
                f"{locate(key, i, 'process')}: {gas} emissions count only for "
                f"{sector} goods under CBAM; process {process!r} makes "
                f"{goods[process].name!r}."
            )
    return goods


def validate(inst: Installation, locate: Locator | None = None) -> dict[str, AggregatedGood]:
    """Run every check; return process id -> aggregated good."""
    locate = locate or Locator()
    check_period(inst, locate)
    check_ids(inst, locate)
    return check_goods(inst, locate)
