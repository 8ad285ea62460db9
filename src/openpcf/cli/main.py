"""Entry point of the ``openpcf`` command.

Commands raise :class:`~openpcf.errors.OpenPCFError` subclasses; :func:`run` is the one place
that turns them into a red message on stderr and a non-zero exit code (2 for bad input, 3 for
an unsolvable system). Users never see a traceback for bad input.
"""

from __future__ import annotations

import sys

import typer

from openpcf.cli import (
    audit,
    calc,
    cbam,
    certificate,
    db,
    electricity,
    factors,
    keys,
    package,
    pact,
    publish,
    report,
    serve,
    transport,
)

app = typer.Typer(
    name="openpcf",
    help="Product carbon footprints (ISO 14067 / GB/T 24067) on a transparent matrix LCA engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("calc")(calc.calc)
app.command("validate")(calc.validate)
app.command("report")(report.report)
app.command("serve")(serve.serve)
app.add_typer(pact.app, name="pact")
app.add_typer(factors.app, name="factors")
app.add_typer(db.import_app, name="import")
app.add_typer(db.db_app, name="db")
app.add_typer(transport.app, name="transport")
app.add_typer(electricity.app, name="electricity")
app.add_typer(cbam.app, name="cbam")
app.command("publish")(publish.publish)
app.add_typer(publish.storage_app, name="storage")
app.add_typer(keys.app, name="keys")
app.add_typer(certificate.app, name="certificate")
app.add_typer(audit.app, name="audit")
app.command("package")(package.package)
app.command("reproduce")(package.reproduce)


def run() -> None:
    """Console-script entry point with error translation."""
    from openpcf.errors import OpenPCFError
    from openpcf.files.durable import private_dir
    from openpcf.settings import get_settings

    try:
        private_dir(get_settings().home)
        app()  # standalone: click reports usage errors itself and exits 2
    except OpenPCFError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {escape(message)}", markup=True
    )
    sys.exit(code)


if __name__ == "__main__":
    run()
