"""Verification package: everything a verifier needs to recompute a footprint, in one zip.

Layout of the zip::

    manifest.json           format, inputs (overrides, GWP set), the SHA-256 of every other
                            file, the digest and values of every factor row, key results
    manifest.jws            compact JWS over manifest.json (when the issuer has a key)
    jwks.json               the issuer's public keys (when signed or certified)
    model/<model>.yaml      the model file, byte for byte
    model/<side files>      factor sets, supplier PACT footprints, shipment and electricity-claim
                            files the model references, at the same relative paths
    factors/rows.csv        the exact factor rows used, with provenance (a factor-set CSV that
                            ``load_factor_set`` reloads)
    result.json             every number of the result (``openpcf calc -f json``)
    footprint.pact.json     the PACT v3 footprint (omitted when the model cannot be expressed)
    report.html             the ISO 14067 report (when ``openpcf.reports`` is installed)
    certificate.jwt         the green certificate over footprint.pact.json (when issued)

:func:`reproduce_package` recomputes from the zip alone: it checks every digest, rebuilds the
factor set from ``factors/rows.csv`` only (never the bundled database), recompiles the packaged
model and compares every number of the new result with ``result.json``, naming each number that
differs and the factor rows or side files that explain it.

Design note: rows derived from side files (supplier footprints, shipments, electricity claims)
are recomputed from those files by the compiler, which uses OpenPCF's bundled logistics library
and residual mixes for them; they are then compared with the packaged rows, so a change in that
bundled data is reported rather than silently absorbed.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Unpack

import rfc8785

from openpcf import __version__
from openpcf.errors import InputError, OpenPCFError
from openpcf.files.durable import atomic_write
from openpcf.services.calculate import CalculationOptions, calculate
from openpcf.services.publishing import deliverable_footprint

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import Attestation, KeyStore
    from openpcf.factors import Factor
    from openpcf.model.calculation import Calculation
    from openpcf.model.loading import LoadedModel

FORMAT = "openpcf-package/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
ROWS = "factors/rows.csv"
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSummary:
    path: str
    files: tuple[str, ...]
    kg_co2e: float
    certificate_id: str | None
    signed: bool
    omitted: tuple[str, ...]  # "report.html: openpcf.reports is not installed", ...
    calculation: Calculation = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    where: str  # "kg_co2e", "by_stage_kg_co2e.production", "exchanges[2].kg_co2e", ...
    packaged: Any
    recomputed: Any

    def __str__(self) -> str:
        return f"{self.where}: {self.packaged!r} in the package vs {self.recomputed!r} recomputed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproductionReport:
    """What :func:`reproduce_package` found; ``identical`` is the verdict."""

    package: str
    identical: bool
    kg_co2e_packaged: float | None
    kg_co2e_recomputed: float | None
    problems: tuple[str, ...]  # integrity failures: digests, signature, missing rows
    differences: tuple[Difference, ...]  # numbers that differ
    causes: tuple[str, ...]  # why the numbers differ
    notes: tuple[str, ...]  # checks passed and caveats

    def summary(self) -> str:
        if self.identical:
            return (
                f"{self.package}: reproduced, identical result ({self.kg_co2e_recomputed!r} kg "
                "CO2e per declared unit)"
            )
        lines = [f"{self.package}: NOT reproduced"]
        if self.kg_co2e_packaged != self.kg_co2e_recomputed:
            lines.append(
                f"  total: {self.kg_co2e_packaged!r} in the package vs "
                f"{self.kg_co2e_recomputed!r} recomputed (kg CO2e per declared unit)"
            )
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  differs: {d}" for d in self.differences[:20]]
        if len(self.differences) > 20:
            lines.append(f"  ... and {len(self.differences) - 20} more numbers differ")
        lines += [f"  because: {c}" for c in self.causes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "identical": self.identical,
            "kg_co2e_packaged": self.kg_co2e_packaged,
            "kg_co2e_recomputed": self.kg_co2e_recomputed,
            "problems": list(self.problems),
            "differences": [
                {"where": d.where, "packaged": d.packaged, "recomputed": d.recomputed}
                for d in self.differences
            ],
            "causes": list(self.causes),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------
# shared helpers


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def row_digest(factor: Factor) -> str:
    """SHA-256 of a factor row's RFC 8785 canonical JSON (``Factor.canonical()``)."""
    return sha256(rfc8785.dumps(factor.canonical()))


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def rows_csv(factors: Sequence[Factor]) -> str:
    """The rows as a factor-set CSV (floats written with ``repr`` so they reload exactly)."""
    from openpcf.factors.loading import OPTIONAL, REQUIRED
    from openpcf.methods.gases import GAS_IDS

    gases = [g for g in GAS_IDS if any(g in f.emissions for f in factors)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REQUIRED, *OPTIONAL, *gases])
    for f in sorted(factors, key=lambda f: f.id):
        fields = {
            "illustrative": "true" if f.illustrative else "false",
            "ncv_mj_per_kg": "" if f.ncv_mj_per_kg is None else repr(f.ncv_mj_per_kg),
            "year": str(f.year),
        }
        row = [fields.get(k, getattr(f, k)) for k in (*REQUIRED, *OPTIONAL)]
        row += [repr(float(f.emissions[g])) if g in f.emissions else "" for g in gases]
        writer.writerow(row)
    return out.getvalue()


