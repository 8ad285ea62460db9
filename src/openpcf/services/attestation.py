"""A third-party verifier attests a verification package: reproduce, compare, sign.

:func:`attest_package` is what ``openpcf verifier attest`` runs in the verifier's home. It
copies the package once (hashing the very bytes it then reads, so the digest it signs is the
digest of what it reproduced), reproduces it (:func:`reproduce_package`: from the zip alone,
every number compared), checks that the package's PACT footprint states the reproduced PCF, and
only then signs an attestation credential with the verifier's own key
(:func:`openpcf.certify.sign_attestation`). It refuses to attest, with the package's own exit
codes, when the reproduction fails (30) or when the manufacturer's keys were given and the
package is not signed by one of them (31).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpcf
from openpcf.certify import (
    PRODUCT_STANDARD,
    AttestationCredential,
    VerifierHome,
    sign_attestation,
)
from openpcf.certify.attestation import DEFAULT_VALIDITY, check_assurance
from openpcf.exchange.pact import decimal_string
from openpcf.model.schema import BOUNDARY_STAGES
from openpcf.package import (
    PACT,
    RESULT,
    PackageError,
    ReproductionError,
    ReproductionReport,
    UntrustedPackageError,
)
from openpcf.package.archive import read_zip
from openpcf.package.format import read_json
from openpcf.services.packaging import reproduce_package

__all__ = ["Attested", "attest_package"]

#: The boundary of a PACT footprint (PACT footprints end at the factory gate).
PACT_BOUNDARY = "cradle-to-gate"

#: footprint members compared with the reproduced result (PACT v3 name, result.json name)
_COMPARED = (
    ("pcfExcludingBiogenicUptake", "pcf_excluding_biogenic_uptake"),
    ("pcfIncludingBiogenicUptake", "pcf_including_biogenic_uptake"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attested:
    """A signed attestation and the reproduction it rests on."""

    credential: AttestationCredential
    report: ReproductionReport = field(repr=False)
    package_sha256: str
    footprint: Mapping[str, Any] = field(repr=False)


def attest_package(
    package: Path | str,
    *,
    home: VerifierHome,
    assurance: str,
    scope: str = "",
    criteria: Sequence[str] = (PRODUCT_STANDARD,),
    issuer_jwks: Mapping[str, Any] | Path | None = None,
    valid_for: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
) -> Attested:
    """Reproduce ``package`` and, if every number is identical, sign an attestation of its
    PACT footprint with the verifier's key.

    Parameters
    ----------
    package
        The manufacturer's verification package (``openpcf package``).
    home
        The verifier's folder: its profile (name, accreditation) and keys.
    assurance
        The level of assurance of the verification (ISO 14064-3:2019): "limited" or
        "reasonable".
    scope, criteria
        What was verified, and against which rules (ISO 14067:2018 by default).
    issuer_jwks
        The manufacturer's public keys, obtained apart from the package: the package must then
        be signed by one of them.

    Raises
    ------
    ReproductionError
        The package does not reproduce (exit 30), or its PACT footprint does not state the
        reproduced PCF; nothing is signed.
    UntrustedPackageError
        ``issuer_jwks`` given, and the package is not signed by one of those keys (31).
    PackageError
        Not a package, or one without a PACT footprint to attest.
    AttestationError
        An assurance level other than "limited" or "reasonable".
    VerifierProfileError, KeyStoreError
        No verifier profile or key in ``home``.
    """
    check_assurance(assurance)
    profile = home.profile()
    keys = home.keys
    keys.active()  # no key: say so before the (long) reproduction
    path = Path(package)
    if not path.is_file():
        raise PackageError(f"{path}: not a package file (a regular .zip file is needed)")
    with tempfile.TemporaryDirectory(prefix="openpcf-attest-") as tmp:
        copy = Path(tmp) / "package.zip"
        digest = _copy_hashed(path, copy)
        report = reproduce_package(copy, jwks=issuer_jwks)
        if report.trusted is False:
            raise UntrustedPackageError(f"{path}: not attested: {report.signature}")
        if not report.identical:
            first = (report.problems or tuple(map(str, report.differences)) or ("?",))[0]
            raise ReproductionError(
                f"{path}: not attested, the package does not reproduce: {first}"
            )
        contents = read_zip(copy)
    footprint = read_json(contents, PACT)
    if not isinstance(footprint, dict):
        raise PackageError(f"{path}: the package has no {PACT}: there is no footprint to attest")
    compared = _check_footprint(path, footprint, read_json(contents, RESULT))
    reproduction = {
        "tool": f"OpenPCF {openpcf.__version__}",
        "result": "identical",
        "kgCO2ePerDeclaredUnit": report.kg_co2e_recomputed,
        "manifestSignature": report.signature,
        "footprintNumbers": compared,
    }
    credential = sign_attestation(
        footprint,
        package_sha256=digest,
        keys=keys,
        profile=profile,
        assurance=assurance,
        scope=scope,
        criteria=criteria,
        reproduction=reproduction,
        valid_for=valid_for,
        now=now,
    )
    return Attested(
        credential=credential, report=report, package_sha256=digest, footprint=footprint
    )


def _copy_hashed(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` and return the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            dst.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()


def _check_footprint(path: Path, footprint: Mapping[str, Any], result: Any) -> str:
    """What comparing the package's PACT footprint with the reproduced result found.

    ``result.json`` was compared with the recomputation number by number, so where the PACT
    document covers the whole model (every process in the cradle-to-gate stages) its PCF must
    be the result's: a signed package with honest numbers and a PACT document of other numbers
    is refused. The PACT document of a model that reaches beyond the gate is its cradle-to-gate
    part, which ``result.json`` does not hold as such: that is said, not guessed.
    """
    pcf = footprint.get("pcf")
    if not isinstance(pcf, dict) or not isinstance(result, dict):
        raise ReproductionError(f"{path}: not attested: {PACT} or {RESULT} is not readable")
    stages = {p.get("stage") for p in result.get("processes") or [] if isinstance(p, dict)}
    if not stages or not stages <= set(BOUNDARY_STAGES[PACT_BOUNDARY]):
        beyond = ", ".join(sorted(str(s) for s in stages - set(BOUNDARY_STAGES[PACT_BOUNDARY])))
        return (
            f"not compared: the PACT footprint is the cradle-to-gate part of a model with "
            f"{beyond or 'no'} stage(s) beyond the gate, and result.json holds the whole model"
        )
    for pact_name, result_name in _COMPARED:
        value = result.get(result_name)
        if not isinstance(value, int | float):
            raise ReproductionError(f"{path}: not attested: {RESULT} has no {result_name}")
        stated, reproduced = pcf.get(pact_name), decimal_string(value)
        if stated != reproduced:
            raise ReproductionError(
                f"{path}: not attested: {PACT} states {pact_name} {json.dumps(stated)}, but the "
                f"reproduced result is {reproduced} kg CO2e per declared unit"
            )
    return "identical to the reproduced result (pcfExcludingBiogenicUptake and Including)"
