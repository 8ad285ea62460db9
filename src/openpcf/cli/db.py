"""``openpcf import …`` and ``openpcf db …``: take in LCI databases and browse them.

Two typer apps: :data:`import_app` (``jsonld``, ``ilcd``, ``ecospold2``) and :data:`db_app`
(``list``, ``show``, ``search``, ``footprints``). Heavy imports happen inside the command
bodies; errors are not caught here (the main CLI translates every OpenPCFError once).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, progress_bar

if TYPE_CHECKING:
    from openpcf.io.store import DatabaseStore
    from openpcf.services.databases import ImportResult

import_app = typer.Typer(
    help="Import an LCI database (openLCA JSON-LD, ILCD, ecospold2) as a background database.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Browse imported background databases.", no_args_is_help=True)

PathArg = Annotated[Path, typer.Argument(exists=True, help="The export: a folder or a zip file.")]
NameOption = Annotated[
    str | None, typer.Option("--name", help="Database name (default: the file name).")
]
RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        exists=True,
        dir_okay=False,
        help="Link rules: YAML (providers: {flow: process}, prefer_locations: [..]) or CSV "
        "(flow,provider), used when a flow has several producers.",
    ),
]
DbArg = Annotated[str, typer.Argument(metavar="NAME", help="Database name, or NAME@VERSION.")]
GwpOption = Annotated[str, typer.Option("--gwp", help="AR6, AR5, AR5-CCF or AR4.")]


class OutputFormat(StrEnum):
    csv = "csv"
    json = "json"


def _import(fmt: str, path: Path, name: str | None, rules: Path | None, as_json: bool) -> None:
    from openpcf.io.linking import LinkRules
    from openpcf.services.databases import import_database

    link_rules = LinkRules.from_file(rules) if rules else None
    with progress_bar(f"reading {path.name}", enabled=not as_json) as progress:
        result = import_database(
            fmt, path, name=name, rules=link_rules, progress=progress, store=_store()
        )
    if as_json:
        out = {"name": result.name, "version": result.version, "was_new": result.was_new}
        echo_json({**out, "report": result.report})
        return
    _print_report(result)


def _print_report(result: ImportResult) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    report = result.report
    ref = f"{result.name}@{result.version}"
    if not result.was_new:
        console.print(f"[bold]{ref}[/] is already imported (same content): nothing to do.")
    else:
        console.print(f"Imported [bold]{ref}[/] from {escape(report.get('source', ''))}.")
    counts = Table(title="Counts", show_header=False)
    for key, value in report["counts"].items():
        counts.add_row(key.replace("_", " "), f"{value:,}")
    console.print(counts)
    if report["linked"]:
        linked = ", ".join(f"{v:,} by {k}" for k, v in report["linked"].items())
        console.print(f"Linked inputs: {linked}.")
    for flow, info in report.get("bundled_defaults", {}).items():
        console.print(
            escape(
                f"Bundled default ({info['file']}): {flow} -> {info['provider']} "
                f"({info['count']:,} inputs): {info['reason']}"
            )
        )
    for title, section in (("Unlinked exchanges (cut off)", "unlinked"), ("Problems", "problems")):
        if not report[section]:
            continue
        table = Table(title=title)
        table.add_column("reason" if section == "unlinked" else "kind")
        table.add_column("count", justify="right")
        table.add_column("examples", overflow="fold")
        for reason, info in report[section].items():
            table.add_row(
                escape(reason), f"{info['count']:,}", escape("\n".join(info["examples"][:3]))
            )
        console.print(table)
    if report["unit_conversions"]:
        console.print("Unit conversions: " + escape("; ".join(report["unit_conversions"])))
    el = report["elementary"]
    mapped = ", ".join(f"{g} ({n})" for g, n in el["mapped_flows"].items()) or "none"
    console.print(
        f"Greenhouse-gas flows mapped: {mapped}. Not greenhouse gases or not recognised: "
        f"{el['unmapped_flows']:,} flows, e.g. {escape(', '.join(el['unmapped_examples'][:5]))}."
    )
    if "lost_share" in report:
        lost, years, bio = report["lost_share"], report["reference_years"], report["biogenic"]
        console.print(
            f"Footprint share lost to cut-offs ({lost['gwp']}): over 5% for "
            f"{lost['activities_over_5_percent']:,} activities, over 50% for "
            f"{lost['activities_over_50_percent']:,}, unknown for "
            f"{lost['activities_unknown']:,}. Reference years: {years['known']:,} given "
            f"{escape(str(years['range']))}, {years['unknown']:,} not. Suspicious biogenic "
            f"balances: {bio['suspicious']:,}."
        )
        for example in bio["examples"][:3]:
            console.print("  " + escape(example))


@import_app.command("jsonld")
def import_jsonld(
    path: PathArg, name: NameOption = None, rules: RulesOption = None, as_json: JsonOpt = False
) -> None:
    """Import an openLCA JSON-LD export (folder or zip)."""
    _import("jsonld", path, name, rules, as_json)


@import_app.command("ilcd")
def import_ilcd(
    path: PathArg, name: NameOption = None, rules: RulesOption = None, as_json: JsonOpt = False
) -> None:
    """Import an ILCD export (folder or zip), e.g. TianGong or an EU EPD node."""
    _import("ilcd", path, name, rules, as_json)


@import_app.command("ecospold2")
def import_ecospold2(
    path: PathArg, name: NameOption = None, rules: RulesOption = None, as_json: JsonOpt = False
) -> None:
    """Import an ecospold2 export (folder or zip of .spold files)."""
    _import("ecospold2", path, name, rules, as_json)


@db_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """List the imported databases and their current versions."""
    from openpcf.services.databases import list_databases

    rows = list_databases(store=_store())
    if as_json:
        echo_json(rows)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(rows)} background database(s)")
    for col in ("name", "version", "format", "activities", "imported (UTC)", "source"):
        table.add_column(col, no_wrap=col in {"name", "version"})
    for r in rows:
        more = f" (+{len(r['versions']) - 1} older)" if len(r["versions"]) > 1 else ""
        table.add_row(
            escape(str(r["name"])),
            escape(str(r["version"]) + more),
            escape(str(r["format"])),
            f"{r['activities']:,}",
            escape(str(r["imported_utc"])),
            escape(str(r["source_file"])),
        )
    Console().print(table)


@db_app.command("show")
def show_cmd(
    db: DbArg,
    process: Annotated[
        str | None,
        typer.Argument(help="A process: its id or exact name (omit for the database itself)."),
    ] = None,
    gwp: GwpOption = "AR6",
    as_json: JsonOpt = False,
) -> None:
    """Show a database's provenance and import report, or one of its processes."""
    from openpcf.services.databases import show_database

    if process is not None:
        _show_process(db, process, gwp, as_json)
        return

    info = show_database(db, store=_store())
    if as_json:
        echo_json(info)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=False, title=escape(f"{info['name']}@{info['version']}"))
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    versions = ", ".join(f"{v['version']} ({v['imported_utc']})" for v in info["versions"])
    licence = (info.get("licence") or "not stated").strip().splitlines()[0]
    for key, value in (
        ("format", info["format"]),
        ("source", info["source"]),
        ("imported (UTC)", info["imported_utc"]),
        ("sha256", info["content_sha256"]),
        ("licence", licence),
        ("versions", versions),
        *((k.replace("_", " "), f"{v:,}") for k, v in info["counts"].items()),
        *((f"unlinked: {k}", f"{v['count']:,}") for k, v in info["report"]["unlinked"].items()),
        *((f"problem: {k}", f"{v['count']:,}") for k, v in info["report"]["problems"].items()),
    ):
        table.add_row(escape(key), escape(str(value)))
    Console().print(table)


