"""Check a product model (and, when given, its calculation) against a rule set.

Each clause kind has one check returning the clause's status and findings; a finding names
the model file and line, the process where there is one, why the clause is broken and how to
fix it. Clauses that need numbers (data quality of the significant inputs, primary-data share)
are checked on the calculation and are "to confirm" without one; ``manual`` clauses are always
"to confirm": a verifier decides them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from openpcf.electricity.claims import load_claims
from openpcf.errors import InputError, RuleSetError
from openpcf.model.calculation import Calculation
from openpcf.model.conformance import ClauseStatus, Conformance, Finding, Status
from openpcf.model.loading import LoadedModel
from openpcf.model.schema import Input, Process
from openpcf.rules import schema as rs
from openpcf.rules.loading import LoadedRuleSet

#: the model's ``company_ids`` when none is given (schema default): not an identifier
UNKNOWN_COMPANY = "urn:openpcf:company:unknown"


def short_source(source: rs.Source) -> str:
    """``document, clause (year)``."""
    return f"{source.document}, {source.clause} ({source.year})"


def source_text(source: rs.Source) -> str:
    """``document, clause (year)``, saying where the text is not public, with the note."""
    text = short_source(source)
    if source.access == "not-public":
        text += f"; text not public: {source.note}"
    elif source.note:
        text += f"; {source.note}"
    return text


def check_product_class(rules: LoadedRuleSet, loaded: LoadedModel) -> None:
    """Refuse a rule set written for another product class.

    The product's CN code decides when both have one (a prefix of the rule set's codes);
    otherwise its names against the rule set's keywords.

    Raises
    ------
    RuleSetError
        Naming the model line (``product.cn_code`` or ``product.name``) and the class.
    """
    cls = rules.rules.product_class
    product = loaded.model.product
    code = re.sub(r"\D", "", product.cn_code or "")
    if code and cls.cn_codes:
        if any(code.startswith(c) or c.startswith(code) for c in cls.cn_codes):
            return
        raise RuleSetError(
            f"{loaded.where('product', 'cn_code')}: rule set {rules.rules.id!r} is for "
            f"{cls.name.en} (CN {', '.join(cls.cn_codes)}), not for CN {product.cn_code}; name "
            "the rule set of this product (openpcf rules list) or correct the CN code"
        )
    if cls.keywords and not code:
        names = f"{product.name} {product.name_zh}"
        if not any(re.search(k, names, re.IGNORECASE) for k in cls.keywords):
            raise RuleSetError(
                f"{loaded.where('product', 'name')}: rule set {rules.rules.id!r} is for "
                f"{cls.name.en}; the product {product.name!r} matches none of its names "
                f"({', '.join(cls.keywords)}); give product.cn_code or name another rule set"
            )


def check(
    rules: LoadedRuleSet,
    loaded: LoadedModel,
    calculation: Calculation | None = None,
    *,
    applied: dict[str, str] | None = None,
) -> Conformance:
    """The model's conformance to ``rules``, clause by clause.

    ``loaded`` is the model as calculated (with the rule set's choices applied when it was run
    under them); ``applied`` maps clause ids to the choice each made (``calc --rules``).
    """
    check_product_class(rules, loaded)
    ctx = _Context(rules=rules, loaded=loaded, calculation=calculation)
    statuses = []
    for clause in rules.rules.clauses:
        status, findings = _CHECKS[clause.kind](ctx, clause)
        statuses.append(
            ClauseStatus(
                clause=clause.id,
                kind=clause.kind,
                requirement=clause.requirement.en,
                requirement_zh=clause.requirement.zh,
                source=source_text(clause.source),
                short_source=short_source(clause.source),
                status=status,
                findings=tuple(findings),
                applied=(applied or {}).get(clause.id),
            )
        )
    r = rules.rules
    return Conformance(
        rules=r.id,
        version=r.version,
        title=r.title.en,
        title_zh=r.title.zh,
        sha256=rules.sha256,
        documents=tuple(r.documents),
        clauses=tuple(statuses),
        choices=tuple(f"{cid}: {what}" for cid, what in (applied or {}).items()),
    )


class _Context:
    def __init__(
        self, *, rules: LoadedRuleSet, loaded: LoadedModel, calculation: Calculation | None
    ) -> None:
        self.rules = rules
        self.loaded = loaded
        self.model = loaded.model
        self.calculation = calculation

    def where(self, *loc: str | int) -> str:
        return self.loaded.where(*loc)

    def finding(
        self,
        clause: rs._Clause,
        message: str,
        where: str,
        process: str | None = None,
    ) -> Finding:
        hint = clause.hint.en if clause.hint else ""
        return Finding(
            clause=clause.id,
            severity=clause.severity,
            message=message,
            hint=hint,
            source=short_source(clause.source),
            where=where,
            process=process,
        )

    def inputs(self) -> Iterator[tuple[int, Process, int, Input]]:
        for i, p in enumerate(self.model.processes):
            for k, inp in enumerate(p.inputs):
                yield i, p, k, inp


def _status(clause: rs._Clause, findings: list[Finding]) -> Status:
    if not findings:
        return "conforms"
    return "violated" if clause.severity == "error" else "warning"


Result = tuple[Status, list[Finding]]


def _declared_unit(ctx: _Context, c: rs.DeclaredUnitClause) -> Result:
    product = ctx.model.product
    found = []
    if product.declared_unit not in c.units:
        found.append(
            ctx.finding(
                c,
                f"the declared unit is {product.declared_unit!r}, the rule set asks for "
                f"{' or '.join(repr(u) for u in c.units)}",
                ctx.where("product", "declared_unit"),
            )
        )
    elif c.amounts and not any(abs(product.declared_amount - a) <= 1e-9 * a for a in c.amounts):
        found.append(
            ctx.finding(
                c,
                f"the declared amount is {product.declared_amount:g} {product.declared_unit}, "
                f"the rule set asks for {' or '.join(f'{a:g}' for a in c.amounts)}",
                ctx.where("product", "declared_amount"),
            )
        )
    return _status(c, found), found


def _boundary(ctx: _Context, c: rs.BoundaryClause) -> Result:
    if ctx.model.boundary in c.boundaries:
        return "conforms", []
    f = ctx.finding(
        c,
        f"the boundary is {ctx.model.boundary}, the rule set asks for {' or '.join(c.boundaries)}",
        ctx.where("boundary"),
    )
    return _status(c, [f]), [f]


def _stages(ctx: _Context, c: rs.StagesClause) -> Result:
    have = {p.stage for p in ctx.model.processes}
    found = [
        ctx.finding(
            c,
            f"no process in the mandatory stage {stage!r}",
            ctx.where("processes"),
        )
        for stage in c.stages
        if stage not in have
    ]
    return _status(c, found), found


def _input_texts(p: Process, inp: Input) -> list[str]:
    ref = getattr(inp, inp.kind)
    ref_text = ref if isinstance(ref, str) else ref.model_dump_json()
    return [p.id, p.name, inp.comment, ref_text]


def matches(m: rs.Matcher, loaded: LoadedModel) -> list[str]:
    """Where (file:line) the model has exchanges matching ``m``."""
    out = []
    patterns = [re.compile(t, re.IGNORECASE) for t in m.text]
    for i, p in enumerate(loaded.model.processes):
        if any(x.search(f"{p.id} {p.name} {p.comment}") for x in patterns):
            out.append(loaded.where("processes", i))
        for k, inp in enumerate(p.inputs):
            ref = getattr(inp, inp.kind)
            hit = inp.kind in m.kinds
            if isinstance(ref, str) and any(fnmatch.fnmatchcase(ref, g) for g in m.factors):
                hit = True
            if any(x.search(t) for x in patterns for t in _input_texts(p, inp)[2:]):
                hit = True
            if hit:
                out.append(loaded.where("processes", i, "inputs", k))
        for k, em in enumerate(p.emissions):
            if em.gas in m.gases or any(x.search(em.comment) for x in patterns):
                out.append(loaded.where("processes", i, "emissions", k))
    return out


def _mandatory_inputs(ctx: _Context, c: rs.InputsClause) -> Result:
    found = [
        ctx.finding(
            c,
            f"nothing in the model stands for {item.what.en} (item {item.id!r})",
            ctx.where("processes"),
        )
        for item in c.items
        if not matches(item.match, ctx.loaded)
    ]
    return _status(c, found), found


def _cutoff(ctx: _Context, c: rs.CutoffClause) -> Result:
    if ctx.model.cutoff_percent <= c.max_percent:
        return "conforms", []
    f = ctx.finding(
        c,
        f"the model's cut-off criterion is {ctx.model.cutoff_percent:g} %, above the "
        f"{c.max_percent:g} % the rule set allows",
        ctx.where("cutoff_percent"),
    )
    return _status(c, [f]), [f]


def _allocation(ctx: _Context, c: rs.AllocationClause) -> Result:
    patterns = [re.compile(x, re.IGNORECASE) for x in c.co_products]
    found = []
    seen = False
    for i, p in enumerate(ctx.model.processes):
        hits = [o.product for o in p.co_products if any(x.search(o.product) for x in patterns)]
        if not hits or p.allocation is None:
            continue
        seen = True
        if p.allocation.method not in c.methods:
            found.append(
                ctx.finding(
                    c,
                    f"process {p.id!r} allocates {', '.join(hits)} ({c.situation.en}) by "
                    f"{p.allocation.method}; the rule set asks for {' or '.join(c.methods)}",
                    ctx.where("processes", i, "allocation", "method"),
                    p.id,
                )
            )
    if not seen:
        return "not-applicable", []
    return _status(c, found), found


def _claims_of(ctx: _Context, ref: str) -> list[str] | None:
    """Instrument types of a claims file, or None when it cannot be read (the calculation
    reports that error itself)."""
    path = Path(ref)
    if not path.is_absolute():
        path = ctx.loaded.path.parent / path
    try:
        return [inst.type for inst in load_claims(path).instruments]
    except (InputError, OSError):
        return None


def _electricity(ctx: _Context, c: rs.ElectricityClause) -> Result:
    found = []
    any_electricity = False
    for i, p, k, inp in ctx.inputs():
        where = ctx.where("processes", i, "inputs", k)
        if inp.kind == "electricity":
            any_electricity = True
            continue
        if inp.kind != "electricity_claim" or inp.electricity_claim is None:
            continue
        any_electricity = True
        if c.method == "location":
            found.append(
                ctx.finding(
                    c,
                    f"process {p.id!r} uses market-based electricity ({inp.electricity_claim}); "
                    "the rule set is location-based (grid mix only)",
                    where,
                    p.id,
                )
            )
            continue
        types = _claims_of(ctx, inp.electricity_claim)
        if types is None:
            continue
        if not types:
            found.append(
                ctx.finding(
                    c,
                    f"process {p.id!r} claims market-based electricity "
                    f"({inp.electricity_claim}) without any certificate or contract",
                    where,
                    p.id,
                )
            )
        elif c.instruments:
            refused = sorted(set(types) - set(c.instruments))
            if refused:
                found.append(
                    ctx.finding(
                        c,
                        f"process {p.id!r} claims instruments of type {', '.join(refused)}; "
                        f"the rule set accepts {', '.join(c.instruments)}",
                        where,
                        p.id,
                    )
                )
    if not any_electricity:
        return "not-applicable", []
    return _status(c, found), found


def _recycled(ctx: _Context, c: rs.RecycledContentClause) -> Result:
    if not any(inp.recycled is not None for _, _, _, inp in ctx.inputs()):
        return "not-applicable", []
    method = ctx.model.recycled_content_method
    if method in c.methods:
        return "conforms", []
    f = ctx.finding(
        c,
        f"recycled content is modelled with the {method} method; the rule set asks for "
        f"{' or '.join(c.methods)}",
        ctx.where("recycled_content_method"),
    )
    return _status(c, [f]), [f]


def _significant(ctx: _Context, percent: float) -> list[tuple[str, str, float]]:
    """(where, process, share) of the exchanges bringing at least ``percent`` of the total."""
    assert ctx.calculation is not None
    result = ctx.calculation.result
    scale = sum(abs(x.co2e) for x in result.exchanges) or 1.0
    return [
        (x.where, x.process, abs(x.co2e) / scale)
        for x in result.exchanges
        if abs(x.co2e) / scale * 100.0 >= percent and x.kind != "emission"
    ]


def _data_quality(ctx: _Context, c: rs.DataQualityClause) -> Result:
    if ctx.calculation is None:
        return "to-confirm", []
    pedigrees = {e.where: e.pedigree for e in ctx.calculation.compiled.entries}
    found = []
    for where, process, share in _significant(ctx, c.significant_percent):
        ped = pedigrees.get(where)
        if ped is None:
            found.append(
                ctx.finding(
                    c,
                    f"an input of process {process!r} brings {share:.2%} of the footprint and "
                    "has no quality: scores",
                    where,
                    process,
                )
            )
            continue
        worst = {
            name: getattr(ped, name)
            for name in ("reliability", "completeness", "temporal", "geographical", "technological")
            if getattr(ped, name) > c.max_score
        }
        if worst:
            scores = ", ".join(f"{k} {v}" for k, v in worst.items())
            found.append(
                ctx.finding(
                    c,
                    f"an input of process {process!r} brings {share:.2%} of the footprint with "
                    f"quality scores {scores}, worse than {c.max_score}",
                    where,
                    process,
                )
            )
    return _status(c, found), found


def _primary(ctx: _Context, c: rs.PrimaryDataClause) -> Result:
    found = []
    patterns = [re.compile(x, re.IGNORECASE) for x in c.processes]
    for i, p in enumerate(ctx.model.processes):
        if not any(rx.search(f"{p.id} {p.name}") for rx in patterns):
            continue
        if not any(x.primary for x in p.inputs) and not any(e.primary for e in p.emissions):
            found.append(
                ctx.finding(
                    c,
                    f"process {p.id!r} must be modelled with primary (site) data; none of "
                    "its exchanges is marked primary: true",
                    ctx.where("processes", i),
                    p.id,
                )
            )
    if c.min_share > 0:
        if ctx.calculation is None:
            return ("to-confirm" if not found else _status(c, found)), found
        share = ctx.calculation.result.primary_data_share / 100.0
        if share + 1e-12 < c.min_share:
            found.append(
                ctx.finding(
                    c,
                    f"{share:.1%} of the footprint comes from primary data, less than the "
                    f"{c.min_share:.0%} required",
                    ctx.where("processes"),
                )
            )
    return _status(c, found), found


def _gwp(ctx: _Context, c: rs.GwpClause) -> Result:
    used = ctx.calculation.compiled.gwp.id if ctx.calculation is not None else ctx.model.gwp
    if used in c.sets:
        return "conforms", []
    f = ctx.finding(
        c, f"the GWP set is {used}, the rule set asks for {' or '.join(c.sets)}", ctx.where("gwp")
    )
    return _status(c, [f]), [f]


def _months(start: dt.date, end: dt.date) -> float:
    return ((end - start).days + 1) / (365.25 / 12)


def _reporting(ctx: _Context, c: rs.ReportingClause) -> Result:
    m = ctx.model
    product = m.product
    Loc = tuple[str | int, ...]
    missing: list[tuple[str, Loc]] = []
    top: Loc = ("product",)
    checks: dict[str, Callable[[], list[tuple[str, Loc]]]] = {
        "cn_code": lambda: [] if product.cn_code else [("the product's CN code", top)],
        "cpc": lambda: [] if product.cpc else [("the product's CPC code", top)],
        "description": lambda: [] if product.description else [("a description", top)],
        "name_zh": lambda: [] if product.name_zh else [("the Chinese name", top)],
        "company_ids": lambda: (
            [("the company's identifiers", top)]
            if list(product.company_ids) == [UNKNOWN_COMPANY]
            else []
        ),
        "geography": lambda: [] if product.geography else [("the geography", top)],
        "exclusions_justified": lambda: [
            (f"a justification of exclusion {k + 1}", ("exclusions", k))
            for k, text in enumerate(m.exclusions)
            if len(text.split()) < 3
        ],
        "allocation_justified": lambda: [
            (f"the justification of process {p.id!r}'s allocation", ("processes", i, "allocation"))
            for i, p in enumerate(m.processes)
            if p.allocation is not None and not p.allocation.justification
        ],
        "quality_scores": lambda: [
            (f"quality: scores on input {k + 1} of process {p.id!r}", ("processes", i, "inputs", k))
            for i, p in enumerate(m.processes)
            for k, inp in enumerate(p.inputs)
            if inp.quality is None
        ],
    }
    for name in c.fields:
        missing += checks[name]()
    found = [
        ctx.finding(c, f"the model does not give {what}", ctx.where(*at)) for what, at in missing
    ]
    if c.max_period_months is not None:
        period = product.reference_period
        months = _months(period.start, period.end)
        if months > c.max_period_months + 0.5:
            found.append(
                ctx.finding(
                    c,
                    f"the reference period covers {months:.0f} months, more than the "
                    f"{c.max_period_months} allowed",
                    ctx.where("product", "reference_period"),
                )
            )
    return _status(c, found), found


def _manual(ctx: _Context, c: rs.ManualClause) -> Result:
    del ctx
    return "to-confirm", []


_CHECKS: dict[str, Callable[..., Result]] = {
    "declared_unit": _declared_unit,
    "boundary": _boundary,
    "mandatory_stages": _stages,
    "mandatory_inputs": _mandatory_inputs,
    "cutoff": _cutoff,
    "allocation": _allocation,
    "electricity": _electricity,
    "recycled_content": _recycled,
    "data_quality": _data_quality,
    "primary_data": _primary,
    "gwp": _gwp,
    "reporting": _reporting,
    "manual": _manual,
}
assert set(_CHECKS) == set(rs.CLAUSE_KINDS)

__all__ = ["RuleSetError", "check", "check_product_class", "matches", "source_text"]
