"""The export compliance dossier: the requirement catalogue (data) and the status of each
requirement for one SKU, market and date.

The catalogue (``suppliers/data/requirements.yaml``, format in ``docs/dossier.md``) lists the
documents a market's law or a buyer asks for, per product (CN-code prefixes, rule-set ids, or
"CBAM goods"), each with its source (document, clause, year; ``access: not-public`` or
``paywalled`` with a note where the text was not read). :func:`dossier_rows` is pure: it
takes the catalogue, the SKU's CN code and rule-set id, the evidence held and a date, and
returns one :class:`DossierRow` per applicable requirement; :func:`rank_gaps` orders SKUs by
urgency. The database and the files are the service's business
(:mod:`openpcf.services.dossier`).

Statuses, on the date ``on`` with a warning window of ``window_days``:

- ``held``: the latest evidence (by issue date, issued on or before ``on``) has not expired
  and does not expire within the window;
- ``expiring``: it expires within ``window_days`` days after ``on`` (inclusive);
- ``expired``: its expiry date is before ``on``;
- ``missing``: no evidence issued on or before ``on``.

An evidence's expiry is its own ``expires`` date when given, else ``issued`` plus the
requirement's validity in months (a number), else none (``per-shipment``,
``per-reporting-period`` and ``until-changed`` documents carry the date their issuer gives).
"""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from openpcf.cbam.errors import AmbiguousCnCodeError, CbamError
from openpcf.cbam.goods import classify
from openpcf.errors import InputError
from openpcf.files.schema import Strict
from openpcf.files.yamlfile import load_validated
from openpcf.rules.schema import Source, Text

MARKETS: tuple[str, ...] = ("EU", "CN", "US", "GLOBAL")
STATUSES: tuple[str, ...] = ("held", "expiring", "expired", "missing")
#: days before an expiry that a document is shown as ``expiring``
DEFAULT_WINDOW_DAYS = 90
REQUIREMENT_ID = r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$"
Kind = Literal["law", "buyer", "voluntary"]
Holder = Literal["manufacturer", "exporter", "eu-importer", "declarant", "operator"]
Validity = Literal["per-shipment", "per-reporting-period", "until-changed"]
Status = Literal["held", "expiring", "expired", "missing"]


class CatalogueError(InputError):
    """The requirement catalogue is unreadable or breaks its schema (with file:line)."""


class AppliesTo(Strict):
    """Which products a requirement covers: every product (``all``), or those matching every
    list given (``cn``: CN-code prefixes, any of them; ``rules``: glob patterns on the SKU's
    rule-set or product-class id, any of them; ``cbam_goods``: a CN code of Annex I of
    Regulation (EU) 2023/956)."""

    all: bool = False
    cn: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    cbam_goods: bool = False

    @field_validator("cn")
    @classmethod
    def _digits(cls, value: list[str]) -> list[str]:
        out = []
        for code in value:
            digits = re.sub(r"[\s.]", "", str(code))
            if not digits.isdigit() or not 2 <= len(digits) <= 10:
                raise ValueError(f"{code!r} is not a CN-code prefix (2 to 10 digits)")
            out.append(digits)
        return out

    @model_validator(mode="after")
    def _names_products(self) -> AppliesTo:
        if self.all and (self.cn or self.rules or self.cbam_goods):
            raise ValueError("'all: true' covers every product; drop cn, rules and cbam_goods")
        if not (self.all or self.cn or self.rules or self.cbam_goods):
            raise ValueError("say which products: all: true, cn, rules or cbam_goods")
        return self