def _side_files(loaded: LoadedModel) -> list[str]:
    """Paths (as written in the model) of every file the model reads besides itself."""
    refs = list(loaded.model.factor_sets)
    for p in loaded.model.processes:
        for inp in p.inputs:
            if inp.supplier_footprint is not None:
                refs.append(inp.supplier_footprint.partition("#")[0].strip())
            refs += [r for r in (inp.shipment, inp.electricity_claim) if r is not None]
    return list(dict.fromkeys(refs))


def _layout(loaded: LoadedModel) -> tuple[Path, dict[str, Path]]:
    """The common root folder and ``zip name -> file`` for the model and its side files.

    Raises
    ------
    PackageError
        For an absolute side-file path or a missing side file.
    """
    model = loaded.path.resolve()
    files = {"": model}
    for ref in _side_files(loaded):
        if Path(ref).is_absolute():
            raise PackageError(
                f"{loaded.path}: the model reads {ref!r} by an absolute path, which a verifier "
                "cannot reproduce elsewhere; write it relative to the model file"
            )
        path = (model.parent / ref).resolve()
        if not path.is_file():
            raise PackageError(f"{loaded.path}: side file {ref!r} ({path}) does not exist")
        files[ref] = path
    root = Path(_common([p.parent for p in files.values()]))
    return root, {f"model/{p.relative_to(root).as_posix()}": p for p in files.values()}


def _common(folders: Sequence[Path]) -> str:
    import os.path

    return os.path.commonpath([str(f) for f in folders])


# --------------------------------------------------------------------------------------------
# building


