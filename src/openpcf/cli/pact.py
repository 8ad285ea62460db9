"""``openpcf pact``: the recipient's commands and the host's outbox and peers.

* ``pact pull URL``: list and fetch a supplier's footprints, validate them against the PACT
  schema and store them in the database's supplier store (origin ``pulled``);
* ``pact request URL``: record and send a RequestCreated event; the answer arrives on our own
  host (``openpcf serve``), which accepts it only from that supplier, and is waited for;
* ``pact import FILE``: store the footprints of a JSON file (origin ``imported``);
* ``pact deliver``: one delivery pass over the outbox (the server runs these in the
  background);
* ``pact peer CLIENT_ID``: where and how to send answers to the requests of one API client;
* ``pact answer-mode auto|review --org NAME``: answer received requests at once, or hold
  them for a person;
* ``pact requests list|fulfil|reject``: the held requests, answered by hand
  (:mod:`openpcf.services.pact.review`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from openpcf.cli.options import JsonOpt, echo_json, open_database
from openpcf.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.exchange.client import PactClient
    from openpcf.services.pact.peers import FilePeers

app = typer.Typer(
    help="PACT exchange: pull supplier footprints, requests, outbox.", no_args_is_help=True
)

ClientId = Annotated[str, typer.Option("--client-id", help="OAuth2 client id at that host.")]
Secret = Annotated[
    str,
    typer.Option(
        "--client-secret",
        envvar="OPENPCF_PACT_CLIENT_SECRET",
        help="OAuth2 client secret (or $OPENPCF_PACT_CLIENT_SECRET).",
    ),
]
CaFile = Annotated[
    Path | None, typer.Option("--ca-file", help="Trust this CA/certificate (self-signed hosts).")
]
VersionOpt = Annotated[str, typer.Option("--version", help="PACT API version: 3 or 2.")]
OrgOpt = Annotated[
    str | None,
    typer.Option(
        "--org",
        help="Organisation that receives the footprints (created if new); default: the one of "
        "the supplier's peer entry, else the only one.",
    ),
]
OwnerOpt = Annotated[
    str | None,
    typer.Option("--org", help="The organisation (data owner); default: the only one."),
]

requests_app = typer.Typer(
    help="Received PACT requests held for a person (answer mode review): list, fulfil, reject.",
    no_args_is_help=True,
)
app.add_typer(requests_app, name="requests")


def _engine() -> Engine:
    engine = open_database()
    if engine is None:  # pragma: no cover - create=True always gives one
        raise InputError("the database cannot be opened")
    return engine


def _peer_client(url: str, version: str) -> str | None:
    """Our API client id configured as peer for the supplier host ``url`` (``pact peer``)."""
    from openpcf.services.pact.peers import FilePeers, peers_file
    from openpcf.settings import get_settings

    peer = FilePeers(peers_file(get_settings().home)).for_target(
        f"{url.rstrip('/')}/{version}/events"
    )
    return peer.client_id if peer else None


def _version(value: str) -> Literal["2", "3"]:
    if value == "2":
        return "2"
    if value == "3":
        return "3"
    raise InputError(f"--version must be 3 or 2, not {value!r}")


def _filters(values: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--filter {item!r}: write name=value, e.g. productId=urn:gtin:…")
        out.setdefault(name, []).append(value)
    return out


@app.command("pull")
def pull(
    url: Annotated[str, typer.Argument(help="Base URL of the supplier's PACT host.")],
    client_id: ClientId,
    client_secret: Secret,
    version: VersionOpt = "3",
    openapi: Annotated[
        Path | None,
        typer.Option(
            help="Official PACT OpenAPI file (openapi.yaml) to validate against instead of "
            "OpenPCF's own validator of the --version data model."
        ),
    ] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="v3 filter name=value (repeatable).")
    ] = None,
    org: OrgOpt = None,
    ca_file: CaFile = None,
    json_output: JsonOpt = False,
) -> None:
    """Fetch a supplier's footprints and store them for ``supplier_footprint:`` (by id or URN).

    Exit code 1 when a footprint was refused: invalid, or held already with other content.
    """
    from openpcf.services.pact.pull import pull as pull_footprints

    api = _version(version)
    engine = _engine()
    try:
        with _pact_client(url, client_id, client_secret, ca_file) as client:
            report = pull_footprints(
                client,
                engine=engine,
                organisation=org,
                peer_client_id=_peer_client(url, api),
                version=api,
                params=_filters(filter_),
                openapi=openapi,
            )
    finally:
        engine.dispose()
    _print_intake(
        {
            "organisation": report.organisation,
            "stored": report.stored,
            "unchanged": report.unchanged,
            "invalid": report.invalid,
            "conflicts": report.conflicts,
            "schema": str(report.schema),
        },
        json_output=json_output,
        how=f"validated against {report.schema}",
    )
    if report.invalid or report.conflicts:
        raise typer.Exit(1)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="PACT footprint JSON: one footprint, a list, or a Get/ListFootprints response."
        ),
    ],
    org: OrgOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Store a supplier's footprints from a file (validated against the PACT schema).

    Exit code 1 when a footprint was refused: invalid, or held already with other content.
    """
    from openpcf.services.suppliers import import_footprints

    engine = _engine()
    try:
        report = import_footprints(engine, file, organisation=org)
    finally:
        engine.dispose()
    _print_intake(
        {
            "organisation": report.organisation,
            "stored": report.stored,
            "unchanged": report.unchanged,
            "invalid": report.invalid,
            "conflicts": report.conflicts,
        },
        json_output=json_output,
        how="validated against the PACT schema of each footprint's specVersion",
    )
    if report.invalid or report.conflicts:
        raise typer.Exit(1)


