"""Validate PACT documents against the official OpenAPI schemas.

The PACT OpenAPI files (3.1, i.e. JSON Schema 2020-12 components) are not shipped with
OpenPCF: pass the path of ``openapi.yaml`` of the spec version to check against. The whole
OpenAPI document goes into a :mod:`referencing` registry so that the ``$ref:
'#/components/schemas/...'`` links inside it resolve, and a document is validated against
``#/components/schemas/ProductFootprint`` (or any other component).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from openpcf.errors import InputError

#: Base URI under which the OpenAPI document is registered.
_BASE = "urn:openpcf:pact-openapi"


def _is_datetime(value: object) -> bool:
    """RFC 3339 date-time with a time zone (``Z`` or an offset)."""
    if not isinstance(value, str):
        return True
    if "T" not in value and "t" not in value:
        return False
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _format_checker() -> FormatChecker:
    # jsonschema checks "date-time" only when rfc3339-validator is installed; check it here.
    checker = FormatChecker()
    checker.checks("date-time")(_is_datetime)
    return checker


@cache
def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"PACT OpenAPI file {path} does not exist: give the path of the spec's openapi.yaml"
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(f"PACT OpenAPI file {path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("components"), dict):
        raise InputError(f"PACT OpenAPI file {path} has no 'components' section")
    return doc


def validator(openapi_path: Path, component: str = "ProductFootprint") -> Draft202012Validator:
    """A Draft 2020-12 validator for ``#/components/schemas/<component>`` of the OpenAPI file."""
    path = Path(openapi_path).resolve()
    doc = _load(path)
    schemas = doc["components"].get("schemas", {})
    if component not in schemas:
        raise InputError(f"PACT OpenAPI file {path} defines no schema {component!r}")
    resource: Resource[Any] = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_BASE, resource)
    schema = {"$ref": f"{_BASE}#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=registry, format_checker=_format_checker())


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(document)"
    return f"{where}: {error.message}"


def validate_footprint(
    doc: dict[str, Any], *, openapi_path: Path, component: str = "ProductFootprint"
) -> list[str]:
    """Readable schema errors of ``doc`` (``"pcf/fossilGhgEmissions: ..."``); empty when valid."""
    errors = sorted(
        validator(openapi_path, component).iter_errors(doc),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    return [_describe(e) for e in errors]
