"""What the verifiers' pages show: a certificate's checks one by one, and a package reproduced.

:func:`verify_certificate_inputs` runs :func:`openpcf.certify.verify_certificate` exactly as
``openpcf certificate verify`` does, with the host's anchors: its own issuer keys
(``home/keys``, whose certificates are also checked for revocation against the host's own
registry) and its trust list (``home/trust-list.json``), plus a trust list the visitor gives.
Keys the visitor gives with the certificate (a JWKS) check the signature but authenticate
nobody, as on the command line.

The library stops at the first failed check and raises; a page must show *every* check. The
checks run in a fixed order (:data:`CHECKS`), so the rows before the failed one passed and
the rows after it were not checked. One case is told apart: a signature made by a key that
verifies it but is not among the anchors (:class:`UntrustedSignerError` after the signature
was checked) is "signature valid, signer not trusted"; the other checks are then run again
without anchors (integrity only), so their rows still say what they found.

:func:`reproduce_upload` recomputes an uploaded verification package with
:func:`openpcf.services.packaging.reproduce_package` (the package reader bounds the zip's
cost and keeps the model inside its temporary folder) and lists the manifest's files.
Nothing is stored by either function.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from openpcf.certify import KeyStore, TrustList, trust_list_anchors, verify_certificate
from openpcf.certify.errors import CertificateError, TrustListError, UntrustedSignerError
from openpcf.certify.trust import TrustAnchors
from openpcf.certify.verify import SignatureCheck, Verification
from openpcf.errors import OpenPCFError
from openpcf.files import jsonfile

#: Largest certificate accepted (a compact JWS; an embedded attestation fits easily).
MAX_CERTIFICATE_BYTES = 64 * 1024
#: Largest footprint JSON accepted.
MAX_FOOTPRINT_BYTES = 1024 * 1024
#: Largest trust list or JWKS accepted.
MAX_KEYS_BYTES = 256 * 1024
#: Largest verification package accepted.
MAX_PACKAGE_BYTES = 50 * 1024 * 1024

#: The rows of the certificate page, in the order the library checks them.
CHECKS: tuple[str, ...] = (
    "format",
    "key",
    "signature",
    "issuer",
    "validity",
    "digest",
    "attestation",
    "assurance",
    "revocation",
    "trust",
)
#: The library's ``check`` names (:mod:`openpcf.certify.errors`) → the page's rows.
_ROW_OF = {
    "certificate": "format",
    "format": "format",
    "jwks": "key",
    "key": "key",
    "signature": "signature",
    "issuer": "issuer",
    "expiry": "validity",
    "not-before": "validity",
    "validity": "validity",
    "digest": "digest",
    "attestation": "attestation",
    "attestation-binding": "attestation",
    "revocation": "revocation",
    "status-list": "revocation",
    "trust": "trust",
}

State = Literal["passed", "failed", "not_checked", "info"]
Outcome = Literal["trusted", "untrusted", "unauthenticated", "failed"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one form field: ``message`` is a catalogue key, ``detail`` free text."""

    field: str
    message: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check: ``name`` is a row of :data:`CHECKS`; ``detail`` is what the check said."""

    name: str
    state: State
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateReport:
    """Every check of one certificate and the overall outcome."""

    outcome: Outcome
    rows: tuple[CheckRow, ...]
    message: str = ""  # the failure's or the verdict's own words
    failed_check: str = ""
    id: str = ""
    issuer: str = ""
    subject: Mapping[str, Any] = field(default_factory=dict)
    signatures: tuple[SignatureCheck, ...] = ()
    anchors: tuple[str, ...] = ()
    anchor_notes: tuple[str, ...] = ()  # the host's own anchors that could not be read


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInputs:
    """The parsed form: the token, the footprint, a trust list and keys given with it."""

    token: str
    footprint: dict[str, Any] | None = None
    trust_list: TrustList | None = None
    jwks: dict[str, Any] | None = None


def parse_certificate_inputs(
    *,
    certificate: bytes,
    footprint: bytes = b"",
    trust_list: bytes = b"",
    jwks: bytes = b"",
) -> tuple[CertificateInputs | None, list[FieldError]]:
    """The form's fields read and bounded; field errors instead of exceptions."""
    errors: list[FieldError] = []
    token = ""
    if len(certificate) > MAX_CERTIFICATE_BYTES:
        errors.append(FieldError("certificate", "verify.error.too_large"))
    elif not certificate.strip():
        errors.append(FieldError("certificate", "verify.error.required"))
    else:
        try:
            token = certificate.decode("ascii").strip()
        except UnicodeDecodeError:
            errors.append(FieldError("certificate", "verify.error.not_jwt"))
        else:
            parts = token.split(".")
            if len(parts) != 3 or not all(parts[:2]) or any(c.isspace() for c in token):
                errors.append(FieldError("certificate", "verify.error.not_jwt"))
    document = _json_field(errors, "footprint", footprint, MAX_FOOTPRINT_BYTES)
    trusted = None
    listed = _json_field(errors, "trust_list", trust_list, MAX_KEYS_BYTES)
    if listed is not None:
        try:
            trusted = TrustList.from_dict(listed)
            trust_list_anchors(trusted)  # keys that do not import are an error here, too
        except (TrustListError, CertificateError, ValueError) as e:
            errors.append(FieldError("trust_list", "verify.error.trust_list", str(e)))
    keys = _json_field(errors, "jwks", jwks, MAX_KEYS_BYTES)
    if keys is not None and not isinstance(keys.get("keys"), list):
        errors.append(FieldError("jwks", "verify.error.jwks"))
    if errors:
        return None, errors
    return CertificateInputs(token=token, footprint=document, trust_list=trusted, jwks=keys), []