def _print_intake(report: dict[str, Any], *, json_output: bool, how: str) -> None:
    """Print what a pull or an import stored and refused."""
    if json_output:
        echo_json(report)
        return
    typer.echo(
        f"Stored {len(report['stored'])} new footprint(s) for {report['organisation']} "
        f"({len(report['unchanged'])} held already; {how})."
    )
    for pf_id, problems in report["invalid"].items():
        typer.echo(f"Refused {pf_id}: {'; '.join(problems[:3])}", err=True)
    for pf_id, message in report["conflicts"].items():
        typer.echo(f"Refused {pf_id}: {message}", err=True)


@app.command("request")
def request(
    url: Annotated[str, typer.Argument(help="Base URL of the supplier's PACT host.")],
    client_id: ClientId,
    client_secret: Secret,
    source: Annotated[
        str,
        typer.Option(
            help="Base URL of our own PACT host (where the "
            "answer is sent), e.g. https://pcf.example.com"
        ),
    ],
    product_id: Annotated[list[str], typer.Option("--product-id", help="Product id (URN).")],
    answered_by: Annotated[
        str | None,
        typer.Option(
            "--answered-by",
            help="Our API client id the supplier answers with (its credentials at our host); "
            "default: the client of the supplier's peer entry (`openpcf pact peer`).",
        ),
    ] = None,
    version: VersionOpt = "3",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer (0: don't).")] = 60,
    ca_file: CaFile = None,
    json_output: JsonOpt = False,
) -> None:
    """Ask a supplier for footprints asynchronously and wait for the answer on our host.

    The request is recorded first: our host accepts one answer to it, sent with the
    ``--answered-by`` client's token, and stores its footprints for that client's organisation.
    """
    from openpcf.services.pact.pull import send_request, wait_for_answer

    api = _version(version)
    answerer = answered_by or _peer_client(url, api)
    if answerer is None:
        raise InputError(
            f"which of our API clients does {url} answer with? Give --answered-by CLIENT_ID "
            "(credentials issued to the supplier with `openpcf storage create-client`), or "
            "configure the supplier with `openpcf pact peer`"
        )
    engine = _engine()
    try:
        with _pact_client(url, client_id, client_secret, ca_file) as client:
            request_id = send_request(
                client,
                engine=engine,
                answered_by=answerer,
                source=source,
                criteria={"productId": product_id},
                version=api,
            )
        typer.echo(f"Sent request {request_id}; the answer goes to {source}.", err=json_output)
        if wait <= 0:
            return
        answer = wait_for_answer(engine, request_id=request_id, timeout=wait)
    finally:
        engine.dispose()
    if answer is None:
        typer.echo(
            f"No answer within {wait:g} s (is `openpcf serve` running at {source}?)", err=True
        )
        raise typer.Exit(1)
    if json_output:
        echo_json(answer)
    elif "pfs" in answer["data"]:
        ids = ", ".join(pf["id"] for pf in answer["data"]["pfs"])
        typer.echo(f"Fulfilled: {ids} (stored in the supplier store of the database)")
    else:
        error = answer["data"]["error"]
        typer.echo(f"Rejected: {error['code']}: {error['message']}")
        raise typer.Exit(1)


@app.command("deliver")
def deliver(json_output: JsonOpt = False) -> None:
    """Deliver the due outbox events once (answers to requests, with retries)."""
    from openpcf.db.engine import make_engine
    from openpcf.services.pact.outbox import deliver_due
    from openpcf.services.pact.peers import FilePeers, peers_file
    from openpcf.settings import get_settings

    engine = make_engine()
    try:
        report = deliver_due(engine, peers=FilePeers(peers_file(get_settings().home)))
    finally:
        engine.dispose()
    counts = {k: len(getattr(report, k)) for k in ("delivered", "failed", "abandoned")}
    typer.echo(
        json.dumps(counts) if json_output else ", ".join(f"{v} {k}" for k, v in counts.items())
    )


@app.command("peer")
def peer(
    client_id: Annotated[str, typer.Argument(help="Our API client id (the requester).")],
    base_url: Annotated[str, typer.Option(help="The requester's PACT host (https://…).")],
    remote_client_id: Annotated[str, typer.Option(help="Client id it issued to us.")],
    remote_client_secret: Annotated[
        str, typer.Option(envvar="OPENPCF_PACT_REMOTE_SECRET", help="Client secret it issued.")
    ],
    auth_base_url: Annotated[str | None, typer.Option(help="Its auth host, if separate.")] = None,
    ca_file: CaFile = None,
) -> None:
    """Configure where answers to a client's requests go ($OPENPCF_HOME/pact/peers.json)."""
    from openpcf.services.pact.peers import FilePeers, Peer, peers_file
    from openpcf.settings import get_settings

    FilePeers(peers_file(get_settings().home)).save(
        Peer(
            client_id=client_id,
            base_url=base_url,
            remote_client_id=remote_client_id,
            remote_client_secret=remote_client_secret,
            auth_base_url=auth_base_url,
            ca_file=str(ca_file) if ca_file else None,
        )
    )
    typer.echo(f"Answers to {client_id}'s requests go to {base_url.rstrip('/')}/<2|3>/events.")


@app.command("answer-mode")
def answer_mode(
    mode: Annotated[
        str, typer.Argument(help="auto: answer at once (default); review: hold for a person.")
    ],
    org: Annotated[str, typer.Option("--org", help="The organisation (data owner).")],
) -> None:
    """How our host answers the RequestCreated events of an organisation's API clients."""
    from openpcf.services.pact.review import set_answer_mode

    engine = _engine()
    try:
        former = set_answer_mode(engine, organisation=org, mode=mode)
    finally:
        engine.dispose()
    typer.echo(f"{org}: answer mode {mode} (was {former}).")
    if mode == "review":
        typer.echo("Requests now wait for `openpcf pact requests fulfil|reject` or the web page.")


@requests_app.command("list")
def requests_list(org: OwnerOpt = None, json_output: JsonOpt = False) -> None:
    """The received requests waiting for an answer, with the footprints that match."""
    from openpcf.services.pact.review import organisation_id, pending_requests

    engine = _engine()
    try:
        pending = pending_requests(engine, organisation_id=organisation_id(engine, org))
    finally:
        engine.dispose()
    if json_output:
        echo_json(
            [
                {
                    "id": p.id,
                    "eventId": p.event_id,
                    "version": p.version,
                    "client": p.requester,
                    "received": p.received.isoformat(),
                    "criteria": p.criteria,
                    "matching": [c.footprint_id for c in p.candidates],
                }
                for p in pending
            ]
        )
        return
    if not pending:
        typer.echo("No request waits for an answer.")
    for p in pending:
        criteria = json.dumps(p.criteria, ensure_ascii=False)[:200]
        typer.echo(f"{p.id}  from {p.requester}  {p.received:%Y-%m-%d %H:%M} UTC  {criteria}")
        for c in p.candidates:
            typer.echo(f"    matching {c.footprint_id}  {c.pcf} kg CO2e per {c.unit}  {c.status}")


@requests_app.command("fulfil")
def requests_fulfil(
    request_id: Annotated[int, typer.Argument(help="The request's id (`pact requests list`).")],
    footprint: Annotated[
        list[str], typer.Option("--footprint", help="A footprint id to send (repeatable).")
    ],
    org: OwnerOpt = None,
) -> None:
    """Answer a held request with footprints the requesting client may read."""
    from openpcf.services.pact.review import fulfil, organisation_id

    engine = _engine()
    try:
        queued = fulfil(
            engine,
            organisation_id=organisation_id(engine, org),
            request_id=request_id,
            footprint_ids=footprint,
            peers=_peers(),
            by=_operator(),
        )
    finally:
        engine.dispose()
    typer.echo(f"Queued the Fulfilled answer to request {request_id} (outbox {queued}).")


@requests_app.command("reject")
def requests_reject(
    request_id: Annotated[int, typer.Argument(help="The request's id (`pact requests list`).")],
    code: Annotated[
        str,
        typer.Option(
            "--code",
            help="PACT error code: NotFound (v2.3 NoSuchFootprint), AccessDenied, BadRequest, "
            "NotImplemented or InternalError.",
        ),
    ],
    message: Annotated[str, typer.Option("--message", help="What the requester reads.")],
    org: OwnerOpt = None,
) -> None:
    """Answer a held request with a PACT error."""
    from openpcf.services.pact.review import organisation_id, reject

    engine = _engine()
    try:
        queued = reject(
            engine,
            organisation_id=organisation_id(engine, org),
            request_id=request_id,
            code=code,
            message=message,
            peers=_peers(),
            by=_operator(),
        )
    finally:
        engine.dispose()
    typer.echo(f"Queued the Rejected answer to request {request_id} (outbox {queued}).")


def _peers() -> FilePeers:
    from openpcf.services.pact.peers import FilePeers, peers_file
    from openpcf.settings import get_settings

    return FilePeers(peers_file(get_settings().home))


def _operator() -> str:
    """Who answered, as recorded with the answer (the command line's user)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a container
        return "cli"


@app.command("catenax")
def catenax(
    footprint: Annotated[
        str, typer.Argument(help="A PACT v3 footprint JSON file, or the id of a stored footprint.")
    ],
    region: Annotated[
        str | None, typer.Option(help="UN M49 region when the footprint names a country only.")
    ] = None,
    cradle_to_grave: Annotated[
        bool, typer.Option("--cradle-to-grave", help="partialFullPcf Cradle-to-grave.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export a footprint as Catena-X PCF 8.0.0 JSON (mapping in docs/pact-host.md)."""
    from openpcf.exchange.catenax import catenax_pcf

    path = Path(footprint)
    if path.is_file():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise InputError(f"{path}: not valid JSON ({e})") from None
        document = document.get("data", document)
    else:
        document = _stored_document(footprint)
    doc = catenax_pcf(
        document,
        region=region,
        partial_full="Cradle-to-grave" if cradle_to_grave else "Cradle-to-gate",
    )
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


def _stored_document(pf_id: str) -> dict[str, object]:
    import uuid

    from openpcf.db.engine import make_engine, session_scope
    from openpcf.db.models import Footprint

    try:
        key = uuid.UUID(pf_id)
    except ValueError:
        raise InputError(f"{pf_id!r} is neither a file nor a footprint id (a UUID)") from None
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            found = session.get(Footprint, key)
            if found is None:
                raise InputError(f"no stored footprint {pf_id}")
            return dict(found.document)
    finally:
        engine.dispose()


def _pact_client(url: str, client_id: str, client_secret: str, ca_file: Path | None) -> PactClient:
    """A client of the PACT host at ``url`` (trusting ``ca_file`` too, when given)."""
    from openpcf.exchange.client import PactClient

    return PactClient(
        url,
        client_id=client_id,
        client_secret=client_secret,
        verify=str(ca_file) if ca_file else True,
    )
