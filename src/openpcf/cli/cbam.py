"""``openpcf cbam``: EU CBAM default values, installation calculations and importer costs.

Thin on purpose: parse arguments, call :mod:`openpcf.cbam`, print. Heavy imports happen inside
the command bodies. Errors are not caught here: the main CLI translates every
:class:`~openpcf.errors.OpenPCFError` once (register with
``app.add_typer(cbam.app, name="cbam")`` in ``cli/main.py``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json

if TYPE_CHECKING:
    from openpcf.cbam import CbamResult, ImportsAssessment

app = typer.Typer(
    help="EU CBAM: default values, embedded emissions, communication to importers.",
    no_args_is_help=True,
)


class CalcFormat(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"


class ImportsFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def default(
    cn: Annotated[str, typer.Option("--cn", help="CN code, 4-10 digits, spaces optional.")],
    country: Annotated[str, typer.Option("--country", help="ISO code of origin, e.g. CN.")],
    year: Annotated[int, typer.Option("--year", help="Import year (2026 or later).")] = 2026,
    as_json: JsonOpt = False,
) -> None:
    """Default value of Implementing Regulation (EU) 2025/2621 with the year's mark-up."""
    from openpcf.cbam import default_value

    value = default_value(cn, country, year)
    if as_json:
        echo_json(value.as_json())
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    data = value.as_json()
    table = Table(title=escape(f"CBAM default value, CN {data['cn']}, {country.upper()}, {year}"))
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in ("cn_row", "good", "country_row_used", "direct", "indirect", "total"):
        table.add_row(key, "-" if data[key] is None else escape(str(data[key])))
    table.add_row("markup_percent", f"{value.markup_percent:g} %")
    table.add_row(
        "total_with_markup", f"[bold]{value.total_with_markup:.6g}[/] {escape(value.unit)}"
    )
    table.add_row("source", escape(value.source))
    Console().print(table)