def _show_process(db: str, process: str, gwp: str, as_json: bool) -> None:
    from openpcf.services.databases import show_process

    info = show_process(db, process, gwp, store=_store())
    if as_json:
        echo_json(info)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(
        escape(
            f"{info['name']} ({info['activity']}), {info['location'] or '-'}; per 1 "
            f"{info['unit']} of {info['reference_product']}; reference year "
            f"{info['reference_year'] or 'not stated'}; {info['database']}"
        )
    )
    split = ", ".join(f"{k.replace('_', ' ')} {info[k]:.6g}" for k in _SPLIT)
    lost = "unknown" if info["lost_share"] is None else f"{info['lost_share']:.1%}"
    console.print(
        escape(f"Footprint ({gwp}): {info['kg_co2e']:.6g} kg CO2e = {split}; lost to cut-offs: ")
        + lost
        + (f"; outlier: {escape(info['flag'])}" if info["flag"] else "")
    )
    if info["biogenic_check"]:
        console.print("Biogenic balance: " + escape(info["biogenic_check"]))
    gases = Table(title="By gas (cradle to gate)")
    for col in ("gas", "kg", "kg CO2e"):
        gases.add_column(col, justify="left" if col == "gas" else "right")
    for gas, v in info["by_gas"].items():
        gases.add_row(escape(gas), f"{v['kg']:.6g}", f"{v['kg_co2e']:.6g}")
    console.print(gases)
    if not info["exchanges_recorded"]:
        console.print("Exchanges were not recorded for this version; import it again to see them.")
        return
    table = Table(title="Exchanges (as linked; amounts per the process's reference amount)")
    cols = (
        "direction",
        "flow",
        "amount",
        "unit",
        "provider / gas / cut-off reason",
        "distribution",
    )
    for col in cols:
        table.add_column(col, overflow="fold", justify="right" if col == "amount" else "left")
    for x in info["exchanges"]:
        detail = f"{x['provider_name']} ({x['how']})" if x["provider"] else x["how"]
        table.add_row(
            escape(x["direction"]),
            escape(x["flow"]),
            f"{x['amount']:.6g}",
            escape(x["unit"]),
            escape(detail),
            escape(x.get("distribution", "")),
        )
    console.print(table)
    console.print(f"Cut off: {len(info['cut_off'])} exchange(s).")


