"""The package format: its id, the names of the files in the zip, its errors and JSON files.

Layout of the zip::

    manifest.json           format, inputs (overrides, GWP set), the SHA-256 of every other
                            file, the digest and values of every factor row, key results
    manifest.jws            compact JWS over manifest.json (when the issuer has a key)
    jwks.json               the issuer's public keys (when signed or certified)
    model/<model>.yaml      the model file, byte for byte
    model/<side files>      factor sets, supplier PACT footprint files, shipment and
                            electricity-claim files the model references by path, at the same
                            relative paths
    factors/rows.csv        the exact factor rows used, with provenance (a factor-set CSV that
                            ``load_factor_set`` reloads), except the background rows
    background/rows.json    the cradle-to-gate rows of the processes of imported LCI databases
                            the model's ``background:`` inputs use, each with the reference as
                            written in the model, the database's name, version, content hash,
                            format and licence and the process UUID (format 2)
    suppliers/<id>.json     each supplier footprint the model names by footprint id or product
                            URN, exactly as the supplier store held it (its canonical JSON,
                            whose SHA-256 is the store's content hash); the manifest's
                            ``received_footprints`` maps each reference to its file (format 2)
    background/databases/<name>@<version>/
                            for a model with linked backgrounds: the part of each linked
                            database the model reaches (index.json, activities.csv,
                            technosphere.csv, biosphere.csv, exchanges.csv; see
                            :mod:`openpcf.package.background_subset`) (format 3)
    rules/<id>.yaml         the rule set the calculation was made under (``rules:`` or
                            ``--rules``), byte for byte, so it reproduces with the same rules
    result.json             every number of the result (``openpcf calc -f json``)
    footprint.pact.json     the PACT v3 footprint (omitted when the model cannot be expressed)
    report.html             the ISO 14067 report (when ``openpcf.reports`` is installed)
    certificate.jwt         the green certificate over footprint.pact.json (when issued)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from openpcf.errors import InputError, OpenPCFError

FORMAT = "openpcf-package/2"
#: The format of a package with linked backgrounds (database subsets): a reader of format 2
#: only would solve its model without them, so it says so by refusing the format.
FORMAT_LINKED = "openpcf-package/3"
#: Formats this version reads: 1 had no background rows and no received supplier footprints.
READABLE_FORMATS = ("openpcf-package/1", FORMAT, FORMAT_LINKED)
MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
ROWS = "factors/rows.csv"
BACKGROUND = "background/rows.json"
SUPPLIERS = "suppliers/"
RULES = "rules/"
RESULT = "result.json"
PACT = "footprint.pact.json"
REPORT = "report.html"
CERTIFICATE = "certificate.jwt"
JWKS = "jwks.json"
#: provenance keys that name where the inputs were, not what they were: never compared
LOCATION_KEYS = ("model_file", "factor_set", "factor_set_sha256")


class PackageError(InputError):
    """A package cannot be built (e.g. an absolute side-file path) or is not a package."""


class ReproductionError(OpenPCFError):
    """Recomputing a package did not give the packaged result; the message says what differs."""

    exit_code = 30


class UntrustedPackageError(ReproductionError):
    """Trusted keys were given, but the manifest is not signed by one of them.

    Unsigned, signed by a key outside the trusted set, or a signature that does not verify:
    in each case nothing proves that the package comes from the issuer the keys belong to, so
    the reproduction fails whatever the numbers say. Its own exit code (31) lets a script tell
    "not from whom you trust" from "the numbers differ" (30).
    """

    exit_code = 31


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(data: Any) -> bytes:
    """A JSON file of the package: indented, UTF-8, with a final newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_json(contents: Mapping[str, bytes], name: str) -> Any:
    """The JSON file ``name`` of the package, or None when it is missing or not JSON."""
    try:
        return json.loads(contents[name])
    except (KeyError, ValueError):
        return None