@app.command()
def calc(
    installation: Annotated[
        Path, typer.Argument(help="Installation file (YAML).", exists=True, dir_okay=False)
    ],
    fmt: Annotated[CalcFormat, typer.Option("--format", "-f", help="Output.")] = CalcFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (required for xlsx).")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            help="xlsx: another copy of the Commission's communication template v2.1.1 to "
            "fill (default: the one shipped with OpenPCF).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Embedded emissions of an installation's goods, and its communication to importers.

    --format xlsx fills the Commission's "communication template for installations"
    (v2.1.1), the workbook importers' tools ingest.
    """
    from openpcf.cbam import build_communication, calculate_installation, load_installation

    result = calculate_installation(load_installation(installation))
    communication = build_communication(result)
    if fmt is CalcFormat.xlsx:
        from openpcf.cbam import write_xlsx
        from openpcf.errors import InputError

        if output is None:
            raise InputError("--format xlsx needs --output FILE.xlsx")
        write_xlsx(communication, output, template=template)
        typer.echo(f"wrote {output}")
    elif fmt is CalcFormat.json:
        text = json.dumps(communication, ensure_ascii=False, indent=2)
        if output is None:
            typer.echo(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
            typer.echo(f"wrote {output}")
    else:
        _print_result(result)


def _print_result(result: CbamResult) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from openpcf.cbam.cn import format_cn

    console = Console()
    info, t = result.installation, result.totals
    console.print(
        f"[bold]{escape(info.name)}[/] ({escape(info.country)}), {result.period_start} to "
        f"{result.period_end}; "
        f"direct {t.direct:,.1f} t CO2e (PFC {t.pfc:,.1f}), indirect {t.indirect:,.1f} t CO2e; "
        f"GWP {result.gwp_set}"
    )
    table = Table(title="Specific embedded emissions per process (t CO2e per unit)")
    for name in ("process", "good", "AL", "AttrEm dir", "SEE dir", "SEE indir", "SEE total"):
        table.add_column(name, justify="left" if name in ("process", "good") else "right")
    table.add_column("CBAM 2026+", justify="right")
    table.add_column("from defaults", justify="right")
    for p in result.processes:
        table.add_row(
            escape(p.id),
            escape(p.aggregated_good),
            escape(f"{p.production:,.0f} {p.unit}"),
            f"{p.attributed_direct:,.1f}",
            f"{p.see_direct:.4f}",
            f"{p.see_indirect:.4f}",
            f"{p.see_total:.4f}",
            f"{p.see_cbam:.4f}",
            f"{p.default_share:.1%}",
        )
    console.print(table)
    products = Table(title="Products (Summary_Communication)")
    for name in ("CN", "product", "process", "SEE total", "CBAM 2026+"):
        products.add_column(name)
    for row in result.products:
        products.add_row(
            format_cn(row.cn),
            escape(row.name),
            escape(row.process.id),
            f"{row.process.see_total:.4f}",
            f"{row.process.see_cbam:.4f}",
        )
    console.print(products)


@app.command()
def imports(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: cn,country,tonnes[,see_direct,see_indirect,description,benchmark,"
            "benchmark_source].",
            exists=True,
            dir_okay=False,
        ),
    ],
    price: Annotated[float, typer.Option("--price", help="Certificate price, EUR/t CO2e.")],
    year: Annotated[int, typer.Option("--year", help="Import year (2026 or later).")] = 2026,
    fmt: Annotated[
        ImportsFormat, typer.Option("--format", "-f", help="Output.")
    ] = ImportsFormat.table,
    cscf: Annotated[
        float | None,
        typer.Option(
            "--cscf",
            help="Cross-sectoral correction factor (0-1) where OpenPCF has none (2031-2033) "
            "or to replace it; needs --cscf-source.",
            min=0,
            max=1,
        ),
    ] = None,
    cscf_source: Annotated[
        str | None,
        typer.Option("--cscf-source", help="Where --cscf comes from (document, article, year)."),
    ] = None,
) -> None:
    """Embedded emissions of a year's imports, gross and net certificates, cost, actual vs
    default.

    Net certificates deduct the free-allocation adjustment (Regulation (EU) 2023/956 Art. 31;
    Implementing Regulation (EU) 2025/2620): give each line's CBAM benchmark and its source
    in the columns benchmark and benchmark_source.
    """
    from openpcf.cbam import Factor, assess_imports, read_imports_csv
    from openpcf.errors import InputError

    factor = None
    source = (cscf_source or "").strip()
    if cscf is not None or source:
        if cscf is None or not source:
            raise InputError("--cscf and --cscf-source go together: give the value and its source.")
        factor = Factor(cscf, source)
    assessment = assess_imports(read_imports_csv(file), price_eur=price, year=year, cscf=factor)
    if fmt is ImportsFormat.json:
        echo_json(assessment.as_json())
    else:
        _print_imports(assessment)


def _print_imports(a: ImportsAssessment) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"CBAM imports {a.year} at EUR {a.price_eur:g}/t CO2e")
    names = ["CN", "country", "quantity", "data", "SEE used", "t CO2e", "vs default t"]
    if a.adjustment is not None:
        names += ["benchmark", "FAA t", "net"]
    for name in names:
        table.add_column(name, justify="right" if name not in ("CN", "data") else "left")
    for r in a.lines:
        diff = "-" if r.difference_t is None else f"{r.difference_t:,.2f}"
        net = []
        if a.adjustment is not None:
            bm = r.line.benchmark
            net = [
                "-" if bm is None else f"{bm:.4g}",
                f"{r.free_allocation_t or 0.0:,.2f}",
                f"{r.certificates_net or 0.0:,.2f}",
            ]
        table.add_row(
            escape(r.line.cn),
            escape(r.line.country),
            escape(f"{r.line.quantity:,.1f} {r.unit}"),
            escape(r.data_source + ("" if r.in_scope else " (exempt)")),
            f"{r.see_used:.4f}",
            f"{r.embedded_t:,.2f}",
            diff,
            *net,
        )
    console = Console()
    console.print(table)
    exempt = " - below the 50 t threshold: exempt" if a.de_minimis_exempt else ""
    console.print(f"mass counted for the 50 t threshold: {a.threshold_mass_t:,.1f} t{exempt}")
    console.print(
        f"gross certificates (before the free-allocation adjustment): "
        f"[bold]{a.certificates:,.2f}[/] (EUR {a.cost_eur:,.2f}); actual data saves "
        f"{a.difference_t:,.2f} t CO2e (EUR {a.difference_eur:,.2f}) against defaults"
    )
    adj = a.adjustment
    if adj is None:
        console.print(
            "net certificates: give each line's CBAM benchmark and its source (columns "
            "benchmark, benchmark_source) to deduct the free-allocation adjustment"
        )
        return
    console.print(
        f"free-allocation adjustment {a.year}: CBAM factor {adj.cbam_factor.value:g} x CSCF "
        f"{adj.cscf.value:g} x benchmark = {a.free_allocation_t or 0.0:,.2f} t CO2e; "
        f"net certificates: [bold]{a.certificates_net or 0.0:,.2f}[/] "
        f"(EUR {a.cost_net_eur or 0.0:,.2f})"
    )
