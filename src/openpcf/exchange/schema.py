"""Validate PACT ProductFootprints: with OpenPCF's own validator, or against an OpenAPI file.

By default a footprint is checked by OpenPCF's own implementation of the PACT data model
(:mod:`openpcf.exchange.footprint_schema`, v3.0 and v2.3), so every installation validates what
it receives without any file. OpenPCF ships no WBCSD file: their licence allows sharing only
unmodified copies, non-commercially, which an Apache-2.0 package cannot promise.

A user who wants the official document itself gives its path (``openapi_path=`` here,
``--openapi`` on the command line): the whole OpenAPI 3.1 document goes into a
:mod:`referencing` registry so that its ``$ref: '#/components/schemas/...'`` links resolve, and
the footprint is validated against ``#/components/schemas/ProductFootprint`` (or another
component) with JSON Schema Draft 2020-12. Both ways report problems the same way
(``"pcf/fossilGhgEmissions: ..."``) and use the same format checks; where their verdicts differ
is listed in :mod:`openpcf.exchange.footprint_schema`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from openpcf.errors import InputError
from openpcf.exchange import footprint_schema
from openpcf.exchange.footprint_schema.base import is_date_time, is_uri, is_uuid

#: Base URI under which the OpenAPI document is registered.
_BASE = "urn:openpcf:pact-openapi"


def spec_major(doc: Mapping[str, Any]) -> str | None:
    """``"3"`` or ``"2"`` from a footprint's ``specVersion`` (``None`` for anything else)."""
    spec = doc.get("specVersion")
    if isinstance(spec, str) and spec[:2] in ("3.", "2."):
        return spec[0]
    return None


def validated_against(version: str, openapi_path: Path | None = None) -> str:
    """What :func:`validate_footprint` checks with these arguments, for reports and logs.

    >>> validated_against("3")
    "OpenPCF's PACT v3.0 ProductFootprint validator"
    """
    if openapi_path is not None:
        return str(openapi_path)
    return f"OpenPCF's PACT v{_spec(version)} ProductFootprint validator"


def _spec(version: str) -> str:
    try:
        return footprint_schema.SPEC[version]
    except KeyError:
        raise InputError(f"no PACT schema for version {version!r}; OpenPCF reads 3 and 2") from None


def _strings_only(check: Callable[[str], bool]) -> Callable[[object], bool]:
    # a format applies to strings only; the type keyword judges everything else
    return lambda value: not isinstance(value, str) or check(value)


def _format_checker() -> FormatChecker:
    """The format checks of OpenPCF's own validator, for ``jsonschema``.

    ``jsonschema`` checks ``date-time`` and ``uri`` only when optional packages are installed,
    and its ``uuid`` accepts what :class:`uuid.UUID` parses; these make both ways agree.
    """
    checker = FormatChecker()
    checker.checks("date-time")(_strings_only(is_date_time))
    checker.checks("uuid")(_strings_only(is_uuid))
    checker.checks("uri")(_strings_only(is_uri))
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


@cache
def validator(openapi_path: Path, component: str = "ProductFootprint") -> Draft202012Validator:
    """A Draft 2020-12 validator for ``#/components/schemas/<component>`` of the OpenAPI file.

    Cached: building the registry costs more than checking one document.
    """
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
    doc: dict[str, Any],
    *,
    openapi_path: Path | None = None,
    version: str = "3",
    component: str = "ProductFootprint",
) -> list[str]:
    """Readable problems of ``doc`` (``"pcf/fossilGhgEmissions: ..."``); empty when valid.

    Without ``openapi_path``: OpenPCF's validator of the ProductFootprint of PACT API
    ``version`` (``"3"``: v3.0, ``"2"``: v2.3). With it: the ``component`` schema of that
    OpenAPI file (the official ``openapi.yaml`` of the spec version, brought by the user).
    """
    if openapi_path is None:
        _spec(version)
        if component != "ProductFootprint":
            raise InputError(
                f"OpenPCF's own PACT validator checks ProductFootprint documents, not "
                f"{component!r}: give the official openapi.yaml as openapi_path (--openapi)"
            )
        return footprint_schema.validate(doc, version=version)
    errors = sorted(
        validator(Path(openapi_path), component).iter_errors(doc),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    return [_describe(e) for e in errors]