class Requirement(Strict):
    """One document a market or a buyer requires (see the module docstring)."""

    id: str = Field(pattern=REQUIREMENT_ID, max_length=100)
    market: Literal["EU", "CN", "US", "GLOBAL"]
    kind: Kind
    title: Text
    applies_to: AppliesTo
    document: Text
    issuer: str = Field(min_length=1)
    accreditation: str = ""
    standard: str = Field(min_length=1)
    validity: int | Validity = Field(union_mode="left_to_right")
    holder: Holder
    required_from: dt.date | Literal["pending"] | None = None
    pending: str = ""
    until: dt.date | None = None
    conditional: str = ""
    source: Source

    @field_validator("validity")
    @classmethod
    def _months(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 600:
            raise ValueError("a validity in months is between 1 and 600")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Requirement:
        if (self.required_from == "pending") != bool(self.pending):
            raise ValueError(
                "'required_from: pending' needs a 'pending' note saying what the date waits "
                "for, and a 'pending' note needs 'required_from: pending'"
            )
        if self.kind == "law" and self.required_from is None:
            raise ValueError("a legal requirement needs 'required_from' (a date or pending)")
        start = self.required_from
        if isinstance(start, dt.date) and self.until is not None and self.until < start:
            raise ValueError("'until' is before 'required_from'")
        return self

    def applies(self, *, cn: str, rules: str | None) -> bool:
        """Whether this requirement covers a product with CN code ``cn`` (digits) and the
        rule-set or product-class id ``rules``."""
        a = self.applies_to
        if a.all:
            return True
        if a.cn and not any(cn.startswith(prefix) for prefix in a.cn):
            return False
        if a.rules and not (rules and any(fnmatch.fnmatchcase(rules, g) for g in a.rules)):
            return False
        return not a.cbam_goods or is_cbam_good(cn)

    def in_force(self, on: dt.date) -> bool:
        """Required on ``on``: a legal date reached, or a buyer or voluntary requirement
        (which applies whenever asked); never while the date is pending."""
        if self.required_from == "pending":
            return False
        return self.required_from is None or self.required_from <= on

    def current(self, on: dt.date) -> bool:
        """Not ended (``until``) before ``on``."""
        return self.until is None or on <= self.until

    @property
    def deadline(self) -> dt.date | None:
        return self.required_from if isinstance(self.required_from, dt.date) else None


class Catalogue(Strict):
    catalogue: Literal[1]
    requirements: list[Requirement] = Field(min_length=1)

    def get(self, requirement_id: str) -> Requirement:
        """The requirement with this id.

        Raises
        ------
        InputError
            No such requirement (``openpcf dossier requirements`` lists them).
        """
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        raise InputError(
            f"no requirement {requirement_id!r} in the catalogue; openpcf dossier requirements "
            "lists them"
        )

    def select(self, *, market: str | None = None, cn: str | None = None) -> list[Requirement]:
        """The requirements of ``market`` (with the GLOBAL ones) that may cover CN code ``cn``
        (a rule-set condition cannot be judged from a code, so it is not applied here)."""
        out = []
        for req in self.requirements:
            if market is not None and req.market not in (market, "GLOBAL"):
                continue
            a = req.applies_to
            if cn is not None and not a.all:
                if a.cn and not any(cn.startswith(p) for p in a.cn):
                    continue
                if a.cbam_goods and not is_cbam_good(cn):
                    continue
            out.append(req)
        return out


def check_market(market: str | None) -> str | None:
    """``market`` if the catalogue knows it (None: every market)."""
    if market is not None and market not in MARKETS:
        raise InputError(f"unknown market {market!r}; use one of {', '.join(MARKETS)}")
    return market


def is_cbam_good(cn: str) -> bool:
    """A CN code of the CBAM goods list; a heading spanning several categories counts."""
    try:
        classify(cn)
    except AmbiguousCnCodeError:
        return True
    except CbamError:
        return False
    return True


def load_catalogue(path: Path | str, text: str | None = None) -> Catalogue:
    """Read and validate a catalogue file.

    Raises
    ------
    CatalogueError
        Unreadable file, YAML error, an unknown field, a requirement without its source,
        a duplicate id, each with file:line.
    """
    doc, catalogue = load_validated(
        Path(path),
        Catalogue,
        text=text,
        what="the requirement catalogue",
        mapping="a requirement catalogue is a YAML mapping with 'catalogue: 1' and 'requirements'",
        error=CatalogueError,
    )
    seen: set[str] = set()
    for i, req in enumerate(catalogue.requirements):
        if req.id in seen:
            raise CatalogueError(
                f"{doc.where(('requirements', i, 'id'))}: requirement {req.id!r} is defined "
                "twice; keep one entry per id"
            )
        seen.add(req.id)
    return catalogue


@cache
def bundled_catalogue() -> Catalogue:
    """The catalogue shipped in the package."""
    entry = files("openpcf.suppliers") / "data" / "requirements.yaml"
    return load_catalogue(Path(str(entry)), entry.read_text("utf-8"))


# --------------------------------------------------------------------------------------------
# statuses


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFact:
    """A document held for one requirement (what the dossier needs of a stored row)."""

    requirement_id: str
    document: str
    issuer: str
    accreditation: str
    issued: dt.date
    expires: dt.date | None
    file_name: str
    file_sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DossierRow:
    requirement: Requirement
    status: Status
    in_force: bool
    #: the date the requirement applies from (None: buyer requirement or date pending)
    deadline: dt.date | None
    #: the evidence's expiry (its own date, or issued + validity months)
    expires: dt.date | None
    evidence: EvidenceFact | None

    @property
    def overdue(self) -> bool:
        """Required now and not validly held."""
        return self.in_force and self.status in ("missing", "expired")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month).

    >>> add_months(dt.date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def expiry(requirement: Requirement, evidence: EvidenceFact) -> dt.date | None:
    if evidence.expires is not None:
        return evidence.expires
    if isinstance(requirement.validity, int):
        return add_months(evidence.issued, requirement.validity)
    return None


def status_of(
    expires: dt.date | None, *, on: dt.date, window_days: int = DEFAULT_WINDOW_DAYS
) -> Status:
    """``held``, ``expiring`` or ``expired`` for evidence expiring on ``expires``."""
    if expires is None:
        return "held"
    if expires < on:
        return "expired"
    if expires <= on + dt.timedelta(days=window_days):
        return "expiring"
    return "held"


def dossier_rows(
    catalogue: Catalogue,
    *,
    cn: str,
    rules: str | None,
    market: str | None,
    on: dt.date,
    evidence: Sequence[EvidenceFact],
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[DossierRow]:
    """One row per requirement of ``market`` (and GLOBAL; every market when None) that covers
    the product on ``on``, in catalogue order.

    A requirement ended (``until``) before ``on`` is left out; a ``conditional`` one (e.g. a
    carbon-neutrality claim) only appears once evidence is held for it. ``evidence`` is in the
    order it was recorded; per requirement the latest issued on or before ``on`` counts.
    """
    check_market(market)
    latest: dict[str, EvidenceFact] = {}
    for fact in evidence:
        if fact.issued > on:
            continue
        held = latest.get(fact.requirement_id)
        if held is None or fact.issued >= held.issued:
            latest[fact.requirement_id] = fact
    rows = []
    for req in catalogue.requirements:
        if market is not None and req.market not in (market, "GLOBAL"):
            continue
        if not req.current(on):
            continue
        if not req.applies(cn=cn, rules=rules):
            continue
        found = latest.get(req.id)
        if req.conditional and found is None:
            continue
        ends = expiry(req, found) if found is not None else None
        status: Status = (
            "missing" if found is None else status_of(ends, on=on, window_days=window_days)
        )
        rows.append(
            DossierRow(
                requirement=req,
                status=status,
                in_force=req.in_force(on),
                deadline=req.deadline,
                expires=ends,
                evidence=found,
            )
        )
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class Dossier:
    """The dossier of one SKU for one market (None: every market) on one date."""

    organisation: str
    sku: str
    name: str
    cn_code: str
    rules: str | None
    market: str | None
    on: dt.date
    window_days: int
    rows: tuple[DossierRow, ...]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def row_dict(row: DossierRow) -> dict[str, Any]:
    """A row as JSON data (the CLI's ``--json`` and the HTTP answer)."""
    req, ev = row.requirement, row.evidence
    return {
        "requirement": req.id,
        "market": req.market,
        "kind": req.kind,
        "title": req.title.model_dump(),
        "document": req.document.model_dump(),
        "issuer": req.issuer,
        "accreditation": req.accreditation,
        "standard": req.standard,
        "holder": req.holder,
        "validity": req.validity,
        "status": row.status,
        "inForce": row.in_force,
        "overdue": row.overdue,
        "requiredFrom": _day(row.deadline),
        "pending": req.pending or None,
        "expires": _day(row.expires),
        "source": req.source.model_dump(exclude_none=True),
        "evidence": None
        if ev is None
        else {
            "document": ev.document,
            "issuer": ev.issuer,
            "accreditation": ev.accreditation,
            "issued": ev.issued.isoformat(),
            "expires": _day(ev.expires),
            "fileName": ev.file_name,
            "sha256": ev.file_sha256,
        },
    }


def dossier_dict(dossier: Dossier) -> dict[str, Any]:
    return {
        "sku": dossier.sku,
        "name": dossier.name,
        "cnCode": dossier.cn_code,
        "rules": dossier.rules,
        "market": dossier.market,
        "on": dossier.on.isoformat(),
        "windowDays": dossier.window_days,
        "counts": {s: dossier.count(s) for s in STATUSES},
        "rows": [row_dict(row) for row in dossier.rows],
    }


# --------------------------------------------------------------------------------------------
# ranking


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuGaps:
    """The gaps of one SKU in one market: rows that are missing, expired or expiring."""

    sku: str
    name: str
    market: str
    gaps: tuple[DossierRow, ...]

    @property
    def overdue(self) -> int:
        """Gaps already required: missing or expired while in force."""
        return sum(1 for row in self.gaps if row.overdue)

    @property
    def next_date(self) -> dt.date | None:
        """The nearest date a gap becomes pressing: an expiring document's expiry, or the date
        a missing requirement comes into force (None when neither)."""
        dates = [
            row.expires if row.status == "expiring" else row.deadline
            for row in self.gaps
            if not row.overdue
        ]
        known = [d for d in dates if d is not None]
        return min(known) if known else None


def gaps_dict(item: SkuGaps) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "name": item.name,
        "market": item.market,
        "overdue": item.overdue,
        "nextDate": _day(item.next_date),
        "gaps": [row_dict(row) for row in item.gaps],
    }


def gaps_of(sku: str, name: str, market: str, rows: Iterable[DossierRow]) -> SkuGaps:
    return SkuGaps(
        sku=sku,
        name=name,
        market=market,
        gaps=tuple(row for row in rows if row.status != "held"),
    )


def rank_gaps(items: Iterable[SkuGaps]) -> list[SkuGaps]:
    """SKUs with gaps, most urgent first.

    The rule: (1) SKUs with gaps already in force (missing or expired) come first, more such
    gaps first; (2) then the nearest :attr:`SkuGaps.next_date` (an expiry within the window or
    a coming legal date), SKUs without one last; (3) then the SKU id and market, so the order
    is stable.
    """
    with_gaps = [item for item in items if item.gaps]
    far = dt.date.max
    return sorted(
        with_gaps,
        key=lambda g: (g.overdue == 0, -g.overdue, g.next_date or far, g.sku, g.market),
    )
