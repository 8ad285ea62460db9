"""Primary data substitution: accepted supplier figures replace the secondary data of inputs.

When a supplier's answer to a data request is accepted, its footprint (stored in the
organisation's supplier store, ``supplier_footprint.footprint_id``) becomes the input's data:
:func:`substitute` re-points the input that the request names by its exchange key to
``supplier_footprint: <footprint id>``, keeping its amount and unit. Like
:func:`openpcf.rules.apply.apply`, it returns a modified :class:`LoadedModel` (pydantic
``model_copy``) and never rewrites the model file: the file's text, its hash and its lines
stay those of the file, and the calculation's provenance records what was substituted
(:func:`provenance_text`).

Design note, what the substituted input keeps: its amount, unit, comment and ``uncertainty:``
of the amount. It drops what described the secondary data: ``primary:`` and ``quality:``
(the supplier's footprint states its own primary data share and data quality ratings, which
the compiler then reads), a pedigree-based ``uncertainty:`` (its scores were the secondary
data's) and ``recycled:`` (a supplier's cradle-to-gate figure already includes the recycled
content of what it sells; the Circular Footprint Formula's terms would count it twice).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from openpcf.model.compiler import _exchange_key
from openpcf.model.loading import LoadedModel
from openpcf.model.schema import Input


@dataclass(frozen=True, slots=True, kw_only=True)
class Substitution:
    """An accepted request: the supplier figure that replaces one input's data."""

    request_id: str
    input_key: str
    supplier: str
    material: str
    material_name: str
    footprint_id: str
    accepted: dt.date

    def note(self) -> str:
        """The line the calculation's notes carry."""
        return (
            f"supplier {self.supplier}'s figure ({self.footprint_id}, accepted "
            f"{self.accepted.isoformat()}) replaced {self.material}"
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "request_id": self.request_id,
            "input_key": self.input_key,
            "supplier": self.supplier,
            "material": self.material,
            "material_name": self.material_name,
            "footprint_id": self.footprint_id,
            "accepted": self.accepted.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Substituted:
    """The model with supplier figures in place, what was applied and what was not."""

    loaded: LoadedModel
    applied: tuple[Substitution, ...]
    #: accepted requests whose input the model no longer has (a line each, for the notes)
    unmatched: tuple[str, ...] = ()


def substitute(loaded: LoadedModel, substitutions: Sequence[Substitution]) -> Substituted:
    """``loaded`` with each input named by a substitution's ``input_key`` re-pointed to the
    supplier footprint (see the module's design note); unchanged without substitutions."""
    if not substitutions:
        return Substituted(loaded, ())
    wanted = {s.input_key: s for s in substitutions}
    applied: list[Substitution] = []
    processes = []
    for p in loaded.model.processes:
        inputs = list(p.inputs)
        changed = False
        for k, inp in enumerate(p.inputs):
            found = wanted.get(_exchange_key(p, k, "inputs"))
            if found is None:
                continue
            inputs[k] = repointed(inp, found.footprint_id)
            applied.append(found)
            changed = True
        processes.append(p.model_copy(update={"inputs": inputs}) if changed else p)
    if not applied:
        return Substituted(loaded, (), _unmatched(substitutions, ()))
    model = loaded.model.model_copy(update={"processes": processes})
    return Substituted(
        replace(loaded, model=model), tuple(applied), _unmatched(substitutions, applied)
    )


def repointed(inp: Input, footprint_id: str) -> Input:
    """``inp`` drawing on the supplier footprint ``footprint_id`` (amount and unit kept)."""
    uncertainty = inp.uncertainty if inp.uncertainty and not inp.uncertainty.pedigree else None
    return inp.model_copy(
        update={
            "factor": None,
            "background": None,
            "supplier_footprint": footprint_id,
            "primary": None,
            "quality": None,
            "uncertainty": uncertainty,
            "recycled": None,
        }
    )


def _unmatched(
    substitutions: Sequence[Substitution], applied: Sequence[Substitution]
) -> tuple[str, ...]:
    done = {s.request_id for s in applied}
    return tuple(
        f"accepted request {s.request_id} (supplier {s.supplier}) names input {s.input_key}, "
        "which the model no longer has: its figure was not used"
        for s in substitutions
        if s.request_id not in done
    )


def provenance_text(applied: Sequence[Substitution]) -> str:
    """The substitutions as canonical JSON (sorted by input), for ``result.provenance``."""
    rows = sorted((s.to_dict() for s in applied), key=lambda d: d["input_key"])
    return json.dumps(rows, sort_keys=True, separators=(",", ":"))
