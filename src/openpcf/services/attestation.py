"""A third-party verifier attests a verification package: reproduce, compare, sign.

:func:`attest_package` is what ``openpcf verifier attest`` runs in the verifier's home. It
copies the package once (hashing the very bytes it then reads, so the digest it signs is the
digest of what it reproduced), reproduces it (:func:`reproduce_package`: from the zip alone,
every number compared, the PACT footprint's ``pcf`` block made again and compared), and only
then signs an attestation credential with the verifier's own key
(:func:`openpcf.certify.sign_attestation`). It refuses to attest, with the package's own exit
codes, when the reproduction fails (30) or when the manufacturer's keys were given and the
package is not signed by one of them (31).
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from openpcf.package import (
    PACT,
    PackageError,
    ReproductionError,
    ReproductionReport,
    UntrustedPackageError,
)
from openpcf.package.archive import read_zip
from openpcf.package.format import read_json
from openpcf.services.packaging import reproduce_package

__all__ = ["Attested", "attest_package"]


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
    databases: Path | None = None,
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
    databases
        The verifier's imported databases: background rows of a version it holds are also
        recomputed from it (:func:`reproduce_package`).

    Raises
    ------
    ReproductionError
        The package does not reproduce (exit 30), its PACT footprint included; nothing is
        signed.
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
        report = reproduce_package(copy, jwks=issuer_jwks, databases=databases)
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
    reproduction = {
        "tool": f"OpenPCF {openpcf.__version__}",
        "result": "identical",
        "kgCO2ePerDeclaredUnit": report.kg_co2e_recomputed,
        "manifestSignature": report.signature,
        "footprintNumbers": "identical to the footprint recomputed from the package",
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
