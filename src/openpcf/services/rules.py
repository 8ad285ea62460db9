"""Use cases of sector rules: browse the rule sets, check a model against one.

``check`` looks at the model *as written*: it is calculated with its own modelling choices
(not the rule set's), so a model that allocates by mass where the rule set demands energy is
told so. ``calc --rules`` is the other half: it applies the rule set's choices and records the
conformance of the model as calculated (:func:`openpcf.services.calculate.calculate`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Unpack

from openpcf.errors import InputError, RuleSetError
from openpcf.model.conformance import Conformance
from openpcf.model.loading import LoadedModel, load_model
from openpcf.rules.check import check
from openpcf.rules.loading import LoadedRuleSet, RuleBook
from openpcf.services.calculate import CalculationOptions, calculate, rule_set_for


def list_rule_sets(
    folders: Sequence[Path] = (), rule_files: Sequence[Path] = ()
) -> list[LoadedRuleSet]:
    """Every rule set a model can name: bundled, those in ``folders`` (the user's
    ``$OPENPCF_HOME/rules``), ``rule_files``."""
    return list(RuleBook(folders=folders, paths=rule_files))


def get_rule_set(
    ref: str, folders: Sequence[Path] = (), rule_files: Sequence[Path] = ()
) -> LoadedRuleSet:
    """The rule set ``id`` or ``id@version`` (see :func:`list_rule_sets`)."""
    return RuleBook(folders=folders, paths=rule_files).get(ref)


def check_model(
    model: Path | str | LoadedModel, **options: Unpack[CalculationOptions]
) -> Conformance:
    """The model as written, checked clause by clause against ``options["rules"]`` (default:
    the rule set its ``rules:`` names).

    Raises
    ------
    RuleSetError
        Neither ``rules`` nor the model names a rule set; unknown rule set; a rule set for
        another product class.
    """
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    settings = options.get("settings")
    rule_files = tuple(options.get("rule_files", ()))
    ruleset = rule_set_for(loaded, options.get("rules"), rule_files=rule_files, settings=settings)
    if ruleset is None:
        raise RuleSetError(
            f"{loaded.path}: name the rule set to check against: --rules ID, or rules: in the "
            "model (openpcf rules list shows them)"
        )
    own = {k: v for k, v in options.items() if k not in ("rules", "rule_files")}
    as_written = replace(loaded, model=loaded.model.model_copy(update={"rules": None}))
    calculation = calculate(as_written, **own)  # type: ignore[arg-type]
    return check(ruleset, loaded, calculation)


#: A place in a model file (keys and indices, as :meth:`LoadedModel.where` takes them).
Place = tuple[str | int, ...]


def outside_references(loaded: LoadedModel) -> list[tuple[str, Place]]:
    """What a model names outside its own text (files by path, imported databases), and where.

    A model sent over the network (``POST /rules/{id}/check``, ``/rules/compare``, the web
    application's rule check) is checked on bundled data only: each of these is refused there,
    so a client cannot make the host read a path it names (``factor_sets: [/etc/passwd]``) or
    learn about the host's databases.
    """
    model = loaded.model
    found: list[tuple[str, Place]] = [
        (f"factor set {name!r}", ("factor_sets", k)) for k, name in enumerate(model.factor_sets)
    ]
    background = model.background_electricity
    if background is not None and background.electricity_claim:
        found.append(
            ("an electricity claims file", ("background_electricity", "electricity_claim"))
        )
    for i, process in enumerate(model.processes):
        for k, inp in enumerate(process.inputs):
            place: Place = ("processes", i, "inputs", k)
            if inp.shipment or inp.electricity_claim:
                found.append((f"{inp.kind} file", place))
            ref = inp.supplier_footprint
            if ref and not ref.lower().startswith("urn:") and not _is_uuid(ref):
                found.append(("a supplier footprint file", place))
            if inp.background is not None:
                found.append(("an imported database", place))
    return found


def refuse_outside_references(loaded: LoadedModel) -> None:
    """Raise an :class:`InputError` naming every place of :func:`outside_references`."""
    found = outside_references(loaded)
    if found:
        raise InputError(
            "a model sent to the host is checked on bundled data only; it names:\n  "
            + "\n  ".join(f"{loaded.where(*place)}: {what}" for what, place in found)
        )


def _is_uuid(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}", text))


def conformance_dict(c: Conformance) -> dict[str, Any]:
    """The JSON form of a conformance (``check --json``, the API)."""
    return {
        "rules": c.rules,
        "version": c.version,
        "title": c.title,
        "title_zh": c.title_zh,
        "sha256": c.sha256,
        "documents": list(c.documents),
        "conforms": c.conforms,
        "errors": c.errors,
        "warnings": c.warnings,
        "choices": list(c.choices),
        "clauses": [
            {
                "clause": s.clause,
                "kind": s.kind,
                "status": s.status,
                "requirement": s.requirement,
                "requirement_zh": s.requirement_zh,
                "source": s.source,
                "short_source": s.short_source,
                "applied": s.applied,
                "findings": [
                    {
                        "severity": f.severity,
                        "message": f.message,
                        "hint": f.hint,
                        "where": f.where,
                        "process": f.process,
                        "source": f.source,
                    }
                    for f in s.findings
                ],
            }
            for s in c.clauses
        ],
    }


def rule_set_dict(r: LoadedRuleSet) -> dict[str, Any]:
    """The JSON form of a rule set as held (``rules show --json``, the API)."""
    data = r.rules.model_dump(mode="json", exclude_none=True)
    data["file"] = "bundled" if r.bundled else str(r.doc.path)
    data["sha256"] = r.sha256
    return data
