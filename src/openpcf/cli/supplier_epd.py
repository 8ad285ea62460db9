"""``openpcf suppliers import-epd``: a supplier's EPD (ILCD+EPD, EN 15804) as supplier data.

The A1-A3 climate change indicators become a PACT v3 footprint of the customer's product URN
(origin ``epd``), which models use through ``supplier_footprint: <URN>`` (docs/epd.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from openpcf.cli.options import JsonOpt, echo_json, open_database
from openpcf.errors import InputError


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``openpcf suppliers``."""
    app.command("import-epd")(import_epd)


def import_epd(
    file: Annotated[Path, typer.Argument(help="The EPD as an ILCD+EPD process data set (XML).")],
    product_id: Annotated[
        str,
        typer.Option(
            "--product-id", help="Product URN the model's supplier_footprint: input names."
        ),
    ],
    supplier: Annotated[str, typer.Option("--supplier", help="The supplier's company name.")],
    unit: Annotated[
        str,
        typer.Option(
            "--unit",
            help="The EPD's declared unit (kg, t, m2, m3, l, piece, kWh, MJ): the process "
            "data set holds only its amount.",
        ),
    ] = "kg",
    mass_kg: Annotated[
        float | None,
        typer.Option("--mass-kg", help="Mass in kg of the declared unit (non-mass units)."),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Organisation that receives the footprint (created if new)."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Import a supplier's EPD; an expired EPD is stored with a warning and flagged."""
    from openpcf.services.supplier_epd import import_epd as run_import

    engine = open_database()
    if engine is None:  # pragma: no cover - create=True always gives one
        raise InputError("the database cannot be opened")
    try:
        done = run_import(
            file,
            product_id=product_id,
            supplier=supplier,
            engine=engine,
            organisation=org,
            today=dt.datetime.now(dt.UTC).date(),
            declared_unit=unit,
            mass_per_declared_unit=mass_kg,
        )
    finally:
        engine.dispose()
    epd = done.epd
    if json_output:
        echo_json(
            {
                "organisation": done.organisation,
                "footprintId": done.footprint["id"],
                "new": done.new,
                "expired": epd.expired,
                "validUntil": epd.valid_until.isoformat() if epd.valid_until else None,
                "registration": epd.registration,
                "warnings": done.warnings,
                "footprint": done.footprint,
            }
        )
        return
    from rich.console import Console

    console = Console(stderr=True)
    for warning in done.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    pcf = done.footprint["pcf"]
    state = "stored" if done.new else "held already (unchanged)"
    typer.echo(
        f"EPD {epd.registration or epd.uuid} ({epd.standard or 'EN 15804'}, verified by "
        f"{epd.verifier or 'nobody stated'}, valid until {epd.valid_until or 'not stated'}): "
        f"footprint {done.footprint['id']} {state} for {done.organisation}, "
        f"{pcf['pcfIncludingBiogenicUptake']} kg CO2e per {pcf['declaredUnitAmount']} "
        f"{pcf['declaredUnitOfMeasurement']} (A1-A3); use it as supplier_footprint: {product_id}"
    )
