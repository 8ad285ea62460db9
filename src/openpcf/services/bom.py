"""Use case: a new product model from a bill of materials (``openpcf model from-bom``, the
web page ``/models/new``).

The factors proposed are those a calculation of the written model would use: the caller
passes the active factor set (the CLI: bundled, ``$OPENPCF_HOME/factors`` and ``--factors``;
the web: bundled only, the data the web editor validates with), so every id written into the
model resolves when the model is validated with the same set. The chosen factor of a line
must be one of that line's ranked candidates: a factor id from anywhere else (a form edited
by hand) is refused, never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpcf.errors import InputError
from openpcf.factors.matching import Candidate
from openpcf.factors.store import FactorSet
from openpcf.methods.gwp import gwp_set
from openpcf.model.bom import Bom, ModelHeader, Proposal, propose, read_bom, render_model

__all__ = ["BomModel", "bom_proposals", "co2e_ar6", "model_from_choices"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BomModel:
    """The written model text and the lines left unmatched."""

    text: str
    matched: int
    unmatched: tuple[int, ...]  # BOM rows


def co2e_ar6(candidate: Candidate) -> float:
    """kg CO2e (AR6) per unit of the candidate's factor, as ``factors search`` shows it."""
    return candidate.factor.co2e(gwp_set("AR6").values)


def bom_proposals(
    data: bytes, *, name: str, factors: FactorSet, geography: str | None = "CN"
) -> tuple[Bom, tuple[Proposal, ...]]:
    """The BOM in ``data`` and the ranked candidates for each of its lines."""
    bom = read_bom(data, name=name)
    return bom, propose(bom, factors, geography=geography)


def model_from_choices(
    bom: Bom,
    proposals: Sequence[Proposal],
    choices: Mapping[int, str | None],
    *,
    header: ModelHeader,
) -> BomModel:
    """The model with, per BOM row, the factor id chosen among that row's candidates
    (``None`` or ``""``: leave the line unmatched).

    Raises
    ------
    InputError
        A chosen id that is not one of the row's candidates, naming the row.
    """
    chosen: dict[int, Candidate | None] = {}
    for proposal in proposals:
        row = proposal.line.row
        wanted = choices.get(row) or None
        if wanted is None:
            chosen[row] = None
            continue
        found = [c for c in proposal.candidates if c.factor.id == wanted]
        if not found:
            raise InputError(
                f"{bom.name}, row {row}: factor {wanted!r} is not one of the candidates "
                "proposed for this line; choose one of them or leave the line unmatched"
            )
        chosen[row] = found[0]
    text = render_model(bom, chosen, header=header, gwp_values=gwp_set("AR6").values)
    unmatched = tuple(row for row, c in chosen.items() if c is None)
    return BomModel(text=text, matched=len(chosen) - len(unmatched), unmatched=unmatched)
