"""What the engineers' product pages show: the organisation's live footprints and one of them.

Every function takes the organisation of the signed-in user and answers only that
organisation's rows: a footprint of another organisation is :class:`NotFoundError`, exactly
as one that does not exist (the message never says which), so the page answers 404.

Design note, the list in one statement. The product list must stay fast with tens of
thousands of stored footprints, so :func:`list_products` issues one ``SELECT`` whatever the
page, in two steps: a subquery orders the organisation's live footprints by the sort key
alone and takes the page (``LIMIT``/``OFFSET``) with ``count(*) OVER ()`` for the number of
pages; the outer query joins those ids to their product and (outer-joined) calculation record
and takes the few values the table shows out of the JSON columns *in SQL* (the PACT total,
the declared unit, the rule set of the provenance) for the page's rows only. JSON columns are
text on PostgreSQL, so every value taken out parses the document: with 10,000 footprints,
doing it for every row before the sort took 250–370 ms a page, only for the page's 50 rows
(and the sort key for every row) a fraction of that (``python -m bench.run --only web``). No
document or calculation result is loaded for the list and no query runs per row. The filter
``organisation_id = ? AND status = 'Active'`` is served by
``ix_footprint_organisation_stored_product`` (migration 0011). Sorting by total sorts on
the extracted PACT value; the PACT documents are v3 (``pcf.pcfExcludingBiogenicUptake``,
``pcf.declaredUnitOfMeasurement``) or v2 (``pcf.pcfExcludingBiogenic``,
``pcf.declaredUnit``), hence the ``coalesce``.

The product page (:func:`product_view`) reads the stored calculation record (the result as
``calc --json`` writes it and its provenance) and the PACT document: nothing is recalculated.
Its analysis section (:func:`openpcf.services.web_analysis.product_analysis`) recalculates the
uncertainty from the model text kept with the record, when it is (``model_kept``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Float, Select, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from openpcf.db.engine import session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ACTIVE, CalculationRecord, Footprint, Product

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: Rows per page of the product list.
PER_PAGE = 50
SortKey = Literal["name", "total", "created"]
SORT_KEYS: tuple[SortKey, ...] = ("name", "total", "created")
Order = Literal["asc", "desc"]
#: How many contributions the product page lists.
TOP_CONTRIBUTORS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRow:
    """One live footprint in the product list."""

    footprint_id: str
    name: str
    product_id: str
    declared_unit: str
    total: str  # the PACT decimal string, kg CO2e per declared unit
    period_start: dt.date
    period_end: dt.date  # inclusive (PACT's end is exclusive)
    status: str
    rules: str | None
    conforms: bool | None  # None: no conformance stored with the calculation
    created: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductPage:
    """One page of the product list, and how it is sorted."""

    rows: tuple[ProductRow, ...]
    page: int
    pages: int
    count: int
    sort: SortKey
    order: Order
    per_page: int = PER_PAGE


def _path(column: Any, *keys: str) -> ColumnElement[str]:
    return column[keys].as_string()  # type: ignore[no-any-return]


def _total_text() -> ColumnElement[str]:
    return func.coalesce(
        _path(Footprint.document, "pcf", "pcfExcludingBiogenicUptake"),
        _path(Footprint.document, "pcf", "pcfExcludingBiogenic"),
    )


def _page_query(
    organisation_id: int, key: SortKey, order: Order, *, limit: int, offset: int
) -> Select[*tuple[Any, ...]]:
    """The page's footprint ids in order, with the sort key and the number of rows of the
    whole list: only the sort key is worked out for every row (see the design note)."""
    sort_key = _sort_key(key)
    return (
        select(
            Footprint.id.label("id"),
            sort_key.label("sort_key"),
            func.count().over().label("total_rows"),
        )
        .join(Product, Product.id == Footprint.product_id)
        .where(Footprint.organisation_id == organisation_id, Footprint.status == ACTIVE)
        .order_by(*_ordered(sort_key, Footprint.id, order))
        .limit(limit)
        .offset(offset)
    )


def _list_query(page: Any, order: Order) -> Select[*tuple[Any, ...]]:
    """The shown values of the footprints of ``page`` (a subquery of :func:`_page_query`)."""
    unit = func.coalesce(
        _path(Footprint.document, "pcf", "declaredUnitOfMeasurement"),
        _path(Footprint.document, "pcf", "declaredUnit"),
    )
    return (
        select(
            Footprint.id,
            Product.name,
            Product.product_ids,
            unit.label("unit"),
            _total_text().label("total"),
            Footprint.reference_period_start,
            Footprint.reference_period_end,
            Footprint.status,
            _path(CalculationRecord.provenance, "rules").label("rules"),
            _path(CalculationRecord.result, "conformance", "conforms").label("conforms"),
            Footprint.created,
            page.c.total_rows,
        )
        .join(page, page.c.id == Footprint.id)
        .join(Product, Product.id == Footprint.product_id)
        .outerjoin(CalculationRecord, CalculationRecord.id == Footprint.calculation_id)
        .order_by(*_ordered(page.c.sort_key, page.c.id, order))
    )


def _sort_key(sort: SortKey) -> ColumnElement[Any]:
    if sort == "total":
        return cast(_total_text(), Float)
    if sort == "created":
        return Footprint.created  # type: ignore[return-value]
    return func.lower(Product.name)


def _ordered(key: Any, tie: Any, order: Order) -> list[ColumnElement[Any]]:
    return [key.desc(), tie.desc()] if order == "desc" else [key.asc(), tie.asc()]


def list_products(
    engine: Engine,
    *,
    organisation_id: int,
    sort: str = "name",
    order: str = "asc",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ProductPage:
    """The organisation's live (Active) footprints, one page, sorted.

    ``sort`` is one of :data:`SORT_KEYS` and ``order`` ``asc``/``desc`` (anything else falls
    back to name, ascending); ``page`` counts from 1 and is clamped to at least 1. One
    statement (see the module's design note); a page past the end answers no rows and a second
    statement counts the rows, so that the page can link back.
    """
    key: SortKey = sort if sort in SORT_KEYS else "name"
    direction: Order = "desc" if order == "desc" else "asc"
    page = max(page, 1)
    ids = _page_query(
        organisation_id, key, direction, limit=per_page, offset=(page - 1) * per_page
    ).subquery("page")
    query = _list_query(ids, direction)
    with session_scope(engine) as session:
        found = session.execute(query).all()
        if found:
            count = int(found[0].total_rows)
        elif page > 1:
            count = (
                session.scalar(
                    select(func.count())
                    .select_from(Footprint)
                    .where(Footprint.organisation_id == organisation_id, Footprint.status == ACTIVE)
                )
                or 0
            )
        else:
            count = 0
    rows = tuple(_row(r) for r in found)
    pages = max(1, math.ceil(count / per_page))
    return ProductPage(
        rows=rows,
        page=page,
        pages=pages,
        count=count,
        sort=key,
        order=direction,
        per_page=per_page,
    )


def _row(r: Any) -> ProductRow:
    product_ids = list(r.product_ids or [])
    return ProductRow(
        footprint_id=str(r.id),
        name=r.name,
        product_id=product_ids[0] if product_ids else "",
        declared_unit=r.unit or "",
        total=r.total or "",
        period_start=r.reference_period_start.date(),
        period_end=_inclusive_end(r.reference_period_end),
        status=r.status,
        rules=r.rules,
        conforms=_flag(r.conforms),
        created=r.created,
    )


def _inclusive_end(end: dt.datetime) -> dt.date:
    """PACT's reference period ends at the exclusive midnight after its last day."""
    if end.time() == dt.time(0):
        return (end - dt.timedelta(days=1)).date()
    return end.date()


def _flag(value: Any) -> bool | None:
    """A JSON boolean as it comes out of SQL: ``1``/``0`` on SQLite, ``true`` on PostgreSQL."""
    if value is None:
        return None
    return str(value).lower() in ("1", "true")


# --------------------------------------------------------------------------------------------
# one product


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    """A labelled amount of kg CO2e and its share of the total (0..1; 0 for a zero total)."""

    label: str
    kg_co2e: float
    share: float
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Gas:
    """One gas of the inventory: mass and its CO2e."""

    gas: str
    kg: float
    kg_co2e: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductView:
    """Everything the product page shows, read from the stored record and document."""

    footprint_id: str
    name: str
    product_ids: tuple[str, ...]
    status: str
    spec_version: str
    created: dt.datetime
    period_start: dt.date
    period_end: dt.date
    declared_unit: str
    declared_amount: str
    pcf_total: str  # the PACT document's pcfExcludingBiogenicUptake (decimal string)
    pcf_including_uptake: str
    model_total: float | None  # the calculation's own total (the whole model boundary)
    gwp: str
    boundary: str
    by_stage: tuple[Share, ...]
    contributors: tuple[Share, ...]
    gases: tuple[Gas, ...]
    split: tuple[tuple[str, float], ...]  # fossil, biogenic, uptake, LUC, aircraft
    dqr: dict[str, Any]
    primary_share: float | None
    illustrative: tuple[str, ...]
    secondary_sources: tuple[str, ...]
    substitutions: tuple[dict[str, str], ...]
    notes: tuple[str, ...]
    comment: str
    provenance: tuple[tuple[str, str], ...]
    rules: str | None
    conformance: dict[str, Any] | None
    chart: dict[str, Any] = field(default_factory=dict)
    model_kept: bool = False  # the model text is stored: uncertainty and report need no upload


def _owned(session: Any, organisation_id: int, footprint_id: str) -> Footprint:
    """The footprint if it is the organisation's, else :class:`NotFoundError`."""
    try:
        key = uuid.UUID(footprint_id)
    except ValueError:
        raise NotFoundError(f"no footprint {footprint_id[:64]!r}") from None
    found: Footprint | None = session.get(Footprint, key)
    if found is None or found.organisation_id != organisation_id:
        raise NotFoundError(f"no footprint {key}")
    return found


def pact_json(engine: Engine, *, organisation_id: int, footprint_id: str) -> dict[str, Any]:
    """The stored PACT document of one of the organisation's footprints, exactly as stored."""
    with session_scope(engine) as session:
        return dict(_owned(session, organisation_id, footprint_id).document)


def product_view(engine: Engine, *, organisation_id: int, footprint_id: str) -> ProductView:
    """The product page of one of the organisation's footprints (any status).

    Raises
    ------
    NotFoundError
        No such footprint, or another organisation's.
    """
    with session_scope(engine) as session:
        fp = _owned(session, organisation_id, footprint_id)
        record = session.get(CalculationRecord, fp.calculation_id) if fp.calculation_id else None
        product = fp.product
        return _view(
            fp,
            name=product.name,
            product_ids=tuple(product.product_ids),
            result=dict(record.result) if record is not None else {},
            provenance=dict(record.provenance) if record is not None else {},
            model_kept=record is not None and record.model_text is not None,
        )


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _shares(items: list[tuple[str, float, str]], total: float) -> tuple[Share, ...]:
    return tuple(
        Share(label=label, kg_co2e=kg, share=kg / total if total else 0.0, detail=detail)
        for label, kg, detail in items
    )


def _view(
    fp: Footprint,
    *,
    name: str,
    product_ids: tuple[str, ...],
    result: dict[str, Any],
    provenance: dict[str, Any],
    model_kept: bool = False,
) -> ProductView:
    doc = fp.document
    pcf = doc.get("pcf") or {}
    total = _num(result.get("kg_co2e"))
    stages = [(str(k), _num(v), "") for k, v in (result.get("by_stage_kg_co2e") or {}).items()]
    exchanges = sorted(
        (e for e in result.get("exchanges") or [] if _num(e.get("kg_co2e"))),
        key=lambda e: -abs(_num(e.get("kg_co2e"))),
    )[:TOP_CONTRIBUTORS]
    contributors = [
        (
            str(e.get("label", "")),
            _num(e.get("kg_co2e")),
            f"{e.get('process', '')} · {e.get('kind', '')} · {_num(e.get('amount')):g} "
            f"{e.get('unit', '')}".strip(),
        )
        for e in exchanges
    ]
    kg = result.get("by_gas_kg") or {}
    co2e = result.get("by_gas_kg_co2e") or {}
    gases = tuple(
        Gas(gas=g, kg=_num(kg.get(g)), kg_co2e=_num(co2e.get(g)))
        for g in sorted(set(kg) | set(co2e), key=lambda g: -abs(_num(co2e.get(g))))
    )
    split = tuple(
        (key, _num(result.get(f"{key}_kg_co2e")))
        for key in ("fossil", "biogenic", "biogenic_uptake", "land_use_change", "aircraft")
        if f"{key}_kg_co2e" in result
    )
    notes = [str(n) for n in result.get("notes") or []]
    by_stage = _shares(stages, total)
    return ProductView(
        footprint_id=str(fp.id),
        name=name,
        product_ids=product_ids,
        status=fp.status,
        spec_version=fp.spec_version,
        created=fp.created,
        period_start=fp.reference_period_start.date(),
        period_end=_inclusive_end(fp.reference_period_end),
        declared_unit=str(pcf.get("declaredUnitOfMeasurement") or pcf.get("declaredUnit") or ""),
        declared_amount=str(pcf.get("declaredUnitAmount") or pcf.get("unitaryProductAmount") or ""),
        pcf_total=str(
            pcf.get("pcfExcludingBiogenicUptake") or pcf.get("pcfExcludingBiogenic") or ""
        ),
        pcf_including_uptake=str(
            pcf.get("pcfIncludingBiogenicUptake") or pcf.get("pcfIncludingBiogenic") or ""
        ),
        model_total=total if "kg_co2e" in result else None,
        gwp=str(result.get("gwp") or provenance.get("gwp_set") or ""),
        boundary=str(pcf.get("boundaryProcessesDescription") or ""),
        by_stage=by_stage,
        contributors=_shares(contributors, total),
        gases=gases,
        split=split,
        dqr=dict(result.get("data_quality") or {}),
        primary_share=(
            _num(result["primary_data_share_percent"])
            if result.get("primary_data_share_percent") is not None
            else None
        ),
        illustrative=tuple(n for n in notes if " is illustrative" in n),
        secondary_sources=tuple(
            f"{s.get('name', '')} ({s.get('version', '')})".strip()
            for s in pcf.get("secondaryEmissionFactorSources") or []
            if isinstance(s, dict)
        ),
        substitutions=_substitutions(provenance.get("supplier_substitutions")),
        notes=tuple(n for n in notes if " is illustrative" not in n),
        comment=str(doc.get("comment") or ""),
        provenance=_provenance_rows(provenance),
        rules=provenance.get("rules"),
        conformance=_conformance(result.get("conformance")),
        chart=_chart(by_stage, total),
        model_kept=model_kept,
    )


#: Provenance members shown on the product page, in this order.
PROVENANCE_KEYS = (
    "model_sha256",
    "parameters_sha256",
    "factor_set",
    "factor_set_sha256",
    "factor_rows_sha256",
    "gwp_set",
    "gwp_source",
    "rules",
    "rules_sha256",
    "methodology",
    "methodology_sha256",
    "solver",
    "openpcf_version",
)


def _provenance_rows(provenance: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((k, str(provenance[k])) for k in PROVENANCE_KEYS if provenance.get(k))


def _substitutions(text: Any) -> tuple[dict[str, str], ...]:
    """The ``supplier_substitutions`` provenance member (canonical JSON of a list)."""
    if not isinstance(text, str) or not text:
        return ()
    try:
        rows = json.loads(text)
    except ValueError:
        return ()
    return tuple({str(k): str(v) for k, v in row.items()} for row in rows if isinstance(row, dict))


def _conformance(data: Any) -> dict[str, Any] | None:
    """A stored conformance (``conformance_dict``'s form) when the record carries one."""
    if not isinstance(data, dict):
        return None
    return {
        "rules": str(data.get("rules", "")),
        "version": str(data.get("version", "")),
        "conforms": bool(data.get("conforms")),
        "errors": int(_num(data.get("errors"))),
        "warnings": int(_num(data.get("warnings"))),
    }


def _chart(by_stage: tuple[Share, ...], total: float) -> dict[str, Any]:
    """The stage waterfall's data (``static/charts.js`` draws it): each stage's bar starts
    where the previous one ended; the last bar is the total."""
    labels, base, values = [], [], []
    running = 0.0
    for s in by_stage:
        labels.append(s.label)
        low = min(running, running + s.kg_co2e)
        base.append(round(low, 12))
        values.append(round(abs(s.kg_co2e), 12))
        running += s.kg_co2e
    return {
        "kind": "waterfall",
        "unit": "kg CO2e",
        "labels": labels,
        "base": base,
        "values": values,
        "total": round(total, 12),
    }
