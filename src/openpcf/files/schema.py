"""The strict pydantic base class of every user-file schema (models, shipments, claims, CBAM)."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    """Unknown keys are errors, values are frozen and strings are stripped of outer spaces.

    A boolean where a number is expected is an error too (issue 11, item 11). YAML reads
    ``true``, ``yes`` and ``on`` as booleans, and pydantic's lax mode turns ``True`` into
    ``1.0`` for a ``float`` field, so ``amount: yes`` used to become an amount of 1 without a
    word. Fields that accept booleans (``primary: true``) are not affected.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        # A model validator, not a field validator on "*": pydantic forbids "before"
        # validators on the discriminator fields of tagged unions.
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                where = _misplaced_boolean(data[key], field.annotation) if key in data else None
                if where is not None:
                    raise ValueError(
                        f"{key}{where}: a boolean (true/false, yes/no, on/off) is not a number; "
                        "write the number"
                    )
        return data


def _misplaced_boolean(value: Any, annotation: Any) -> str | None:
    """Where ``value`` holds a boolean that ``annotation`` takes as a number: ``""`` for the
    value itself, ``".key"`` or ``"[i]"`` inside it, or ``None`` for nowhere.

    Lists and dict values are looked into (``parameters: {a: true}``); nested models check
    their own fields.
    """
    if isinstance(value, bool):
        return None if _accepts_bool(annotation) else ""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _misplaced_boolean(value, args[0])
    if origin in (Union, types.UnionType):
        found = [_misplaced_boolean(value, a) for a in args if _container_of(value, a)]
        return found[0] if found and all(f is not None for f in found) else None
    items: list[tuple[str, Any, Any]] = []
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        items = [(f".{k}", v, args[1]) for k, v in value.items()]
    elif isinstance(value, list) and origin in (list, tuple) and args:
        items = [(f"[{i}]", v, args[0]) for i, v in enumerate(value)]
    for where, item, inner in items:
        found_in = _misplaced_boolean(item, inner)
        if found_in is not None:
            return where + found_in
    return None


def _container_of(value: Any, annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _container_of(value, get_args(annotation)[0])
    return (isinstance(value, dict) and origin is dict) or (
        isinstance(value, list) and origin in (list, tuple)
    )


def _accepts_bool(annotation: Any) -> bool:
    """Whether a boolean may stand in a field of type ``annotation`` (as far as this check goes).

    It may, unless the field wants a number (``int``, ``float``, a union of them with no
    ``bool`` member): pydantic itself refuses a boolean for a string, a list or a mapping.
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _accepts_bool(args[0])
    if origin in (Union, types.UnionType):
        return all(_accepts_bool(a) for a in args) or any(a is bool for a in args)
    return annotation not in (int, float)