_SPLIT = ("fossil", "biogenic", "biogenic_uptake", "land_use_change")


@db_app.command("search")
def search_cmd(
    db: DbArg,
    query: Annotated[str, typer.Argument(help="Words that must all appear (English or 中文).")],
    gwp: GwpOption = "AR6",
    as_json: JsonOpt = False,
) -> None:
    """Search processes by English or Chinese name: footprint, lost share, outlier flag."""
    from dataclasses import asdict

    from openpcf.services.databases import search_footprints

    found = search_footprints(db, query, gwp, store=_store())
    if as_json:
        echo_json([{"id": r.activity, "product": r.reference_product, **asdict(r)} for r in found])
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{len(found)} process(es) matching {query!r} ({gwp})"))
    table.add_column("id", overflow="fold")  # folded, never cut: ids are copied into models
    table.add_column("name", ratio=2)
    table.add_column("reference product", ratio=1)
    table.add_column("unit", no_wrap=True)
    table.add_column("location", no_wrap=True)
    table.add_column("year", no_wrap=True)
    table.add_column("kg CO2e", justify="right", no_wrap=True)
    table.add_column("lost", justify="right", no_wrap=True)
    table.add_column("flag")
    for r in found:
        name = f"{r.name}\n{r.name_zh}" if r.name_zh and r.name_zh != r.name else r.name
        lost = "?" if r.lost_share is None else f"{r.lost_share:.0%}"
        cells = (r.activity, name, r.reference_product, r.unit, r.location)
        table.add_row(
            *(escape(x) for x in cells),
            str(r.reference_year or ""),
            f"{r.kg_co2e:.4g}",
            lost,
            escape(r.flag),
        )
    Console().print(table)


#: ``kg_co2e`` is the total; the four columns before it are its parts by gas origin.
FOOTPRINT_COLUMNS = (
    "process_id",
    "name",
    "reference_product",
    "unit",
    "location",
    "reference_year",
    "fossil",
    "biogenic",
    "biogenic_uptake",
    "land_use_change",
    "kg_co2e",
    "lost_share",
    "flag",
)


@db_app.command("footprints")
def footprints_cmd(
    db: DbArg,
    gwp: Annotated[str, typer.Option("--gwp", help="AR6, AR5, AR5-CCF or AR4.")] = "AR6",
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False)] = None,
) -> None:
    """Cradle-to-gate kg CO2e of one unit of every process's reference product, split into
    fossil, biogenic, biogenic uptake and land-use change (kg_co2e is their total)."""
    import csv
    import io
    from dataclasses import asdict

    from openpcf.services.databases import all_footprints

    rows = all_footprints(db, gwp, store=_store())
    if fmt is OutputFormat.json:
        text = json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FOOTPRINT_COLUMNS)
        for r in rows:
            writer.writerow([_cell(getattr(r, k)) for k in FOOTPRINT_COLUMNS])
        text = buf.getvalue()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _cell(value: object) -> str:
    """A CSV cell: floats at full precision (repr), None empty."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _store() -> DatabaseStore:
    """The imported databases in ``$OPENPCF_HOME/databases``."""
    from openpcf.io.store import DatabaseStore
    from openpcf.settings import get_settings

    return DatabaseStore(get_settings().databases_dir)