def build_package(
    model: Path | str,
    *,
    output: Path | str,
    certificate: bool | None = None,
    keys: KeyStore | None = None,
    attestation: Attestation | None = None,
    lang: str = "en",
    now: dt.datetime | None = None,
    engine: Engine | None = None,
    **options: Unpack[CalculationOptions],
) -> PackageSummary:
    """Calculate ``model`` and write its verification package to ``output`` (atomically).

    Parameters
    ----------
    model
        The product model file.
    output
        The zip to write (replaced atomically: readers never see a half-written file).
    certificate
        Issue a green certificate over the PACT footprint: None (default) when the key store
        has an active key, True to require it, False never. The manifest is signed whenever
        the key store has an active key.
    keys
        The issuer's key store (the edge passes ``$OPENPCF_HOME/keys``); without one, or
        without an active key in it, the package is neither certified nor signed.
    attestation
        The verifier's attestation for the certificate.
    lang
        Language of the HTML report.
    now
        Creation time (UTC); now by default.
    engine
        The footprint database: when the model's calculation is published there, the package
        carries the stored footprint (the document the host serves) instead of a new one.
    options
        As for :func:`openpcf.services.calculate.calculate`.

    Raises
    ------
    PackageError
        An absolute or missing side-file path, or factor rows that would not reload exactly.
    KeyStoreError
        ``certificate=True`` without an active key.
    """
    from openpcf.certify import KeyStoreError, issue_certificate, jwks
    from openpcf.factors.loading import parse_factor_text
    from openpcf.model.result_json import result_to_dict

    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    calculation = calculate(model, audit={"package": str(output)}, audit_kind="package", **options)
    compiled, result = calculation.compiled, calculation.result
    _, sources = _layout(compiled.loaded)
    files: dict[str, bytes] = {name: path.read_bytes() for name, path in sources.items()}
    model_name = next(n for n, p in sources.items() if p == compiled.loaded.path.resolve())

    rows_text = rows_csv(compiled.factors)
    reloaded = parse_factor_text(rows_text, label=ROWS, set_name="rows", fmt="csv")
    for f in compiled.factors:
        if f.id not in reloaded or reloaded.get(f.id).canonical() != f.canonical():
            raise PackageError(
                f"factor row {f.id} would not reload exactly from {ROWS}; report this as a bug"
            )
    files[ROWS] = rows_text.encode("utf-8")
    files[RESULT] = _dumps(result_to_dict(result))

    omitted: list[str] = []
    footprint: dict[str, Any] | None = None
    try:
        footprint = deliverable_footprint(calculation, engine=engine)
        files[PACT] = _dumps(footprint)
    except InputError as e:
        omitted.append(f"{PACT}: {e}")
    report = _report_html(calculation, lang)
    if isinstance(report, str):
        files[REPORT] = report.encode("utf-8")
    else:
        omitted.append(f"{REPORT}: {report[0]}")

    store = keys if keys is not None and keys.exists() else None
    cert_id = None
    if certificate or (certificate is None and store is not None):
        if footprint is None:
            raise PackageError(f"no certificate without a PACT footprint: {omitted[0]}")
        if keys is None:
            raise KeyStoreError("no key store for the certificate: run `openpcf keys create`")
        cert = issue_certificate(footprint, keys=keys, attestation=attestation, now=created)
        files[CERTIFICATE], cert_id = (cert.token + "\n").encode(), cert.id
    elif certificate is None:
        omitted.append(f"{CERTIFICATE}: no signing key (run `openpcf keys create`)")
    if store is not None:
        files[JWKS] = _dumps(jwks(keys=store))

    in_set = compiled.factor_set.factors
    manifest = {
        "format": FORMAT,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "openpcf_version": __version__,
        "model": model_name,
        "model_dir": str(compiled.loaded.path.parent),
        "overrides": dict((options.get("overrides") or {}).items()),
        "gwp": options.get("gwp"),
        "factor_rows_file": ROWS,
        "factor_rows": {
            f.id: {
                "sha256": row_digest(f),
                "origin": "factor-set" if f.id in in_set else "side-file",
                "set": f.set_name,
                "unit": f.unit,
                "emissions": dict(sorted(f.emissions.items())),
            }
            for f in sorted(compiled.factors, key=lambda f: f.id)
        },
        "result": {"kg_co2e": result.total, "declared_unit": result.declared_unit},
        "provenance": dict(result.provenance),
        "certificate": cert_id,
        "omitted": omitted,
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }
    files[MANIFEST] = _dumps(manifest)
    if store is not None:
        files[SIGNATURE] = (_sign_manifest(files[MANIFEST], store) + "\n").encode()
    out = Path(output)
    atomic_write(out, _zip(files, created))
    return PackageSummary(
        path=str(out),
        files=tuple(sorted(files)),
        kg_co2e=result.total,
        certificate_id=cert_id,
        signed=store is not None,
        omitted=tuple(omitted),
        calculation=calculation,
    )


def _report_html(calculation: Calculation, lang: str) -> str | tuple[str]:
    """The ISO 14067 HTML report, or (why it is missing,)."""
    import importlib

    try:
        reports = importlib.import_module("openpcf.reports")
    except ModuleNotFoundError as e:
        if e.name not in ("openpcf.reports", "openpcf"):
            raise  # the reports package exists but one of its own imports is missing
        return ("openpcf.reports is not installed in this version",)
    if not all(hasattr(reports, name) for name in ("build_report_data", "render_html")):
        return ("openpcf.reports has no build_report_data/render_html in this version",)
    data = reports.build_report_data(calculation, lang=lang)
    return str(reports.render_html(data))


def _sign_manifest(manifest: bytes, store: KeyStore) -> str:
    from openpcf.certify.jose import sign_compact

    info, key = store.signing_key()
    header = {"alg": info.alg, "kid": info.kid, "typ": "openpcf-manifest+jws"}
    return sign_compact(header, manifest, key)


def _zip(files: Mapping[str, bytes], created: dt.datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files, key=lambda n: (n != MANIFEST, n)):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# reproducing


class _Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.causes: list[str] = []
        self.notes: list[str] = []


