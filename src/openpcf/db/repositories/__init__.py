"""Repository functions: everything the PACT host and the publishing service read and write.

All functions take an open :class:`~sqlalchemy.orm.Session` (see
:func:`openpcf.db.engine.session_scope`) and keyword arguments only. They flush but never
commit: the caller's transaction decides. Timestamps are aware UTC datetimes.

Use them through this package (``from openpcf.db import repositories as repo``); the modules
group them by subject: :mod:`.owners` (organisations, API clients, grants, products,
calculations), :mod:`.footprints` (publishing, deprecation, get and list with the v3 filters),
:mod:`.events` (inbound events and the outbox), :mod:`.suppliers` (the requests this host
sent and the supplier footprints it received) and :mod:`.scenarios` (what-ifs stored apart
from the published footprints).
"""

from openpcf.db.repositories.events import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    RETRY_DEADLINE,
    backoff_delay,
    claim_outbox,
    due_outbox,
    enqueue_outbox,
    mark_delivered,
    mark_failed,
    record_event,
)
from openpcf.db.repositories.footprints import (
    DEFAULT_VALIDITY_YEARS,
    FootprintPage,
    add_years,
    deprecate_footprint,
    find_active_footprint,
    footprint_facts,
    get_footprint,
    list_footprints,
    publish_footprint,
)
from openpcf.db.repositories.owners import (
    KNOWN_SCOPES,
    IssuedCredentials,
    authenticate_client,
    create_client,
    create_organisation,
    disable_client,
    ensure_organisation,
    find_product,
    get_client,
    get_organisation,
    get_product,
    grant_access,
    hash_secret,
    record_calculation,
    revoke_access,
    rotate_client,
    upsert_product,
    verify_secret,
)
from openpcf.db.repositories.scenarios import find_scenario, list_scenarios, store_scenario
from openpcf.db.repositories.suppliers import (
    StoredSupplierFootprint,
    content_sha256,
    find_supplier_footprints,
    get_request,
    list_supplier_footprints,
    mark_answered,
    record_request,
    store_supplier_footprint,
)

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_VALIDITY_YEARS",
    "KNOWN_SCOPES",
    "RETRY_DEADLINE",
    "FootprintPage",
    "IssuedCredentials",
    "StoredSupplierFootprint",
    "add_years",
    "authenticate_client",
    "backoff_delay",
    "claim_outbox",
    "content_sha256",
    "create_client",
    "create_organisation",
    "deprecate_footprint",
    "disable_client",
    "due_outbox",
    "enqueue_outbox",
    "ensure_organisation",
    "find_active_footprint",
    "find_product",
    "find_scenario",
    "find_supplier_footprints",
    "footprint_facts",
    "get_client",
    "get_footprint",
    "get_organisation",
    "get_product",
    "get_request",
    "grant_access",
    "hash_secret",
    "list_footprints",
    "list_scenarios",
    "list_supplier_footprints",
    "mark_answered",
    "mark_delivered",
    "mark_failed",
    "publish_footprint",
    "record_calculation",
    "record_event",
    "record_request",
    "revoke_access",
    "rotate_client",
    "store_scenario",
    "store_supplier_footprint",
    "upsert_product",
    "verify_secret",
]
