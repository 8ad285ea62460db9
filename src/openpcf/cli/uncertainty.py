"""``openpcf uncertainty``: the footprint's uncertainty, analytic or by Monte Carlo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import FactorsOpt, GwpOpt, ModelArg, ParamOpt, calculation_options

if TYPE_CHECKING:
    from openpcf.services.uncertainty import UncertaintyResult


def uncertainty(
    model: ModelArg,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second model: P(this one is lower).")
    ] = None,
    monte_carlo: Annotated[
        bool, typer.Option("--monte-carlo", help="Sample (default: analytic first order).")
    ] = False,
    iterations_max: Annotated[int, typer.Option("--iterations-max", min=1)] = 100_000,
    tolerance: Annotated[float, typer.Option("--tolerance", min=1e-9)] = 0.01,
    seed: Annotated[int | None, typer.Option("--seed", min=0)] = None,
    background: Annotated[
        bool,
        typer.Option(
            "--background/--no-background",
            help="Monte Carlo: also sample the distributions stored with the databases that "
            "background: inputs come from.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    factors: FactorsOpt = None,
) -> None:
    """Uncertainty of a product's footprint from its uncertainty: data (docs/uncertainty.md)."""
    from openpcf.services.uncertainty import uncertainty as propagate

    result = propagate(
        model,
        compare=compare,
        monte_carlo=monte_carlo or seed is not None,
        seed=seed,
        tolerance=tolerance,
        max_iterations=iterations_max,
        background=background,
        **calculation_options(gwp, param, factors, "auto", None),
    )
    doc = to_dict(result)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    for name, part in (("model", doc), ("compared", doc.get("compared"))):
        if part is None:
            continue
        a = part["analytic"]
        typer.echo(
            f"{name} {part['product']}: {a['deterministic']:.6g} kg CO2e; analytic mean "
            f"{a['mean']:.6g}, sd {a['sd']:.3g}, 95% [{a['p2_5']:.6g}, {a['p97_5']:.6g}]"
        )
        if a["ignored"]:
            left = ", ".join(f"{n} of {ref}" for ref, n in a["ignored"].items())
            typer.echo(f"  the analytic sd leaves out the database distributions ({left})")
        mc = part.get("monte_carlo")
        if mc:
            p = mc["percentiles"]
            typer.echo(
                f"  Monte Carlo: mean {mc['mean']:.6g} ± {mc['standard_error']:.2g}, 95% "
                f"[{p['2.5']:.6g}, {p['97.5']:.6g}], {mc['iterations']} iterations"
                f"{'' if mc['converged'] else ' (not converged)'}, seed {mc['seed']}"
            )
    for db in doc["databases"]:
        note = f": {db['note']}" if db["note"] else ""
        typer.echo(
            f"database {db['ref']}: {db['sampled']} of {db['entries']} entries with a "
            f"distribution sampled{note}"
        )
    if "comparison" in doc:
        typer.echo(f"P(model lower than compared) = {doc['comparison']['p_a_lower']:.4f}")


def to_dict(result: UncertaintyResult) -> dict[str, Any]:
    """The result as JSON-ready data (samples left out; the seed reproduces them)."""
    a = result.analytic
    out: dict[str, Any] = {
        "product": result.calculation.result.product,
        "footprint_id": str(result.calculation.footprint_id),
        "analytic": {
            "method": "first-order Taylor around the inputs' means",
            "deterministic": a.deterministic,
            "mean": a.mean,
            "sd": a.sd,
            "p2_5": a.p2_5,
            "p97_5": a.p97_5,
            "variance_shares": dict(a.contributions),
            "ignored": dict(a.ignored),
        },
        "databases": [
            {"ref": d.ref, "entries": d.entries, "sampled": d.sampled, "note": d.note}
            for d in result.databases
        ],
    }
    mc = result.monte_carlo
    if mc is not None:
        out["monte_carlo"] = _mc(mc)
    if result.other is not None and result.comparison is not None:
        out["compared"] = to_dict(result.other)
        c = result.comparison
        out["comparison"] = {
            "p_a_lower": c.p_a_lower,
            "standard_error": c.standard_error,
            "analytic_p_a_lower": c.analytic_p_a_lower,
            "difference": _mc(c.difference) if c.difference is not None else None,
        }
    return out


def _mc(mc: Any) -> dict[str, Any]:
    return {
        "seed": mc.seed,
        "iterations": mc.iterations,
        "converged": mc.converged,
        "tolerance": mc.tolerance,
        "mean": mc.mean,
        "sd": mc.sd,
        "standard_error": mc.standard_error,
        "percentiles": dict(mc.percentiles),
        "histogram": {"edges": list(mc.histogram_edges), "counts": list(mc.histogram_counts)},
    }