def reproduce_package(
    package: Path | str, *, jwks: Mapping[str, Any] | Path | None = None
) -> ReproductionReport:
    """Recompute a package from its own contents and compare with its result.

    Only the package is read: the model and side files are extracted to a fresh temporary
    folder, the factor set is built from ``factors/rows.csv`` alone and nothing is fetched.

    Parameters
    ----------
    package
        The zip written by :func:`build_package`.
    jwks
        The issuer's trusted public keys, to check the manifest signature and certificate
        against (by default the keys inside the package, which proves integrity only).

    Raises
    ------
    PackageError
        If the file is not a zip with a readable ``manifest.json``.
    """
    path = Path(package)
    found = _Findings()
    contents = _read_zip(path)
    manifest = _manifest(contents, path)
    _check_files(contents, manifest, found)
    _check_signature(contents, jwks, found)
    rows = _packaged_rows(contents, manifest, found)
    packaged = _json(contents, RESULT)
    total_packaged = packaged.get("kg_co2e") if isinstance(packaged, dict) else None
    with tempfile.TemporaryDirectory(prefix="openpcf-reproduce-") as tmp:
        recomputed = _recompute(Path(tmp), contents, manifest, rows, found)
        differences: list[Difference] = []
        if recomputed is not None and rows is not None and isinstance(packaged, dict):
            calculation, mapped = recomputed
            differences = list(_diff(packaged, mapped))
            _compare_rows(calculation, rows, manifest, found, Path(tmp))
            if differences:
                _explain(differences, packaged, mapped, manifest, found)
    _check_certificate(contents, jwks, found)
    total_recomputed = None
    if recomputed is not None:
        total_recomputed = recomputed[0].result.total
    identical = not found.problems and not differences and recomputed is not None
    return ReproductionReport(
        package=str(path),
        identical=identical,
        kg_co2e_packaged=total_packaged,
        kg_co2e_recomputed=total_recomputed,
        problems=tuple(found.problems),
        differences=tuple(differences),
        causes=tuple(dict.fromkeys(found.causes)),
        notes=tuple(found.notes),
    )


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as z:
            return {info.filename: z.read(info) for info in z.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile) as e:
        raise PackageError(f"{path}: not a readable zip file ({e})") from None


