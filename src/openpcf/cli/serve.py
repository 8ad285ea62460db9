"""``openpcf serve``: run the PACT host and the web application (FastAPI + uvicorn), HTTPS only.

The pages of :mod:`openpcf.web` are served beside the PACT API on the same port, each path
owned by one of them (:mod:`openpcf.web.serving`); ``openpcf web`` serves the pages alone.

Give a certificate (``--cert``/``--key``) or ``--dev-cert`` for a self-signed one made in
``$OPENPCF_HOME/tls`` (development only). There is no plain-HTTP listener and no redirect to
HTTPS: PACT forbids serving the API over HTTP. A SQLite database is migrated on start; a
PostgreSQL one must be at the current revision (``openpcf storage upgrade``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from openpcf.cli.options import CertOpt, DevCertOpt, HostnameOpt, KeyOpt, tls_files
from openpcf.errors import InputError


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8443,
    cert: CertOpt = None,
    key: KeyOpt = None,
    dev_cert: DevCertOpt = False,
    hostname: HostnameOpt = None,
    sender_interval: Annotated[
        float, typer.Option(help="Seconds between outbox delivery passes.")
    ] = 5.0,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per request (uvicorn's access log); off for throughput.",
        ),
    ] = True,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="Base URL clients reach the host at (links, discovery); "
            "default https://HOSTNAME:PORT with the first --hostname, else the address.",
        ),
    ] = None,
) -> None:
    """Serve the PACT v3 and v2.3 API with its outbox sender, and the web pages (HTTPS only)."""
    import os

    import uvicorn

    from openpcf.settings import get_settings

    settings = get_settings()
    pair = tls_files(cert, key, dev_cert=dev_cert, hostname=hostname, home=settings.home)
    if pair is None:
        raise InputError(
            "the PACT host serves HTTPS only: give --cert and --key, or --dev-cert for a "
            "self-signed development certificate"
        )
    cert, key = pair
    _prepare_database(settings.database_url)
    os.environ["OPENPCF_SENDER_INTERVAL"] = str(sender_interval)  # read by app_factory
    base = public_url or f"https://{(hostname or [host])[0]}:{port}"
    if not base.startswith("https://"):
        raise InputError(f"--public-url {base!r} must be an https:// URL (PACT is HTTPS only)")
    os.environ["OPENPCF_PUBLIC_URL"] = base.rstrip("/")  # read by app_factory
    typer.echo(
        f"PACT host and web application on https://{host}:{port}/ "
        "(PACT v3: /3/footprints, v2.3: /2/footprints; the pages: /login)"
    )
    uvicorn.run(
        "openpcf.cli.serve:app_factory",
        factory=True,
        host=host,
        port=port,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        access_log=access_log,
        env_file=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


def app_factory() -> object:
    """The app uvicorn runs: the PACT host and the web pages on one engine, side by side
    (:class:`~openpcf.web.serving.HostAndPages`); each worker builds its own engine and
    outbox sender."""
    import os

    from openpcf.api import HostConfig, create_app
    from openpcf.db.engine import make_engine
    from openpcf.web.app import create_web_app
    from openpcf.web.serving import HostAndPages

    interval = float(os.environ.get("OPENPCF_SENDER_INTERVAL", "5"))
    public_url = os.environ.get("OPENPCF_PUBLIC_URL") or None
    config = HostConfig.from_settings(sender_interval=interval, public_url=public_url)
    engine = make_engine()
    return HostAndPages(
        host=create_app(engine=engine, config=config),
        web=create_web_app(engine=engine, home=config.home),
    )


def _prepare_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    from openpcf.db import migrate

    if make_url(url).get_backend_name() == "sqlite":
        migrate.upgrade(url)
    else:
        migrate.require_current(url)
