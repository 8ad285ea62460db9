"""The frozen outcome of one calculation, and the one footprint id it carries everywhere.

A :class:`Calculation` is what :func:`openpcf.services.calculate.calculate` returns: the
compiled model (with its factor rows and provenance) and the solved, frozen result. Every
deliverable (PACT footprint, report, certificate, verification package, audit record) is a view
of one calculation and carries its :attr:`Calculation.footprint_id`.

Design note: the footprint id is a UUID v5 of the calculation's identity, not a random UUID.
The identity is what ISO 14067 and a verifier call "the same calculation": the model text,
the resolved parameters, the exact factor rows, the GWP set, the software version and the
reference period (hashes from the result's provenance). The model file's path and the solver
are left out: the same model on another machine, or solved by PARDISO instead of SuperLU, is
the same footprint. So ``calc --format pact``, ``publish``, ``certificate issue``, ``package``,
``report`` and the audit trail all name one id without having to look each other up, and a
changed input gives a new id, as PACT requires of a changed footprint.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpcf.core.results import FootprintResult
    from openpcf.model.compiler import CompiledModel
    from openpcf.model.conformance import Conformance

#: Namespace of OpenPCF footprint ids (a fixed, random UUID; never change it).
FOOTPRINT_NAMESPACE = uuid.UUID("5b0c3f4e-8a7d-4c1e-9a55-0d5f2e6c7b21")

#: Provenance entries that make up a footprint's identity.
IDENTITY_KEYS = (
    "model_sha256",
    "parameters_sha256",
    "factor_rows_sha256",
    "gwp_set",
    "openpcf_version",
)
#: Identity entries present only when the calculation was made under a rule set or other
#: modelling choices (``calc --rules``, ``compare``); absent, the id is what it always was.
OPTIONAL_IDENTITY_KEYS = ("rules_sha256", "methodology_sha256", "supplier_substitutions")


@dataclass(frozen=True, slots=True)
class Calculation:
    """A compiled product model and its frozen footprint result."""

    compiled: CompiledModel
    result: FootprintResult
    #: the model checked against its rule set, when it was calculated under one
    conformance: Conformance | None = None

    @property
    def footprint_id(self) -> uuid.UUID:
        """The id of this calculation's footprint in every deliverable (see the module note)."""
        period = self.compiled.model.product.reference_period
        return footprint_id(
            dict(self.result.provenance), f"{period.start.isoformat()}/{period.end.isoformat()}"
        )


def footprint_id(provenance: dict[str, str], reference_period: str) -> uuid.UUID:
    """UUID v5 of the identity entries of ``provenance`` and the reference period.

    >>> footprint_id({k: "x" for k in IDENTITY_KEYS}, "2024-01-01/2024-12-31").version
    5
    """
    identity = {k: provenance.get(k, "") for k in IDENTITY_KEYS}
    identity |= {k: provenance[k] for k in OPTIONAL_IDENTITY_KEYS if k in provenance}
    identity["reference_period"] = reference_period
    return uuid.uuid5(FOOTPRINT_NAMESPACE, json.dumps(identity, sort_keys=True))
