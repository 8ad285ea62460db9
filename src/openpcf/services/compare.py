"""``openpcf compare``: one model under two methodologies, and the difference decomposed.

The decomposition itself is :func:`openpcf.rules.compare.decompose` (dimensions in a fixed
order, one at a time from A, plus interaction); this use case supplies its footprint function:
each variant is one :func:`~openpcf.services.calculate.calculate` of the model with that
variant's :class:`~openpcf.rules.apply.Methodology`, the boundary evaluated on the result's
stages (:func:`~openpcf.rules.apply.boundary_total`; ``calculate`` does not apply it), and
identical variants calculated once, all of them inside one
:func:`~openpcf.model.recalculation.recalculating` block (variants on the same background
reuse its work; the results are those of fresh calculations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Unpack

from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.recalculation import recalculating
from openpcf.rules.apply import Methodology, boundary_total, from_rules
from openpcf.rules.compare import Comparison, Side, as_written, decompose, describe, parse_side
from openpcf.services.calculate import CalculationOptions, calculate, rule_set_for

#: A side: a :class:`Side`, a :class:`Methodology` (no rule set) or ``KEY=VALUE`` choices as
#: ``openpcf compare --a`` takes them (a mapping, or texts ``"KEY=VALUE"``).
SideSpec = Side | Methodology | Mapping[str, str] | Iterable[str]


def compare_methodologies(
    model: Path | str | LoadedModel,
    a: SideSpec,
    b: SideSpec,
    **options: Unpack[CalculationOptions],
) -> Comparison:
    """Footprints of ``model`` under methodologies ``a`` and ``b``, and the difference
    decomposed by modelling choice.

    Each side is the model **as written plus that side's choices**: a side's rule set
    (``rules=ID``) expands to the choices its clauses make for this model
    (:func:`~openpcf.rules.apply.from_rules`), with the side's explicit choices over them. The
    model's own ``rules:`` does *not* apply to either side (it would silently change both and
    hide its own effect): to compare under it, name it on a side. A ``rules`` option is refused
    for the same reason; ``rule_files`` are where the sides' rule-set ids are looked up, and the
    other options (parameters, extra factor sets, GWP default, solver, settings) hold for both.

    Raises
    ------
    InputError
        A bad choice (unknown key, process, method; a rule set for another product class),
        or anything :func:`calculate` refuses.
    """
    if options.get("rules"):
        raise TypeError("compare_methodologies takes the rule sets on the sides, not rules=")
    options = {k: v for k, v in options.items() if k != "rules"}  # type: ignore[assignment]
    original = model if isinstance(model, LoadedModel) else load_model(model)
    # the model as written, without its own rule set (see the docstring)
    loaded = replace(original, model=original.model.model_copy(update={"rules": None}))
    side_a = _side(a, "A")
    side_b = _side(b, "B")
    m_a = _expanded(side_a, original, options)
    m_b = _expanded(side_b, original, options)
    cache: dict[str, float] = {}
    by_stage: dict[str, Mapping[str, float]] = {}
    totals: dict[str, float] = {}
    product = original.model.product
    unit = f"kg CO2e per {product.declared_amount:g} {product.declared_unit}"

    def f(m: Methodology) -> float:
        key = m.sha256()
        if key not in cache:
            calc_m = replace(m, boundary=None)  # calculate does not apply it: done below
            inner = calc_m.sha256()
            if inner not in by_stage:
                result = calculate(loaded, **options, methodology=calc_m).result
                by_stage[inner] = result.by_stage
                totals[inner] = result.total
            cache[key] = (
                boundary_total(by_stage[inner], m.boundary)
                if m.boundary is not None
                else totals[inner]
            )
        return cache[key]

    with recalculating():
        return decompose(
            m_a,
            m_b,
            f,
            a_label=side_a.label,
            b_label=side_b.label,
            a_description=_description(side_a, m_a),
            b_description=_description(side_b, m_b),
            as_written=as_written(original),
            unit=unit,
        )


def _side(spec: SideSpec, label: str) -> Side:
    if isinstance(spec, Side):
        return spec
    if isinstance(spec, Methodology):
        return Side(label=label, methodology=spec)
    if isinstance(spec, Mapping):
        return parse_side([f"{k}={v}" for k, v in spec.items()], label=label, option=label)
    texts = [spec] if isinstance(spec, str) else list(spec)
    return parse_side(texts, label=label, option=f"--{label.lower()}")


def _expanded(side: Side, loaded: LoadedModel, options: CalculationOptions) -> Methodology:
    if side.rules is None:
        return side.methodology
    ruleset = rule_set_for(
        loaded,
        side.rules,
        rule_files=options.get("rule_files", ()),
        settings=options.get("settings"),
    )
    assert ruleset is not None  # a rules id was given
    return side.expanded(from_rules(ruleset, loaded).methodology)


def _description(side: Side, m: Methodology) -> tuple[str, ...]:
    lines = describe(m)
    if side.rules is None:
        return lines
    own = () if side.methodology.empty else tuple(side.methodology.describe())
    head = f"rule set {side.rules}" + (" with explicit choices over it" if own else "")
    return (head, *(() if lines == ("the model as written",) else lines))
