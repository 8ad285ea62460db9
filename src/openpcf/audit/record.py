"""What the audit trail records about a calculation.

:func:`record_calculation` is meant to be called once per calculation from the edge that runs
it (CLI command, API route, batch job), right after :func:`openpcf.services.calculate.calculate`
returns. The record holds everything a verifier needs to tell whether a later result was made
from the same inputs: the hashes of the model text, the resolved parameters, the exact factor
rows used (overall and per source database or side file), the factor sets loaded, the sector
rules applied, the GWP set, the solver and the software version, plus the result's own hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rfc8785

from openpcf.audit.trail import AuditRecord, AuditTrail, TrailReport, actor
from openpcf.model.result_json import result_to_dict

if TYPE_CHECKING:
    from openpcf.model.calculation import Calculation


def _trail(trail: AuditTrail | Path | str) -> AuditTrail:
    return trail if isinstance(trail, AuditTrail) else AuditTrail(trail)


def _sha256(data: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(data)).hexdigest()


def calculation_record(calculation: Calculation) -> dict[str, Any]:
    """The data of an audit record for ``calculation`` (JSON-ready, no timestamps)."""
    compiled, result = calculation.compiled, calculation.result
    prov = dict(result.provenance)
    in_set = compiled.factor_set.factors
    sources: dict[str, list[Any]] = {}
    for f in compiled.factors:
        # rows not in the factor set were derived from side files (supplier PACT footprints,
        # shipments, electricity claims): their "database" is that side file
        origin = f.set_name or ("factor set" if f.id in in_set else "side file")
        sources.setdefault(origin, []).append(f.canonical())
    databases = [
        {"name": name, "rows_used": len(rows), "rows_sha256": _sha256(rows)}
        for name, rows in sorted(sources.items())
    ]
    return {
        "product": result.product,
        "product_ids": list(compiled.model.product.ids),
        "declared_unit": result.declared_unit,
        "declared_amount": result.declared_amount,
        "kg_co2e": result.total,
        "result_sha256": _sha256(result_to_dict(result)),
        "model_file": prov.get("model_file", str(compiled.loaded.path)),
        "model_sha256": prov.get("model_sha256"),
        "parameters": dict(sorted(compiled.parameters.items())),
        "parameters_sha256": prov.get("parameters_sha256"),
        "factor_rows_sha256": prov.get("factor_rows_sha256"),
        "factor_rows": len(compiled.factors),
        "factor_set": prov.get("factor_set"),
        "factor_set_sha256": prov.get("factor_set_sha256"),
        "factor_sets_loaded": list(compiled.factor_set.set_names),
        "databases": databases,
        # no sector-rule layer exists yet; the key is kept so records stay one shape
        "rules": prov.get("rules", []),
        "gwp_set": prov.get("gwp_set"),
        "gwp_source": prov.get("gwp_source"),
        "solver": prov.get("solver"),
        "openpcf_version": prov.get("openpcf_version"),
    }


def record_calculation(
    calculation: Calculation,
    *,
    trail: AuditTrail | Path | str,
    kind: str = "calculation",
    context: Mapping[str, str] | None = None,
) -> AuditRecord:
    """Append a record of ``calculation`` to the trail and return it.

    Parameters
    ----------
    calculation
        What :func:`openpcf.services.calculate.calculate` returned.
    trail
        The trail, or its file path (the edge passes ``settings.audit_trail``).
    kind
        "calculation" (default), "package", "certificate", "reproduction", ...
    context
        Extra strings to keep with the record, e.g. ``{"command": "openpcf calc ..."}``.

    Raises
    ------
    TrailTamperedError
        If the stored trail is damaged at its end (a damaged chain is never extended). What an
        interrupted earlier append left there is recovered first, with a ``repair`` record.
    """
    data = calculation_record(calculation)
    data["actor"] = actor()
    if context:
        data["context"] = dict(context)
    return _trail(trail).append(kind, json.loads(json.dumps(data)))


def verify_trail(trail: AuditTrail | Path | str) -> TrailReport:
    """Check every record of the trail and its head anchor.

    What an interrupted append left at the end is not tampering: it is reported in
    ``TrailReport.artefact`` and recovered by the next append or :func:`repair_trail`.

    Raises
    ------
    TrailTamperedError
        Naming the first bad record and what is wrong (edited, deleted, reordered, inserted,
        cut off the end).
    """
    return _trail(trail).verify()


def repair_trail(trail: AuditTrail | Path | str) -> AuditRecord | None:
    """Recover what an interrupted append left, with a recorded ``repair`` record.

    Returns that record, or None when there was nothing to recover.

    Raises
    ------
    TrailTamperedError
        If the trail was tampered with: repair never rewrites history, it only records.
    """
    return _trail(trail).repair()


def list_records(trail: AuditTrail | Path | str) -> list[AuditRecord]:
    """Every record of the trail in stored order (unchecked; see :func:`verify_trail`)."""
    return _trail(trail).records()