def _manifest(contents: Mapping[str, bytes], path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(contents[MANIFEST])
    except KeyError:
        raise PackageError(f"{path}: no {MANIFEST}: not an OpenPCF verification package") from None
    except ValueError as e:
        raise PackageError(f"{path}: {MANIFEST} is not JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageError(f"{path}: {MANIFEST} is not an {FORMAT} manifest")
    return manifest


def _json(contents: Mapping[str, bytes], name: str) -> Any:
    try:
        return json.loads(contents[name])
    except (KeyError, ValueError):
        return None


def _safe(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _check_files(contents: Mapping[str, bytes], manifest: Mapping[str, Any], f: _Findings) -> None:
    listed: Mapping[str, str] = manifest.get("files") or {}
    for name, digest in listed.items():
        if name not in contents:
            f.problems.append(f"file {name} listed in the manifest is missing from the package")
        elif sha256(contents[name]) != digest:
            f.problems.append(f"file {name} in the package differs from the manifest digest")
    for name in contents:
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            f.problems.append(f"file {name} is in the package but not in the manifest")
        if not _safe(name):
            f.problems.append(f"file name {name!r} points outside the package; not extracted")
    if not f.problems:
        f.notes.append(f"all {len(listed)} file digests match the manifest")


def _check_signature(
    contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None, f: _Findings
) -> None:
    from openpcf.certify.errors import CertificateError
    from openpcf.certify.jose import parse_compact, verify_compact

    if SIGNATURE not in contents:
        f.notes.append("the manifest is not signed (the issuer had no key)")
        return
    try:
        keyset, trusted = _keyset(contents, jwks)
        parsed = parse_compact(contents[SIGNATURE].decode("ascii"), what="manifest signature")
        verify_compact(parsed, keyset, what="manifest signature")
        if parsed.payload() != contents[MANIFEST]:
            f.problems.append("manifest.json was changed after it was signed")
            return
    except (CertificateError, UnicodeDecodeError) as e:
        f.problems.append(f"the manifest signature does not verify: {e}")
        return
    f.notes.append(
        "manifest signature verifies"
        + ("" if trusted else " (with the keys inside the package: integrity, not origin)")
    )


def _keyset(contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None) -> Any:
    from openpcf.certify.errors import KeySourceError
    from openpcf.certify.jose import import_key_set

    if isinstance(jwks, Path):
        try:
            jwks = json.loads(jwks.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise KeySourceError(f"{jwks}: the JWKS file cannot be read ({e})") from None
    if jwks is not None:
        return import_key_set(jwks, source="the JWKS given"), True
    data = _json(contents, JWKS)
    if data is None:
        raise KeySourceError(f"the package has no {JWKS} and no JWKS was given")
    return import_key_set(data, source=JWKS), False


def _packaged_rows(
    contents: Mapping[str, bytes], manifest: Mapping[str, Any], f: _Findings
) -> dict[str, Factor] | None:
    from openpcf.factors.loading import parse_factor_text

    try:
        text = contents[ROWS].decode("utf-8-sig")
        rows = parse_factor_text(text, label=ROWS, set_name="rows", fmt="csv")
    except KeyError:
        f.problems.append(f"{ROWS} is missing: the factor rows used cannot be rebuilt")
        return None
    except (OpenPCFError, UnicodeDecodeError) as e:
        f.problems.append(f"{ROWS} cannot be loaded: {e}")
        f.causes.append(f"the packaged factor rows were changed so that they no longer load ({e})")
        return None
    expected: Mapping[str, Any] = manifest.get("factor_rows") or {}
    for fid, entry in expected.items():
        if fid not in rows:
            f.problems.append(f"factor row {fid} listed in the manifest is missing from {ROWS}")
            continue
        row = rows.get(fid)
        if row_digest(row) != entry.get("sha256"):
            f.problems.append(
                f"factor row {fid} in the package differs from the manifest digest"
                f"{_row_change(entry, row)}"
            )
            f.causes.append(f"factor {fid} changed in the package{_row_change(entry, row)}")
    for fid in rows.factors:
        if fid not in expected:
            f.problems.append(f"factor row {fid} is in {ROWS} but not in the manifest")
    return dict(rows.factors)


def _row_change(entry: Mapping[str, Any], row: Factor) -> str:
    before = entry.get("emissions") or {}
    after = dict(row.emissions)
    changed = [
        f"{gas} {before.get(gas)!r} -> {after.get(gas)!r}"
        for gas in sorted(set(before) | set(after))
        if before.get(gas) != after.get(gas)
    ]
    if entry.get("unit") != row.unit:
        changed.append(f"unit {entry.get('unit')!r} -> {row.unit!r}")
    return f" ({', '.join(changed)})" if changed else " (provenance text changed)"


def _recompute(
    tmp: Path,
    contents: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    rows: Mapping[str, Factor] | None,
    f: _Findings,
) -> tuple[Calculation, dict[str, Any]] | None:
    from openpcf.factors import FactorSet
    from openpcf.model.loading import load_model
    from openpcf.model.result_json import result_to_dict

    if rows is None:
        return None
    for name, data in contents.items():
        if name.startswith("model/") and _safe(name):
            target = tmp.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    model_path = tmp.joinpath(*PurePosixPath(str(manifest.get("model", ""))).parts)
    origin = manifest.get("factor_rows") or {}
    # only rows that came from a factor set; side-file rows are recomputed from the side files
    from_sets = [r for fid, r in rows.items() if origin.get(fid, {}).get("origin") != "side-file"]
    solver = str((manifest.get("provenance") or {}).get("solver", "superlu"))
    backend = _backend(solver, f)
    try:
        loaded = load_model(model_path)
        # the model's own factor_sets are already among the packaged rows
        loaded = dataclasses.replace(
            loaded, model=loaded.model.model_copy(update={"factor_sets": []})
        )
        calculation = calculate(
            loaded,
            factors=FactorSet("package", from_sets),
            overrides=manifest.get("overrides") or {},
            gwp=manifest.get("gwp"),
            backend=backend,
        )
    except OpenPCFError as e:
        f.problems.append(f"the packaged model cannot be recomputed from the package alone: {e}")
        return None
    result = calculation.result
    plain = json.loads(json.dumps(result_to_dict(result)))  # numpy floats -> float, as packaged
    mapped = _relocate(plain, model_path.parent, manifest)
    return calculation, mapped


def _backend(solver: str, f: _Findings) -> Any:
    from openpcf.core.solver import pardiso_available

    if solver == "pardiso" and not pardiso_available():
        f.notes.append("packaged with the PARDISO solver, recomputed with SuperLU")
        return "superlu"
    return solver if solver in ("superlu", "pardiso") else "superlu"


def _relocate(data: Any, tmp_model_dir: Path, manifest: Mapping[str, Any]) -> Any:
    """Rewrite paths of the temporary folder into the packager's paths (for comparison)."""
    original = str(manifest.get("model_dir", ""))
    here = str(tmp_model_dir)
    prefix = "" if original in ("", ".") else original + "/"

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(here + "/", prefix).replace(here, original)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(data)


def _diff(packaged: Any, recomputed: Any, where: str = "") -> Iterator[Difference]:
    """Every leaf that differs (exactly: floats must be bit-identical)."""
    if where.startswith("provenance."):
        key = where.removeprefix("provenance.")
        if key in LOCATION_KEYS or key == "factor_rows_sha256":
            return  # locations, and the row hash which embeds side-file paths: rows compared
    if isinstance(packaged, dict) and isinstance(recomputed, dict):
        for key in list(dict.fromkeys([*packaged, *recomputed])):
            sub = f"{where}.{key}" if where else str(key)
            yield from _diff(packaged.get(key), recomputed.get(key), sub)
    elif isinstance(packaged, list) and isinstance(recomputed, list):
        if len(packaged) != len(recomputed):
            yield Difference(
                where=f"{where} (length)", packaged=len(packaged), recomputed=len(recomputed)
            )
        for n, (a, b) in enumerate(zip(packaged, recomputed, strict=False)):
            yield from _diff(a, b, f"{where}[{n}]")
    elif not _same(packaged, recomputed):
        yield Difference(where=where, packaged=packaged, recomputed=recomputed)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b and type(a) is type(b)) or (
        isinstance(a, int | float) and isinstance(b, int | float) and float(a) == float(b)
    )


def _compare_rows(
    calculation: Calculation,
    rows: Mapping[str, Factor],
    manifest: Mapping[str, Any],
    f: _Findings,
    tmp: Path,
) -> None:
    """Side-file rows recomputed now vs the packaged rows."""
    origin = manifest.get("factor_rows") or {}
    model_dir = tmp.joinpath(*PurePosixPath(str(manifest.get("model", ""))).parts).parent
    for factor in calculation.compiled.factors:
        packaged = rows.get(factor.id)
        if origin.get(factor.id, {}).get("origin") != "side-file":
            continue
        now = _relocate(factor.canonical(), model_dir, manifest)
        if packaged is None:
            f.problems.append(f"factor row {factor.id} derived from a side file is not packaged")
        elif now != packaged.canonical():
            was = {"emissions": dict(packaged.emissions), "unit": packaged.unit}
            f.causes.append(
                f"factor {factor.id} recomputed from its side file differs from the packaged row"
                f"{_row_change(was, factor)}: the side file or OpenPCF's bundled data for it "
                "changed"
            )


def _explain(
    differences: Sequence[Difference],
    packaged: Mapping[str, Any],
    recomputed: Mapping[str, Any],
    manifest: Mapping[str, Any],
    f: _Findings,
) -> None:
    """Name the exchanges whose contributions moved, and a version change."""
    before = {(e.get("process"), e.get("label")): e for e in packaged.get("exchanges", [])}
    for e in recomputed.get("exchanges", []):
        old = before.get((e.get("process"), e.get("label")))
        if old is not None and not _same(old.get("kg_co2e"), e.get("kg_co2e")):
            kind = "factor" if e.get("kind") != "emission" else "emission"
            f.causes.append(
                f"{kind} {e.get('label')} in process {e.get('process')}: "
                f"{old.get('kg_co2e')!r} vs {e.get('kg_co2e')!r} kg CO2e"
            )
    version = (manifest.get("provenance") or {}).get("openpcf_version")
    if version and version != __version__:
        f.causes.append(f"packaged with OpenPCF {version}, recomputed with {__version__}")
    if not f.causes:
        f.causes.append(
            f"{len(differences)} number(s) differ with identical inputs: the calculation itself "
            "changed (solver or software)"
        )


def _check_certificate(
    contents: Mapping[str, bytes], jwks: Mapping[str, Any] | Path | None, f: _Findings
) -> None:
    from openpcf.certify import CertificateError, verify_certificate

    if CERTIFICATE not in contents:
        return
    footprint = _json(contents, PACT)
    try:
        keyset_json = json.loads(jwks.read_text("utf-8")) if isinstance(jwks, Path) else jwks
        keys = keyset_json if keyset_json is not None else _json(contents, JWKS)
        verification = verify_certificate(
            contents[CERTIFICATE].decode("ascii"), jwks=keys or {"keys": []}, footprint=footprint
        )
    except (CertificateError, OSError, ValueError) as e:
        f.problems.append(f"the packaged certificate does not verify: {e}")
        return
    f.notes.append(
        f"certificate {verification.id} verifies against {PACT} (revocation not checked offline)"
    )
