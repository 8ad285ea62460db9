"""The sector rule sets over HTTP: browse them, and check a model against one.

``GET /rules`` and ``GET /rules/{id}`` are public (the rule sets are published documents);
``POST /rules/{id}/check`` takes a product model (YAML, within the host's body limit) from an
authenticated client and answers its conformance clause by clause; ``POST /rules/compare`` the
decomposition of ``openpcf compare``. The model is checked on
bundled data only: no imported database, supplier footprint or file of the host is read for
it, so a client learns nothing about another organisation's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException

from openpcf.api.deps import Body, Claims, State
from openpcf.api.schemas import PACT_ERRORS
from openpcf.errors import InputError, RuleSetError
from openpcf.files import jsonfile
from openpcf.model.loading import load_model
from openpcf.rules.loading import RULE_SUFFIXES
from openpcf.services.compare import compare_methodologies
from openpcf.services.rules import (
    check_model,
    conformance_dict,
    get_rule_set,
    list_rule_sets,
    refuse_outside_references,
    rule_set_dict,
)

router = APIRouter(tags=["rules"], responses=PACT_ERRORS)


def _folders(state: State) -> list[Path]:
    return [state.rules_dir] if state.rules_dir is not None else []


def _own_rule_files(state: State) -> list[Path]:
    """The host's own rule-set files, for the routes that take them as ``rule_files``."""
    return sorted(
        f for d in _folders(state) if d.is_dir() for f in d.iterdir() if f.suffix in RULE_SUFFIXES
    )


@router.get("/rules", summary="The sector rule sets this host holds")
def rules_list(state: State) -> list[dict[str, Any]]:
    return [
        {
            "id": r.rules.id,
            "version": r.rules.version,
            "title": r.rules.title.model_dump(),
            "productClass": r.rules.product_class.model_dump(),
            "clauses": len(r.rules.clauses),
            "sha256": r.sha256,
        }
        for r in list_rule_sets(_folders(state))
    ]


@router.get(
    "/rules/{rule_id}",
    summary="One rule set, every clause with its source",
    responses={404: {"description": "No such rule set"}},
)
def rules_show(rule_id: str, state: State) -> dict[str, Any]:
    try:
        found = get_rule_set(rule_id, _folders(state))
    except RuleSetError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    data = rule_set_dict(found)
    data.pop("file", None)  # the host's own paths are not published
    return data


@router.post(
    "/rules/{rule_id}/check",
    summary="Check a product model (YAML body) against a rule set",
    responses={
        400: {"description": "Bad model or rule set"},
        404: {"description": "No such rule set"},
    },
)
def rules_check(rule_id: str, body: Body, state: State, claims: Claims) -> dict[str, Any]:
    del claims  # any authenticated client may check a model it sends
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the model must be UTF-8 YAML text") from None
    try:
        get_rule_set(rule_id, _folders(state))
    except RuleSetError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
    loaded = load_model(Path("request/model.yaml"), text=text)
    refuse_outside_references(loaded)
    own = _own_rule_files(state)
    return conformance_dict(check_model(loaded, rules=rule_id, rule_files=own))


@router.post(
    "/rules/compare",
    summary="One product model under two methodologies, the difference decomposed",
    responses={400: {"description": "Bad model or choice"}},
)
def rules_compare(body: Body, state: State, claims: Claims) -> dict[str, Any]:
    """Body (JSON): ``{"model": "<YAML text>", "a": ["allocation=energy", ...], "b": [...]}``,
    the choices as ``openpcf compare --a/--b`` takes them (docs/compare.md); the answer is
    ``compare --json``'s. Bundled data only, as for ``/check``."""
    del claims
    try:
        data = jsonfile.loads(body)
    except ValueError as e:
        raise InputError(f"the body is not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), str):
        raise InputError('send {"model": "<model YAML>", "a": [...], "b": [...]}')
    sides = []
    for name in ("a", "b"):
        side = data.get(name, [])
        if not isinstance(side, list) or not all(isinstance(x, str) for x in side):
            raise InputError(f"{name!r} must be a list of KEY=VALUE texts")
        sides.append(side)
    loaded = load_model(Path("request/model.yaml"), text=data["model"])
    refuse_outside_references(loaded)
    own = _own_rule_files(state)
    return compare_methodologies(loaded, sides[0], sides[1], rule_files=own).to_dict()