def _json_field(
    errors: list[FieldError], name: str, raw: bytes, limit: int
) -> dict[str, Any] | None:
    if len(raw) > limit:
        errors.append(FieldError(name, "verify.error.too_large"))
        return None
    if not raw.strip():
        return None
    try:
        data = jsonfile.loads(raw)
    except (ValueError, RecursionError) as e:
        errors.append(FieldError(name, "verify.error.json", str(e)[:300]))
        return None
    if not isinstance(data, dict):
        errors.append(FieldError(name, "verify.error.json_object"))
        return None
    return data


def host_anchors(home: Path) -> tuple[KeyStore | None, TrustAnchors, list[str]]:
    """The host's issuer key store (if it has a key), its trust list's anchors, and notes on
    either that could not be read (the page says so; it does not fail)."""
    notes: list[str] = []
    store: KeyStore | None = KeyStore(home / "keys")
    try:
        if store is None or not store.folder.is_dir() or not store.exists():
            store = None
    except OpenPCFError as e:
        notes.append(f"the host's key store cannot be read: {e}")
        store = None
    anchors = TrustAnchors()
    try:
        anchors = trust_list_anchors(TrustList.load(home / "trust-list.json", missing_ok=True))
    except OpenPCFError as e:
        notes.append(f"the host's trust list cannot be read: {e}")
    return store, anchors, notes


def verify_certificate_inputs(
    inputs: CertificateInputs, *, home: Path, now: dt.datetime | None = None
) -> CertificateReport:
    """Every check of the certificate, with the host's anchors (see the module's notes)."""
    store, anchors, notes = host_anchors(home)
    if inputs.trust_list is not None:
        anchors = anchors + trust_list_anchors(inputs.trust_list)
    given = [inputs.jwks] if inputs.jwks is not None else None
    try:
        result = verify_certificate(
            inputs.token,
            jwks=given,
            trust=anchors,
            footprint=inputs.footprint,
            keys=store,
            now=now,
        )
    except UntrustedSignerError as e:
        report = _untrusted(inputs, e, now, tuple(notes))
    except CertificateError as e:
        report = _failed(e, tuple(notes))
    else:
        report = _passed(result, tuple(notes))
    if not report.anchors:  # a failed check returns no Verification: name the anchors here
        own = [f"the local key store {store.folder}"] if store is not None else []
        report = replace(report, anchors=(*own, *anchors.describe()))
    return _redacted(report, home)


def _redacted(report: CertificateReport, home: Path) -> CertificateReport:
    """``report`` with the host's folder written ``$OPENPCF_HOME``: the page is public, and
    the library's messages name key stores by their path."""
    folder = str(home)

    def hide(text: str) -> str:
        return text.replace(folder, "$OPENPCF_HOME")

    return replace(
        report,
        rows=tuple(replace(r, detail=hide(r.detail)) for r in report.rows),
        message=hide(report.message),
        signatures=tuple(
            replace(s, key_source=hide(s.key_source), why=hide(s.why)) for s in report.signatures
        ),
        anchors=tuple(hide(a) for a in report.anchors),
        anchor_notes=tuple(hide(n) for n in report.anchor_notes),
    )


def _rows_of(result: Verification) -> dict[str, CheckRow]:
    rows: dict[str, CheckRow] = {}
    for name, said in result.checks:
        rows[name] = CheckRow(name, _state(said), said)
    return rows


def _state(said: str) -> State:
    if said.startswith("ok"):
        return "passed"
    if said.startswith(("not checked", "none", "not applicable")):
        return "not_checked"
    return "info"


def _passed(result: Verification, notes: tuple[str, ...]) -> CertificateReport:
    rows = _rows_of(result)
    trusted = result.trusted
    if trusted is None:
        rows["trust"] = CheckRow("trust", "not_checked", result.verdict)
        outcome: Outcome = "unauthenticated"
    else:
        rows["trust"] = CheckRow("trust", "passed", result.verdict)
        outcome = "trusted"
    return CertificateReport(
        outcome=outcome,
        rows=tuple(rows[n] for n in CHECKS if n in rows),
        message=result.verdict,
        id=result.id,
        issuer=result.issuer,
        subject=dict(result.subject),
        signatures=result.signatures,
        anchors=result.anchors,
        anchor_notes=notes,
    )


