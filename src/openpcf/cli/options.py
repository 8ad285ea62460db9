"""Options every calculating command shares, and the one way the CLI calculates.

``calc``, ``validate``, ``report``, ``publish``, ``certificate issue`` and ``package`` declare
the same ``--gwp``, ``--param``, ``--factors``, ``--solver`` and ``--background-electricity``
options from here and hand them
to :func:`calculation_options`, which reads the settings (the CLI is an edge) and returns the
keyword arguments of :func:`openpcf.services.calculate.calculate`. The commands that write a
PACT document share ``--pact-boundary`` and, where it is published or certified,
``--allow-illustrative``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import KeyStore
    from openpcf.core.solver import Backend
    from openpcf.model.schema import BackgroundElectricity
    from openpcf.services.calculate import CalculationOptions

ModelArg = Annotated[Path, typer.Argument(help="Product model file (YAML).", show_default=False)]
GwpOpt = Annotated[
    str | None, typer.Option("--gwp", help="GWP set: AR6 (default), AR5, AR5-CCF or AR4.")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Override a parameter: name=value (repeatable)."),
]
FactorsOpt = Annotated[
    list[Path] | None,
    typer.Option("--factors", help="Extra factor set (CSV or YAML), used with the bundled one."),
]
SolverOpt = Annotated[
    str,
    typer.Option(
        "--solver",
        help="Sparse solver: auto (PARDISO for large systems), superlu, pardiso, iterative "
        "(BiCGSTAB, falling back to SuperLU when it does not converge) or gpu (the same on a "
        "CUDA device; needs openpcf[gpu]; auto means gpu when OPENPCF_GPU=1).",
    ),
]
BackgroundElectricityOpt = Annotated[
    str | None,
    typer.Option(
        "--background-electricity",
        help="Re-point the electricity of the linked background databases: GEOGRAPHY:YEAR "
        "(a province, regional grid or CN, e.g. CN-JS:2022; add :footprint for the life-cycle "
        "factors) or an electricity claims file (.yaml). Replaces the model's "
        "background_electricity and links its background inputs.",
    ),
]
RulesOpt = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="Calculate under this rule set (id or id@version; openpcf rules list): its "
        "allocation, electricity, recycled-content and cut-off choices apply and the model is "
        "checked against every clause. Default: the model's rules:.",
    ),
]
RuleFilesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rule-file", help="A rule-set file of your own (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


class PactBoundary(StrEnum):
    """``--pact-boundary``: what a PACT document of a model covers (see ``docs/pact.md``)."""

    cradle_to_gate = "cradle-to-gate"
    model = "model"


#: Shared by ``calc -f pact``, ``publish`` and ``certificate issue`` (a package's document is
#: the default, cradle-to-gate, of :func:`openpcf.services.publishing.deliverable_footprint`).
PactBoundaryOpt = Annotated[
    PactBoundary,
    typer.Option(
        "--pact-boundary",
        help="PACT footprint of the cradle-to-gate part (default; PACT footprints are "
        "cradle-to-gate) or of the model's own boundary (refused beyond cradle-to-gate).",
    ),
]
AllowIllustrativeOpt = Annotated[
    bool,
    typer.Option(
        "--allow-illustrative",
        help="Publish or certify although illustrative (placeholder) factors are used; the "
        "PACT document then says so in its comment.",
    ),
]


def calculation_options(
    gwp: str | None,
    param: list[str] | None,
    factors: list[Path] | None,
    solver: str = "auto",
    background_electricity: str | None = None,
    rules: str | None = None,
    rule_files: list[Path] | None = None,
) -> CalculationOptions:
    """The shared options, parsed, plus the user's settings."""
    from openpcf.model.parameters import parse_overrides
    from openpcf.settings import get_settings

    return {
        "overrides": parse_overrides(param or []),
        "gwp": gwp,
        "factor_files": tuple(factors or ()),
        "backend": _backend(solver),
        "settings": get_settings(),
        "background_electricity": parse_background_electricity(background_electricity),
        "rules": rules,
        "rule_files": tuple(rule_files or ()),
    }


def parse_background_electricity(text: str | None) -> BackgroundElectricity | None:
    """``--background-electricity``: ``GEOGRAPHY:YEAR[:co2|footprint]`` or a claims file."""
    from pydantic import ValidationError

    from openpcf.model.schema import BackgroundElectricity, GridRef

    if text is None:
        return None
    text = text.strip()
    if text.lower().endswith((".yaml", ".yml")):
        path = Path(text)
        if not path.is_file():
            raise typer.BadParameter(f"--background-electricity {text!r}: no such claims file")
        return BackgroundElectricity(electricity_claim=str(path.resolve()))
    geography, _, rest = text.partition(":")
    year, _, basis = rest.partition(":")
    try:
        ref = GridRef(geography=geography, year=int(year), basis=basis or "co2")
    except (ValueError, ValidationError):
        raise typer.BadParameter(
            f"--background-electricity {text!r}: give GEOGRAPHY:YEAR (e.g. CN-JS:2022, "
            "CN-GRID-EAST:2022:footprint) or a claims file (.yaml)"
        ) from None
    return BackgroundElectricity(grid=ref)


