"""The supplier store: suppliers' PACT footprints this installation received, in the database.

One store, per organisation (the receiving data owner), written three ways and read one way:

* ``openpcf pact pull`` (origin ``pulled``, :mod:`openpcf.services.pact.pull`);
* a supplier's answer to a request this host sent (``answered``,
  :mod:`openpcf.services.pact.answers`);
* ``openpcf pact import FILE.json`` (``imported``, :func:`import_footprints`);
* read by ``supplier_footprint: <footprint id | product URN>`` inputs of product models through
  :class:`SupplierStore`, which the calculate service hands to the model compiler.

Every footprint is validated as a PACT ProductFootprint of its version (OpenPCF's own
validator, :mod:`openpcf.exchange.footprint_schema`) before it is stored
(:func:`check_received`), and a stored footprint is never replaced: the same id with the same
content is a no-op, with different content it is refused and reported
(:class:`~openpcf.exchange.errors.FootprintConflictError`).

Design note, which organisation a model reads: the organisation named like the model's
``product.company_name`` (the name ``openpcf publish`` stores it under), so one installation
can serve several data owners without one's suppliers feeding another's numbers. When no
organisation has that name (a model that names no company, a library user), every
organisation's footprints are searched, and a reference that resolves to *different* content
in two organisations is refused as ambiguous instead of picking one.

Design note, the old file inbox (``$OPENPCF_HOME/supplier_footprints/<id>.json``): it is no
longer read and not migrated automatically, because any API client could write into it
(unsolicited RequestFulfilled events); importing it unchecked would launder injected numbers
into the trusted store. When a lookup fails and that folder still holds files, the error says
so and how to import a checked file (``openpcf pact import``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from openpcf.db import repositories as repo
from openpcf.db.base import utcnow
from openpcf.db.engine import make_engine, session_scope
from openpcf.db.errors import NotFoundError
from openpcf.db.models import ApiClient, Organisation, SupplierFootprint
from openpcf.errors import InputError
from openpcf.exchange.errors import FootprintConflictError, SupplierFootprintError
from openpcf.exchange.schema import spec_major, validate_footprint
from openpcf.exchange.supplier import RECEIVE_HINT, ReceivedFootprint
from openpcf.files import jsonfile
from openpcf.files.bounded import read_bounded
from openpcf.model.schema import Product

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

#: The organisation that receives footprints when nothing names one and none exists yet: the
#: ``product.company_name`` of a model that names no company, so such models find them.
DEFAULT_ORGANISATION: str = Product.model_fields["company_name"].default


# --------------------------------------------------------------------------------------------
# checking and storing


def check_received(
    doc: Mapping[str, Any], *, version: str, openapi: Path | None = None
) -> list[str]:
    """Problems of a received footprint of PACT API ``version`` (empty: it may be stored).

    The footprint must validate as a ProductFootprint of ``version`` (OpenPCF's validator,
    or the OpenAPI file ``openapi`` when given) and have a UUID ``id``.
    """
    problems = validate_footprint(dict(doc), openapi_path=openapi, version=version)
    try:
        uuid.UUID(str(doc.get("id", "")))
    except ValueError:
        problems.append(f"id {doc.get('id')!r} is not a UUID")
    return problems


@dataclass
class Stored:
    """What one call stored: ids new in the store, ids held already with the same content."""

    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def store_received(
    session: Session,
    *,
    organisation: Organisation,
    documents: Iterable[Mapping[str, Any]],
    origin: str,
    source: str,
    client: ApiClient | None = None,
    request_event_id: str | None = None,
    now: dt.datetime | None = None,
) -> Stored:
    """Store checked footprints for ``organisation`` in the caller's transaction.

    Raises :class:`FootprintConflictError` at the first footprint whose id is held with other
    content (the caller's transaction then stores none of them).
    """
    out = Stored()
    for doc in documents:
        kept = repo.store_supplier_footprint(
            session,
            organisation=organisation,
            document=doc,
            origin=origin,
            source=source,
            client=client,
            request_event_id=request_event_id,
            received=now or utcnow(),
        )
        (out.new if kept.new else out.unchanged).append(str(kept.row.footprint_id))
    return out


def receiving_organisation(
    session: Session, *, name: str | None = None, client_id: str | None = None
) -> Organisation:
    """The organisation that receives supplier footprints in a command.

    In order: the organisation ``name`` (created if new); the organisation of our API client
    ``client_id`` (the peer configured for the supplier's host); the only organisation there
    is; :data:`DEFAULT_ORGANISATION` when there is none yet. Several organisations and no
    name is an :class:`InputError` listing them.
    """
    if name:
        return repo.ensure_organisation(session, name=name)
    if client_id:
        try:
            return repo.get_client(session, client_id=client_id).organisation
        except NotFoundError:
            pass
    names = list(session.scalars(select(Organisation.name).order_by(Organisation.name).limit(21)))
    if len(names) == 1:
        return repo.get_organisation(session, name=names[0])
    if not names:
        return repo.ensure_organisation(session, name=DEFAULT_ORGANISATION)
    raise InputError(
        f"this database holds several organisations ({', '.join(names[:20])}); name the one "
        "that receives the footprints with --org"
    )


# --------------------------------------------------------------------------------------------
# import from a file


@dataclass
class ImportReport:
    """What ``openpcf pact import`` stored (new, held already) and refused (why), per id."""

    organisation: str
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, str] = field(default_factory=dict)


def import_footprints(
    engine: Engine, path: Path, *, organisation: str | None = None
) -> ImportReport:
    """Import the footprints of a JSON file (origin ``imported``) for ``organisation``.

    The file holds one ProductFootprint, ``{"data": footprint}``, ``{"data": [footprints]}``
    or a list. Each must validate against the PACT schema of its ``specVersion`` (3.x or 2.x);
    invalid ones and ones that conflict with a held footprint are reported, the others stored.
    """
    documents = _read_documents(path)
    with session_scope(engine, write=True) as session:
        org = receiving_organisation(session, name=organisation)
        report = ImportReport(organisation=org.name)
        for doc in documents:
            pf_id = str(doc.get("id") or "<no id>")
            version = spec_major(doc)
            problems = (
                check_received(doc, version=version)
                if version
                else [f"specVersion {doc.get('specVersion')!r} is not a PACT 3.x or 2.x version"]
            )
            if problems:
                report.invalid[pf_id] = problems
                continue
            try:
                stored = store_received(
                    session, organisation=org, documents=[doc], origin="imported", source=str(path)
                )
            except FootprintConflictError as e:
                report.conflicts[pf_id] = str(e)
                continue
            report.stored += stored.new
            report.unchanged += stored.unchanged
    return report


def _read_documents(path: Path) -> list[dict[str, Any]]:
    """The footprints of an import file, read and parsed with bounded cost."""
    data = read_bounded(path, error=InputError)
    try:
        doc = jsonfile.loads(data)
    except ValueError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    if isinstance(doc, dict) and "data" in doc and "pcf" not in doc:
        doc = doc["data"]
    items = doc if isinstance(doc, list) else [doc]
    if not items or not all(isinstance(i, dict) for i in items):
        raise InputError(
            f"{path}: expected a PACT ProductFootprint, a list of them, or a GetFootprint or "
            "ListFootprints response"
        )
    return items


# --------------------------------------------------------------------------------------------
# lookup for supplier_footprint: inputs


class SupplierStore:
    """Received supplier footprints in the database, as product models look them up.

    Implements :class:`openpcf.exchange.supplier.ReceivedFootprints`. It holds the database URL,
    not an engine, so a compiled model that carries it still pickles; each lookup opens a
    short-lived engine. See the module's design note for the organisation rule.
    """

    __slots__ = ("database_url", "legacy_folder", "organisation")

    def __init__(
        self,
        database_url: str,
        *,
        organisation: str | None = None,
        legacy_folder: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.organisation = organisation
        self.legacy_folder = legacy_folder

    def find(self, ref: str, /) -> ReceivedFootprint:
        """The footprint a footprint id or product URN names (Active first, then newest)."""
        if not self._database_exists():
            raise SupplierFootprintError(self._missing(ref, "no supplier footprints received"))
        engine = make_engine(self.database_url)
        try:
            with session_scope(engine) as session:
                org = self._own_organisation(session)
                rows = repo.find_supplier_footprints(session, ref=ref, organisation=org)
                where = (
                    f"supplier footprints received by organisation {org.name!r}"
                    if org is not None
                    else "supplier footprints received (all organisations)"
                )
                row = self._choose(ref, rows, where)
                return ReceivedFootprint(document=dict(row.document), label=_label(row))
        except SQLAlchemyError as e:
            raise SupplierFootprintError(
                f"supplier_footprint {ref!r}: the supplier footprints cannot be read from the "
                f"database ({type(e).__name__}); is it migrated (`openpcf storage upgrade`)?"
            ) from None
        finally:
            engine.dispose()

    def _database_exists(self) -> bool:
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return True
        return Path(url.database).expanduser().exists()

    def _own_organisation(self, session: Session) -> Organisation | None:
        if not self.organisation:
            return None
        try:
            return repo.get_organisation(session, name=self.organisation)
        except NotFoundError:
            return None

    def _choose(self, ref: str, rows: Sequence[SupplierFootprint], where: str) -> SupplierFootprint:
        if not rows:
            what = (
                f"is not among the {where}"
                if _is_uuid(ref)
                else f": no footprint with that product id among the {where}"
            )
            raise SupplierFootprintError(self._missing(ref, what))
        best: dict[int, SupplierFootprint] = {}
        for row in rows:  # best first: the first row of each organisation is its choice
            best.setdefault(row.organisation_id, row)
        if len({row.sha256 for row in best.values()}) > 1:
            names = sorted(row.organisation.name for row in best.values())
            raise SupplierFootprintError(
                f"supplier_footprint {ref!r} names different footprints held by the "
                f"organisations {', '.join(names)}; set product.company_name to the one whose "
                "supplier data the model uses"
            )
        return rows[0]

    def _missing(self, ref: str, what: str) -> str:
        sep = "" if what.startswith(":") else " "
        message = f"supplier_footprint {ref!r}{sep}{what}; {RECEIVE_HINT}"
        folder = self.legacy_folder
        if folder is not None and folder.is_dir() and any(folder.glob("*.json")):
            message += (
                f". The old file inbox {folder} is no longer read (any API client could write "
                "into it): check a file there and import it with `openpcf pact import FILE`"
            )
        return message


def _label(row: SupplierFootprint) -> str:
    return (
        f"supplier footprint {row.footprint_id} held by {row.organisation.name} "
        f"({row.origin} from {row.source}, {row.received_at:%Y-%m-%d})"
    )


def _is_uuid(ref: str) -> bool:
    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True
