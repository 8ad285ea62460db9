"""``openpcf uncertainty``: the footprint's uncertainty, analytic or by Monte Carlo, and its
Sobol indices (``--sobol``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openpcf.cli.options import (
    FactorsOpt,
    GwpOpt,
    ModelArg,
    ParamOpt,
    SolverOpt,
    calculation_options,
)

if TYPE_CHECKING:
    from openpcf.model.compiler import CompiledModel
    from openpcf.model.sobol import Sobol
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
            help="Also propagate the distributions stored with the databases that background: "
            "inputs come from (analytic, --monte-carlo, and --sobol, which ranks their "
            "entries with the model's own inputs); --no-background leaves them out.",
        ),
    ] = True,
    sobol: Annotated[
        bool,
        typer.Option(
            "--sobol",
            help="Sobol indices (SALib) of the --top inputs with the largest analytic variance "
            "share; needs the sensitivity extra.",
        ),
    ] = False,
    sobol_n: Annotated[
        int, typer.Option("--sobol-n", min=2, help="Base sample N, a power of 2 (N·(D+2) runs).")
    ] = 1024,
    top: Annotated[
        int, typer.Option("--top", min=1, help="--sobol: inputs kept by the screening.")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    gwp: GwpOpt = None,
    param: ParamOpt = None,
    factors: FactorsOpt = None,
    solver: SolverOpt = "auto",
) -> None:
    """Uncertainty of a product's footprint from its uncertainty: data (docs/uncertainty.md)."""
    from openpcf.services.uncertainty import uncertainty as propagate

    result = propagate(
        model,
        compare=compare,
        monte_carlo=monte_carlo or (seed is not None and not sobol),
        seed=seed,
        tolerance=tolerance,
        max_iterations=iterations_max,
        background=background,
        sobol_indices=sobol,
        sobol_n=sobol_n,
        top=top,
        **calculation_options(gwp, param, factors, solver, None),
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
        if part.get("sobol"):
            _echo_sobol(part["sobol"])
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
    if result.sobol is not None:
        out["sobol"] = _sobol(result.sobol, result.calculation.compiled)
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


def _echo_sobol(doc: dict[str, Any]) -> None:
    """The Sobol table: one row per kept input, by decreasing total index."""
    typer.echo(
        f"  Sobol indices (SALib, Saltelli N={doc['n']}, {doc['evaluations']} evaluations, "
        f"seed {doc['seed']}; ± 95% bootstrap):"
    )
    width = max(len("input"), *(len(i["label"]) for i in doc["indices"]))
    typer.echo(f"  {'input':<{width}}  {'share':>7}  {'S1':>16}  {'ST':>16}")
    for i in doc["indices"]:
        typer.echo(
            f"  {i['label']:<{width}}  {i['analytic_share']:>7.3f}  "
            f"{i['S1']:>7.3f} ± {i['S1_conf']:<6.3f}  {i['ST']:>7.3f} ± {i['ST_conf']:.3f}"
        )
    out = doc["screened_out"]
    if out:
        total = sum(out.values())
        names = ", ".join(f"{k} ({v:.2g})" for k, v in out.items())
        typer.echo(
            f"  screened out (held at their median; analytic share {total:.3g} in all): {names}"
        )


def _sobol(g: Sobol, compiled: CompiledModel) -> dict[str, Any]:
    """The indices as JSON; each input with its key and its label (a database entry as
    ``database › process › flow``)."""
    from openpcf.model.database_inputs import input_label

    return {
        "method": "Saltelli sampling, SALib sobol analyze (first order and total)",
        "seed": g.seed,
        "n": g.n,
        "evaluations": g.evaluations,
        "mean": g.mean,
        "variance": g.variance,
        "indices": [
            {
                "input": i.key,
                "label": input_label(compiled, i.key),
                "analytic_share": i.share,
                "S1": i.s1,
                "S1_conf": i.s1_conf,
                "ST": i.st,
                "ST_conf": i.st_conf,
            }
            for i in g.indices
        ],
        "screened_out": dict(g.screened_out),
    }


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