def _failed(error: CertificateError, notes: tuple[str, ...]) -> CertificateReport:
    failed = _ROW_OF.get(error.check.removeprefix("attestation "), "format")
    if error.check.startswith("attestation "):
        failed = "attestation"
    at = CHECKS.index(failed)
    rows = []
    for n, name in enumerate(CHECKS):
        if name == "assurance":
            continue  # shown only when the certificate has one, known only once read
        if n < at:
            rows.append(CheckRow(name, "passed"))
        elif n == at:
            rows.append(CheckRow(name, "failed", str(error)))
        else:
            rows.append(CheckRow(name, "not_checked"))
    return CertificateReport(
        outcome="failed",
        rows=tuple(rows),
        message=str(error),
        failed_check=failed,
        signatures=tuple(getattr(error, "signatures", ())),
        anchor_notes=notes,
    )


def _untrusted(
    inputs: CertificateInputs,
    error: UntrustedSignerError,
    now: dt.datetime | None,
    notes: tuple[str, ...],
) -> CertificateReport:
    """A signer outside the anchors: integrity checked again without anchors, trust failed."""
    signatures = tuple(getattr(error, "signatures", ()))
    checked = [s for s in signatures if s.key_source != "none"]
    if not checked or inputs.jwks is None:
        # no key at all verified the signature: the key row fails, nothing else was checked
        report = _failed(error, notes)
        key_rows = [
            CheckRow("key", "failed", str(error))
            if r.name == "key"
            else CheckRow(r.name, "passed" if r.name == "format" else "not_checked")
            for r in report.rows
        ]
        return CertificateReport(
            outcome="failed",
            rows=tuple(key_rows),
            message=str(error),
            failed_check="key",
            signatures=signatures,
            anchor_notes=notes,
        )
    try:
        again = verify_certificate(
            inputs.token, jwks=[inputs.jwks], footprint=inputs.footprint, now=now
        )
    except CertificateError as e:
        return _failed(e, notes)
    rows = _rows_of(again)
    rows["trust"] = CheckRow("trust", "failed", str(error))
    return CertificateReport(
        outcome="untrusted",
        rows=tuple(rows[n] for n in CHECKS if n in rows),
        message=str(error),
        failed_check="trust",
        id=again.id,
        issuer=again.issuer,
        subject=dict(again.subject),
        signatures=signatures,
        anchor_notes=notes,
    )


# --------------------------------------------------------------------------------------------
# verification packages


@dataclass(frozen=True, slots=True)
class PackageFile:
    name: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageReport:
    """The reproduction's verdict and the manifest's files."""

    identical: bool
    kg_co2e_packaged: Any
    kg_co2e_recomputed: Any
    problems: tuple[str, ...]
    differences: tuple[tuple[str, str, str], ...]  # where, packaged, recomputed
    causes: tuple[str, ...]
    notes: tuple[str, ...]
    signature: str
    trusted: bool | None
    files: tuple[PackageFile, ...]


def looks_like_zip(path: Path) -> bool:
    """Whether ``path`` starts like a zip archive (its local-file or end-of-directory magic)."""
    with path.open("rb") as f:
        head = f.read(4)
    return head in (b"PK\x03\x04", b"PK\x05\x06") and zipfile.is_zipfile(path)


def reproduce_upload(
    path: Path, *, name: str = "package.zip", databases: Path | None = None
) -> PackageReport:
    """Recompute the package at ``path`` (shown as ``name`` in the report's texts).

    Raises
    ------
    PackageError, ReproductionError, CertificateError
        The package cannot be read (not a package, too costly, no manifest); the page shows
        the message.
    """
    from openpcf.package.archive import read_zip
    from openpcf.services.packaging import reproduce_package

    report = reproduce_package(path, databases=databases)
    files: list[PackageFile] = []
    try:
        manifest = json.loads(read_zip(path).get("manifest.json", b"{}"))
    except ValueError:
        manifest = {}
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if isinstance(listed, dict):
        files = [PackageFile(str(k), str(v)) for k, v in sorted(listed.items())]

    def hide(texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(t.replace(str(path), name) for t in texts)

    return PackageReport(
        identical=report.identical,
        kg_co2e_packaged=report.kg_co2e_packaged,
        kg_co2e_recomputed=report.kg_co2e_recomputed,
        problems=hide(report.problems),
        differences=tuple(
            (d.where, repr(d.packaged), repr(d.recomputed)) for d in report.differences[:200]
        ),
        causes=hide(report.causes),
        notes=hide(report.notes),
        signature=report.signature.replace(str(path), name),
        trusted=report.trusted,
        files=tuple(files),
    )


__all__ = [
    "CHECKS",
    "MAX_CERTIFICATE_BYTES",
    "MAX_FOOTPRINT_BYTES",
    "MAX_KEYS_BYTES",
    "MAX_PACKAGE_BYTES",
    "CertificateInputs",
    "CertificateReport",
    "CheckRow",
    "FieldError",
    "PackageFile",
    "PackageReport",
    "looks_like_zip",
    "parse_certificate_inputs",
    "reproduce_upload",
    "verify_certificate_inputs",
]
