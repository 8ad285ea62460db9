"""Entry point of the ``openpcf`` command.

Commands raise :class:`~openpcf.errors.OpenPCFError` subclasses; :func:`run` is the one place
that turns them into a red message on stderr and a non-zero exit code (2 for bad input, 3 for
an unsolvable system). Users never see a traceback, for bad input or otherwise:

====  =========================================================================================
exit  failure
====  =========================================================================================
1-44  an :class:`~openpcf.errors.OpenPCFError`: its ``exit_code`` (certificates 10-19 and
      40-44 in ``certify/errors.py``, packages 30-31 in ``package/format.py``); ``check``
      exits 5 (warnings) or 6 (a clause violated) for a model that does not conform
70    a bug (any other exception): one line naming it; ``OPENPCF_DEBUG=1`` shows the traceback
74    the operating system refused a read or write (:class:`OSError`: disk full, read-only
      folder, permission denied): the file and the reason
130   interrupted (Ctrl-C)
====  =========================================================================================
"""

from __future__ import annotations

import errno
import os
import sys

import typer

from openpcf.cli import (
    audit,
    batch,
    calc,
    cbam,
    certificate,
    compare,
    db,
    dossier,
    electricity,
    factors,
    keys,
    model,
    package,
    pact,
    publish,
    report,
    rules,
    serve,
    suppliers,
    transport,
    uncertainty,
    verifier,
    web,
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
app.add_typer(verifier.app, name="verifier")
app.add_typer(audit.app, name="audit")
app.command("package")(package.package)
app.command("reproduce")(package.reproduce)
app.command("uncertainty")(uncertainty.uncertainty)
app.command("batch")(batch.batch)
app.command("check")(rules.check)
app.add_typer(rules.app, name="rules")
app.add_typer(suppliers.app, name="suppliers")
app.add_typer(dossier.app, name="dossier")
app.command("compare")(compare.compare)
app.add_typer(web.app, name="web")
app.add_typer(model.app, name="model")


#: Exit codes of sysexits.h for failures that are not the input's fault.
EXIT_BUG = 70
EXIT_OS = 74


def run() -> None:
    """Console-script entry point with error translation (the table in the module docstring).

    Design note: a bug still ends in one line, not a traceback (issue 11, item 12): users
    cannot act on a traceback, and it may show paths and values they did not mean to share.
    ``OPENPCF_DEBUG`` is read here, at the edge, for developers who need the traceback.
    """
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
    except OSError as e:
        _fail(_os_message(e), EXIT_OS)
    except Exception as e:
        if os.environ.get("OPENPCF_DEBUG"):
            raise
        text = str(e) if len(str(e)) <= 300 else f"{str(e)[:300]}..."
        _fail(
            f"internal error ({type(e).__name__}: {text}). This is a bug in OpenPCF: please "
            "report it with the command you ran; OPENPCF_DEBUG=1 shows the traceback",
            EXIT_BUG,
        )


def _os_message(e: OSError) -> str:
    """``<file>: <reason>`` and what to do, for errors of the file system."""
    where = f"{e.filename}: " if e.filename else ""
    reason = e.strerror or str(e)
    hint = {
        errno.ENOSPC: "free some space or write to another disk",
        errno.EDQUOT: "free some space or write to another disk",
        errno.EROFS: "the file system is read-only; write to another location",
        errno.EACCES: "check the permissions, or use another location",
        errno.EPERM: "check the permissions, or use another location",
    }.get(e.errno or 0, "check the path and try again")
    return f"{where}{reason}; {hint}"


def _fail(message: str, code: int) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {escape(message)}", markup=True
    )
    sys.exit(code)


if __name__ == "__main__":
    run()