def _backend(solver: str) -> Backend:
    """``--solver``, checked; ``auto`` is ``gpu`` when ``OPENPCF_GPU=1`` is set (never
    otherwise: see :mod:`openpcf.core.gpu`), and ``gpu`` is refused here, before any work,
    where CuPy or a CUDA device is missing."""
    if solver not in ("auto", "superlu", "pardiso", "iterative", "gpu"):
        raise typer.BadParameter(
            f"--solver {solver!r}: use auto, superlu, pardiso or iterative (or gpu, with "
            "openpcf[gpu] and a CUDA device)"
        )
    asked = solver
    if solver == "auto" and os.environ.get("OPENPCF_GPU") == "1":
        solver, asked = "gpu", "auto with OPENPCF_GPU=1"
    if solver == "pardiso":
        from openpcf.core.solver import pardiso_available

        if not pardiso_available():
            raise typer.BadParameter(
                "--solver pardiso needs pypardiso: pip install 'openpcf[pardiso]'"
            )
    if solver == "gpu":
        from openpcf.core.gpu import GPUUnavailableError, device_namespaces

        try:
            device_namespaces()
        except GPUUnavailableError as e:
            raise typer.BadParameter(f"--solver {asked}: {e}") from None
    return cast("Backend", solver)


def open_database(*, create: bool = True) -> Engine | None:
    """An engine on the configured database with its schema at the head revision.

    A SQLite file is created and migrated on first use (``create=False``: None when it does
    not exist yet); a PostgreSQL database must have been migrated (``openpcf storage upgrade``).
    """
    from sqlalchemy.engine import make_url

    from openpcf.db import migrate
    from openpcf.db.engine import make_engine
    from openpcf.settings import get_settings

    url = get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not create and not (parsed.database and Path(parsed.database).exists()):
            return None
        migrate.upgrade(url)
    else:
        migrate.require_current(url)
    return make_engine(url)


def key_store() -> KeyStore:
    """The issuer's key store in ``$OPENPCF_HOME/keys``."""
    from openpcf.certify import KeyStore
    from openpcf.settings import get_settings

    return KeyStore(get_settings().keys_dir)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


#: seconds of work before a progress bar appears
PROGRESS_DELAY = 1.0


@contextmanager
def progress_bar(label: str, *, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback that shows a rich bar after one second."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress

    label = escape(label)  # a task description is markup, and file names may hold "[...]"
    start = time.perf_counter()
    bar = Progress(console=Console(stderr=True), transient=True)
    state: dict[str, Any] = {"task": None}

    def update(done: int, total: int) -> None:
        if not enabled:
            return
        if state["task"] is None:
            if time.perf_counter() - start < PROGRESS_DELAY:
                return
            bar.start()
            state["task"] = bar.add_task(label, total=total)
        bar.update(state["task"], completed=done, total=total)

    try:
        yield update
    finally:
        if state["task"] is not None:
            bar.stop()


# -- TLS of the served applications (``openpcf serve``, ``openpcf web``) --------------------------
CertOpt = Annotated[
    Path | None, typer.Option(help="TLS certificate chain (PEM).", show_default=False)
]
KeyOpt = Annotated[Path | None, typer.Option(help="TLS private key (PEM).", show_default=False)]
DevCertOpt = Annotated[
    bool,
    typer.Option("--dev-cert", help="Use a self-signed certificate in $OPENPCF_HOME/tls."),
]
HostnameOpt = Annotated[
    list[str] | None,
    typer.Option("--hostname", help="Extra name for the dev certificate (repeatable)."),
]


def tls_files(
    cert: Path | None, key: Path | None, *, dev_cert: bool, hostname: list[str] | None, home: Path
) -> tuple[Path, Path] | None:
    """The certificate and key to serve with: the given pair, or the development certificate
    made in ``home/tls`` (``--dev-cert``); None when neither is given.

    Raises
    ------
    InputError
        Both kinds given, only one of the pair, or a file that does not exist.
    """
    from openpcf.errors import InputError

    if dev_cert:
        if cert or key:
            raise InputError("give either --cert/--key or --dev-cert, not both")
        from openpcf.services.pact.tls import dev_certificate

        pair = dev_certificate(home / "tls", names=hostname or [])
        typer.echo(f"Development certificate: {pair.cert} (clients must trust it explicitly)")
        return pair.cert, pair.key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise InputError("give both --cert and --key")
    for path in (cert, key):
        if not path.is_file():
            raise InputError(f"{path} does not exist")
    return cert, key
