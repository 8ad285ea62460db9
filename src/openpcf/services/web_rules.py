"""The web page's rule check: a pasted model checked against a chosen rule set.

Like ``POST /rules/{id}/check`` the model is checked on bundled data only. Unlike the API it
also refuses, before anything is calculated, a model that names files (``factor_sets``,
``shipment:``, ``electricity_claim:``, a ``supplier_footprint:`` that is a path, a
``background_electricity`` claims file) or imported databases (``background:``): a pasted
model has no folder of its own, and a path in it would be read from the server's disk. Such a
model is checked with ``openpcf check`` where its files are.

Every problem comes back as a field error (:class:`FieldError`) for the form: the model
field with the line (and column) of a YAML or schema error, or the rule-set field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpcf.errors import OpenPCFError, RuleSetError
from openpcf.model.loading import LoadedModel, load_model
from openpcf.rules.loading import RULE_SUFFIXES
from openpcf.services.rules import check_model, conformance_dict, list_rule_sets, outside_references

#: The largest model the page accepts, in bytes of UTF-8 text.
MAX_MODEL_BYTES = 1_000_000
#: The name the pasted model is known by in messages ("model.yaml:12: ...").
MODEL_NAME = "model.yaml"
_LOCATED = re.compile(rf"^\s*{re.escape(MODEL_NAME)}:(\d+)(?::(\d+))?:\s*(.*)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldError:
    """One problem with one form field; ``line``/``column`` count from 1 in the model text."""

    field: str  # "model" or "rules"
    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSetChoice:
    """A rule set the form offers."""

    ref: str
    id: str
    title: str
    title_zh: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleCheck:
    """The outcome of a check: the conformance (``conformance_dict``'s form) or errors."""

    conformance: dict[str, Any] | None
    errors: tuple[FieldError, ...] = ()


def rule_set_choices(folders: Sequence[Path] = ()) -> list[RuleSetChoice]:
    """The rule sets a model can be checked against: bundled and the host's own."""
    return [
        RuleSetChoice(
            ref=r.ref,
            id=r.rules.id,
            title=r.rules.title.en,
            title_zh=r.rules.title.zh,
        )
        for r in list_rule_sets(folders)
    ]


def check_model_text(text: str, *, rules: str, folders: Sequence[Path] = ()) -> RuleCheck:
    """Check the pasted model ``text`` against the rule set ``rules`` (``id`` or ``id@version``).

    ``folders`` hold the host's own rule sets (read like the bundled ones). Never raises for
    bad input: every problem is a :class:`FieldError`.
    """
    if len(text.encode("utf-8")) > MAX_MODEL_BYTES:
        return _refused("model", f"the model is larger than {MAX_MODEL_BYTES // 1000} kB")
    if not text.strip():
        return _refused("model", "paste a product model (YAML)")
    known = {c.ref for c in rule_set_choices(folders)} | {c.id for c in rule_set_choices(folders)}
    if rules not in known:
        return _refused("rules", "choose one of the rule sets in the list")
    try:
        loaded = load_model(Path(MODEL_NAME), text=text)
    except OpenPCFError as e:
        return RuleCheck(conformance=None, errors=located_errors("model", str(e)))
    outside = files_named(loaded)
    if outside:
        return RuleCheck(conformance=None, errors=outside)
    own = sorted(f for d in folders if d.is_dir() for f in d.iterdir() if f.suffix in RULE_SUFFIXES)
    try:
        conformance = check_model(loaded, rules=rules, rule_files=own)
    except RuleSetError as e:
        return _refused("rules", str(e))
    except OpenPCFError as e:
        return RuleCheck(conformance=None, errors=located_errors("model", str(e)))
    return RuleCheck(conformance=conformance_dict(conformance))


def _refused(field: str, message: str) -> RuleCheck:
    return RuleCheck(conformance=None, errors=(FieldError(field=field, message=message),))


def located_errors(field: str, message: str) -> tuple[FieldError, ...]:
    """``message`` split into its ``model.yaml:LINE[:COL]: ...`` lines, one error each.

    >>> located_errors("model", "model.yaml:2:4: YAML syntax error: bad")[0].line
    2
    """
    found = []
    for raw in message.splitlines():
        m = _LOCATED.match(raw)
        if m:
            found.append(
                FieldError(
                    field=field,
                    message=m.group(3),
                    line=int(m.group(1)),
                    column=int(m.group(2)) if m.group(2) else None,
                )
            )
    if not found:
        text = message.removeprefix(f"{MODEL_NAME}: ")
        return (FieldError(field=field, message=text),)
    return tuple(found)


def files_named(loaded: LoadedModel) -> tuple[FieldError, ...]:
    """An error for each place the model names a file or an imported database."""
    return tuple(_outside(loaded, what, *place) for what, place in outside_references(loaded))


def _outside(loaded: LoadedModel, what: str, *loc: str | int) -> FieldError:
    where = loaded.where(*loc)
    m = re.match(rf"^{re.escape(MODEL_NAME)}:(\d+)", where)
    return FieldError(
        field="model",
        message=(
            f"the model names {what}: a pasted model is checked on bundled data only; "
            "check it with `openpcf check` next to its files"
        ),
        line=int(m.group(1)) if m else None,
    )
