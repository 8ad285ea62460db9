"""``openpcf electricity``: location- vs market-based electricity, and the claim registry.

Heavy imports happen inside the commands; errors are translated by the main CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from openpcf.cli.options import echo_json

if TYPE_CHECKING:
    from openpcf.electricity import CertificateRegistry

app = typer.Typer(help="Electricity accounting: grid, certificates, PPAs.", no_args_is_help=True)

Format = Literal["table", "json"]


@app.command()
def calc(
    claims: Annotated[Path, typer.Argument(help="Claims YAML (site, period, instruments).")],
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = "table",
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="Record the claimed instruments in the certificate registry (default: yes).",
        ),
    ] = True,
) -> None:
    """Location-based and market-based emissions side by side; records the certificates."""
    from openpcf.electricity import calculate_claims

    both = calculate_claims(claims, registry=_registry() if register else None)
    if output == "json":
        data = {
            "claim": both.claims.claim,
            "file": both.file,
            "location_based": both.location.to_dict(),
            "market_based": both.market.to_dict(),
        }
        echo_json(data)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    loc, mkt = both.location, both.market
    title = f"{both.claims.site}, {both.claims.period} ({mkt.gas}, {mkt.basis} basis)"
    table = Table(title=escape(title))
    table.add_column("")
    table.add_column("location-based", justify="right")
    table.add_column("market-based", justify="right")
    table.add_row("consumption kWh", f"{loc.consumption_kwh:,.0f}", f"{mkt.consumption_kwh:,.0f}")
    table.add_row("covered by instruments kWh", "-", f"{mkt.covered_kwh:,.0f}")
    table.add_row("residual kWh", "-", f"{mkt.residual_kwh:,.0f}")
    table.add_row("kg per kWh", f"{loc.kg_per_kwh:.4f}", f"{mkt.kg_per_kwh:.4f}")
    table.add_row("emissions kg", f"{loc.emissions_kg:,.1f}", f"{mkt.emissions_kg:,.1f}")
    console = Console()
    console.print(table)
    console.print(f"Grid factor: {loc.grid_factor_id} - {loc.grid_note}", markup=False)
    for u in mkt.instruments:
        line = f"{u.type} {u.id}: {u.kwh:,.0f} kWh at {u.kg_per_kwh:g} kg/kWh ({u.source})"
        console.print(line, markup=False)
    console.print(f"Residual mix {mkt.residual_kg_per_kwh:g} kg/kWh: {mkt.residual_source}",
                  markup=False)  # fmt: skip
    if register:
        console.print(f"{len(mkt.instruments)} instrument(s) recorded in the certificate registry.")


@app.command()
def release(
    certificate_id: Annotated[str, typer.Argument(metavar="CERT_ID", help="Certificate id.")],
) -> None:
    """Release a claimed certificate or contract id so that it can be claimed again."""
    registry = _registry()
    record = registry.release(certificate_id)
    typer.echo(
        f"Released {certificate_id} (was claimed by {record.get('claim')!r}, site "
        f"{record.get('site')!r}, period {record.get('period')}) from {registry.path}"
    )


def _registry() -> CertificateRegistry:
    """The certificate registry in ``$OPENPCF_HOME/registry``."""
    from openpcf.electricity import CertificateRegistry
    from openpcf.settings import get_settings

    return CertificateRegistry(get_settings().registry_file)
