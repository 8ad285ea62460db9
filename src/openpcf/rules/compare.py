"""The same product under two methodologies: both footprints and where the difference comes from.

``openpcf compare`` calculates a model under methodology A and under methodology B (each a
:class:`~openpcf.rules.apply.Methodology`, possibly expanded from a rule set) and decomposes
``f(B) - f(A)`` into the effect of each modelling choice. The choices are grouped into
dimensions, always taken in this fixed order (:data:`DIMENSIONS`)::

    1 factors           extra factor sets (factor_files)
    2 gwp               the GWP set
    3 allocation        allocation method per multi-output process
    4 electricity       location- or market-based, and the claims file
    5 recycled content  cut-off, 50-50 or cff
    6 cut-off           cut-off criterion (percent per input, percent in all)
    7 boundary          the life-cycle stages counted

For each dimension ``d`` in which A and B differ, its **effect** is the change of the total when
only that choice is switched, from A to B, with every other choice kept at A's::

    effect_d = f(A with d taken from B) - f(A)

(one at a time from A, so the order only fixes the order of the rows, never a number). Choices
interact (an allocation share multiplies an electricity factor, so switching both at once
differs from the sum of switching each), and what the one-at-a-time effects leave unexplained
is the **interaction**::

    interaction = f(B) - f(A) - sum_d effect_d

so the effects and the interaction sum to the difference exactly (checked to within
``1e-9 * max|f|`` for floating-point rounding). With A and B differing in one dimension only,
the interaction is zero.

This module is pure: the footprint function ``f`` is given (:mod:`openpcf.services.compare`
calculates it); parsing the command line's ``KEY=VALUE`` choices lives here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from openpcf.errors import InputError
from openpcf.methods.gwp import gwp_set
from openpcf.model.loading import LoadedModel
from openpcf.model.schema import BOUNDARY_STAGES
from openpcf.rules.apply import Methodology

#: relative tolerance of the check "effects + interaction = difference"
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Dimension:
    """One group of modelling choices: its name and the :class:`Methodology` fields it sets."""

    name: str
    fields: tuple[str, ...]


#: The dimensions, in the fixed order in which they are reported.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("factors", ("factor_files",)),
    Dimension("gwp", ("gwp",)),
    Dimension("allocation", ("allocation",)),
    Dimension("electricity", ("electricity", "electricity_claim")),
    Dimension("recycled content", ("recycled_content",)),
    Dimension("cut-off", ("cutoff_percent", "cutoff_total_percent")),
    Dimension("boundary", ("boundary",)),
)

ALLOCATION_METHODS = ("mass", "energy", "economic", "substitution")
RECYCLED_METHODS = ("cut-off", "50-50", "cff")

#: The keys of ``--a`` / ``--b`` and what they take (for help texts and errors).
KEYS: dict[str, str] = {
    "rules": "rule-set id (or id@version)",
    "gwp": "GWP set (AR6, AR5, AR5-CCF, AR4)",
    "allocation": f"allocation of every multi-output process ({', '.join(ALLOCATION_METHODS)})",
    "allocation.PROCESS": "allocation of one process",
    "electricity": "location, market or market:CLAIMS.yaml",
    "recycled": f"recycled content ({', '.join(RECYCLED_METHODS)})",
    "cutoff": "cut-off percent per input (PERCENT or PERCENT/TOTAL_PERCENT)",
    "boundary": f"boundary ({', '.join(BOUNDARY_STAGES)})",
    "factors": "extra factor set file (repeatable)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    """One side of a comparison: a rule set (optional) and explicit choices.

    ``methodology`` holds the explicit choices only; :meth:`expanded` merges them over the rule
    set's.
    """

    label: str = "A"
    rules: str | None = None
    methodology: Methodology = field(default_factory=Methodology)

    def expanded(self, from_rules: Methodology | None) -> Methodology:
        """The rule set's choices (``from_rules``) with this side's explicit ones over them."""
        return merge(from_rules or Methodology(), self.methodology)


def merge(base: Methodology, extra: Methodology) -> Methodology:
    """``base`` with every choice ``extra`` makes (allocation merged per process)."""
    changes: dict[str, object] = {
        name: getattr(extra, name)
        for dim in DIMENSIONS
        for name in dim.fields
        if getattr(extra, name) not in (None, (), {})
    }
    changes["allocation"] = {**base.allocation, **extra.allocation}
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """One dimension in which the two methodologies differ."""

    dimension: str
    a_value: str
    b_value: str
    #: the total with only this dimension switched to B's
    switched_total: float
    #: ``switched_total - a_total`` (kg CO2e per declared unit)
    effect: float
    #: ``effect / difference`` (None when the difference is 0)
    share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Both footprints and the decomposition of their difference (see the module docstring)."""

    a_label: str
    b_label: str
    a_description: tuple[str, ...]
    b_description: tuple[str, ...]
    a_total: float
    b_total: float
    unit: str
    effects: tuple[Effect, ...]
    interaction: float
    order: tuple[str, ...] = tuple(d.name for d in DIMENSIONS)

    @property
    def difference(self) -> float:
        return self.b_total - self.a_total

    @property
    def interaction_share(self) -> float | None:
        return _share(self.interaction, self.difference)

    @property
    def explained(self) -> float:
        """Sum of the effects and the interaction (equals :attr:`difference`)."""
        return sum(e.effect for e in self.effects) + self.interaction

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``openpcf compare --json``)."""
        return {
            "unit": self.unit,
            "a": {
                "label": self.a_label,
                "methodology": list(self.a_description),
                "total": self.a_total,
            },
            "b": {
                "label": self.b_label,
                "methodology": list(self.b_description),
                "total": self.b_total,
            },
            "difference": self.difference,
            "order": list(self.order),
            "effects": [
                {
                    "dimension": e.dimension,
                    "a": e.a_value,
                    "b": e.b_value,
                    "switched_total": e.switched_total,
                    "effect": e.effect,
                    "share": e.share,
                }
                for e in self.effects
            ],
            "interaction": self.interaction,
            "interaction_share": self.interaction_share,
            "sum_of_effects": self.explained,
        }


def decompose(
    a: Methodology,
    b: Methodology,
    f: Callable[[Methodology], float],
    *,
    a_label: str = "A",
    b_label: str = "B",
    a_description: Iterable[str] = (),
    b_description: Iterable[str] = (),
    as_written: Mapping[str, str] | None = None,
    unit: str = "kg CO2e",
) -> Comparison:
    """The decomposition of ``f(b) - f(a)`` by dimension, one at a time from ``a``.

    ``as_written``: dimension name → the model's own choice, shown where a side keeps it.

    Raises
    ------
    ArithmeticError
        The parts do not sum to the difference (a bug, never the input's fault).
    """
    own = as_written or {}
    a_total = f(a)
    b_total = f(b)
    totals = [a_total, b_total]
    effects = []
    for dim in DIMENSIONS:
        if not differs(a, b, dim):
            continue
        switched = f(replace(a, **{n: getattr(b, n) for n in dim.fields}))
        totals.append(switched)
        effects.append(
            Effect(
                dimension=dim.name,
                a_value=value_text(a, dim, own.get(dim.name)),
                b_value=value_text(b, dim, own.get(dim.name)),
                switched_total=switched,
                effect=switched - a_total,
                share=None,
            )
        )
    difference = b_total - a_total
    interaction = difference - sum(e.effect for e in effects)
    effects = [replace(e, share=_share(e.effect, difference)) for e in effects]
    result = Comparison(
        a_label=a_label,
        b_label=b_label,
        a_description=tuple(a_description) or describe(a),
        b_description=tuple(b_description) or describe(b),
        a_total=a_total,
        b_total=b_total,
        unit=unit,
        effects=tuple(effects),
        interaction=interaction,
    )
    scale = max(abs(t) for t in totals)
    if abs(result.explained - difference) > TOLERANCE * scale:
        raise ArithmeticError(
            f"effects and interaction sum to {result.explained!r}, not the difference "
            f"{difference!r}"
        )
    return result


def differs(a: Methodology, b: Methodology, dim: Dimension) -> bool:
    """Whether ``a`` and ``b`` make different choices in ``dim``."""
    return any(_norm(getattr(a, n)) != _norm(getattr(b, n)) for n in dim.fields)


def _norm(value: object) -> object:
    if isinstance(value, Mapping):
        return sorted(value.items())
    return value


def _share(part: float, whole: float) -> float | None:
    return part / whole + 0.0 if whole != 0 else None


def describe(m: Methodology) -> tuple[str, ...]:
    """The choices of ``m`` (files named relative to the current folder where under it), or
    that the model is taken as written."""
    shown = replace(
        m,
        electricity_claim=_shown(m.electricity_claim) if m.electricity_claim else None,
        factor_files=tuple(_shown(f) for f in m.factor_files),
    )
    return tuple(shown.describe()) or ("the model as written",)


def _shown(path: str) -> str:
    p = Path(path)
    try:
        return str(p.relative_to(Path.cwd())) if p.is_absolute() else path
    except ValueError:
        return path


def value_text(m: Methodology, dim: Dimension, own: str | None = None) -> str:
    """What ``m`` chooses in ``dim`` (``own``: the model's choice, when ``m`` keeps it)."""
    kept = f"as written ({own})" if own else "as written"
    name = dim.name
    if name == "factors":
        return ", ".join(_shown(f) for f in m.factor_files) or "none extra"
    if name == "gwp":
        return m.gwp or kept
    if name == "allocation":
        if not m.allocation:
            return kept
        text = ", ".join(
            f"{'every process' if k == '*' else k}: {v}" for k, v in sorted(m.allocation.items())
        )
        return f"{text} (otherwise {own})" if own and "*" not in m.allocation else text
    if name == "electricity":
        if m.electricity is None:
            return kept
        claim = f" ({Path(m.electricity_claim).name})" if m.electricity_claim else ""
        return f"{m.electricity}-based{claim}"
    if name == "recycled content":
        return m.recycled_content or kept
    if name == "cut-off":
        if m.cutoff_percent is None:
            return "none"
        total = (
            f", at most {m.cutoff_total_percent:g} % in all"
            if m.cutoff_total_percent is not None
            else ""
        )
        return f"inputs under {m.cutoff_percent:g} %{total}"
    return m.boundary or kept


def as_written(loaded: LoadedModel) -> dict[str, str]:
    """The model's own choice in each dimension, as text (for the rows of a side keeping it)."""
    model = loaded.model
    allocation = ", ".join(
        f"{p.id}: {p.allocation.method}" for p in model.processes if p.allocation is not None
    )
    grids = sorted(
        {
            f"grid {i.electricity.geography} {i.electricity.year}"
            for p in model.processes
            for i in p.inputs
            if i.kind == "electricity" and i.electricity is not None
        }
        | {
            f"claims {i.electricity_claim}"
            for p in model.processes
            for i in p.inputs
            if i.kind == "electricity_claim"
        }
    )
    return {
        "gwp": model.gwp,
        "allocation": allocation or "no multi-output process",
        "electricity": "; ".join(grids) or "no electricity input",
        "recycled content": model.recycled_content_method,
        "boundary": model.boundary,
    }


# -- KEY=VALUE choices (``--a`` / ``--b``) ----------------------------------------------------


def parse_side(pairs: Iterable[str], *, label: str = "A", option: str = "--a") -> Side:
    """A side from ``KEY=VALUE`` texts (the keys of :data:`KEYS`).

    Paths (``factors=``, ``electricity=market:FILE``) are made absolute against the current
    folder. Raises :class:`InputError` naming the option and the text for an unknown key or a
    bad value.
    """
    rules: str | None = None
    allocation: dict[str, str] = {}
    kwargs: dict[str, object] = {}
    factor_files: list[str] = []
    for text in pairs:
        key, sep, value = (s.strip() for s in text.partition("="))
        where = f"{option} {text!r}"
        if not sep or not key or not value:
            raise InputError(f"{where}: give KEY=VALUE, keys: {', '.join(KEYS)}")
        if key == "rules":
            rules = value
        elif key == "gwp":
            kwargs["gwp"] = _gwp(value, where)
        elif key == "allocation" or key.startswith("allocation."):
            process = key.partition(".")[2] or "*"
            if value not in ALLOCATION_METHODS:
                raise InputError(
                    f"{where}: allocation method {value!r}; use {_or(ALLOCATION_METHODS)}"
                )
            allocation[process] = value
        elif key == "electricity":
            kwargs.update(_electricity(value, where))
        elif key == "recycled":
            if value not in RECYCLED_METHODS:
                raise InputError(
                    f"{where}: recycled-content method {value!r}; use {_or(RECYCLED_METHODS)}"
                )
            kwargs["recycled_content"] = value
        elif key == "cutoff":
            kwargs.update(_cutoff(value, where))
        elif key == "boundary":
            if value not in BOUNDARY_STAGES:
                raise InputError(f"{where}: boundary {value!r}; use {_or(tuple(BOUNDARY_STAGES))}")
            kwargs["boundary"] = value
        elif key == "factors":
            path = Path(value)
            if not path.is_file():
                raise InputError(f"{where}: no such factor set file")
            factor_files.append(str(path.resolve()))
        else:
            raise InputError(f"{where}: unknown key {key!r}; keys: {', '.join(KEYS)}")
    methodology = Methodology(
        allocation=allocation,
        factor_files=tuple(factor_files),
        **kwargs,  # type: ignore[arg-type]
    )
    return Side(label=label, rules=rules, methodology=methodology)


def _or(options: tuple[str, ...]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1]


def _gwp(value: str, where: str) -> str:
    try:
        return gwp_set(value).id
    except InputError as e:
        raise InputError(f"{where}: {e}") from None


def _electricity(value: str, where: str) -> dict[str, object]:
    method, _, claim = value.partition(":")
    if method == "location" and not claim:
        return {"electricity": "location"}
    if method == "market":
        if not claim:
            return {"electricity": "market"}
        path = Path(claim)
        if not path.is_file():
            raise InputError(f"{where}: no such electricity claims file {claim!r}")
        return {"electricity": "market", "electricity_claim": str(path.resolve())}
    raise InputError(f"{where}: electricity is location, market or market:CLAIMS.yaml")


def _cutoff(value: str, where: str) -> dict[str, object]:
    one, _, total = value.partition("/")
    try:
        percent = float(one.rstrip("% "))
        total_percent = float(total.rstrip("% ")) if total else None
    except ValueError:
        raise InputError(
            f"{where}: cut-off is PERCENT or PERCENT/TOTAL_PERCENT, e.g. 1/5"
        ) from None
    if not 0 <= percent <= 100 or (total_percent is not None and not 0 <= total_percent <= 100):
        raise InputError(f"{where}: a cut-off percent is from 0 to 100")
    return {"cutoff_percent": percent, "cutoff_total_percent": total_percent}
