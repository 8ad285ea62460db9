"""The web pages' deliverables: publish the editor's model, certify a published footprint,
and the report, the verification package and the CBAM communication as downloads.

Each function wraps the use case the CLI calls, never a second way to do it:

===================================  =======================================================
:func:`publish_model_text`           :func:`openpcf.services.publishing.publish`
                                     (``openpcf publish``)
:func:`certify_footprint`            :func:`openpcf.certify.issue_certificate` over the
                                     stored document (``certificate issue --footprint-id``)
:func:`report_for_model_text`,       :func:`openpcf.reports.build_report_data` and
:func:`report_for_footprint`         :func:`openpcf.reports.render` (``openpcf report``)
:func:`package_for_model_text`       :func:`openpcf.services.packaging.build_package`
                                     (``openpcf package``)
:func:`cbam_communication`           :func:`openpcf.cbam.build_communication`
                                     (``openpcf cbam calc -f xlsx|json``)
===================================  =======================================================

**What comes from where.** A published footprint is stored with its PACT document and its
calculation record (the result and provenance, with the model's SHA-256), not with the model
text unless the model is self-contained (:func:`~openpcf.services.publishing.kept_model_text`,
every model the editor publishes). So the product page offers what needs only the stored
document (the PACT JSON, a certificate) and the report, from the kept model text or, for
older records and models with side files, from an uploaded model file once it is shown to be
that model (:func:`report_for_footprint`); the editor, which holds the model text, offers
publishing, the report and the package. A product model carries no CBAM data: the
communication is made from an installation file (``openpcf_cbam: 1``), uploaded on its own page.

**The editor's checks first.** A model from the editor is calculated exactly as the editor
shows it (:func:`openpcf.services.web_models.evaluate_model_text`): with the options of
:func:`openpcf.services.web_calculation.web_options` (the host's factor and rule sets, the
signed-in person's organisation's accepted supplier data, never another organisation's), and
refused before anything is calculated when it names files or imported databases
(:func:`openpcf.services.web_rules.files_named`), which would be read from the server's disk.
Publishing, the report and the package are recorded on the host's audit trail as ``web
publish``, ``web report`` and ``web package``, with the person and the organisation.

A parameter counts as changed only when its typed value differs from the model's own (the
editor sends every parameter back, changed or not), so an unchanged model publishes as the
live footprint while a what-if must be stored as a named scenario or explicitly replace the
live footprint, as :func:`~openpcf.services.publishing.publish` requires (the choice is
checked here first, as a field error).

Design note, the model passed as loaded. :func:`~openpcf.services.publishing.publish` and
:func:`~openpcf.services.packaging.build_package` take a loaded model as well as a path; the
editor's model is passed loaded under the name ``model.yaml``, so the PACT document's comment
and the package's manifest name ``model.yaml`` (folder ``.``) and no temporary folder of the
server. The package carries the stored footprint when the signed-in person's organisation
published the calculation, else the calculation's own document (:func:`_stored_here`).

Nothing here raises for bad input: every problem is a :class:`FieldError` for the form field
it belongs to (``model``, ``publish_choice``, ``scenario``, ``allow_illustrative``,
``assurance``, ``verifier_name``, ``attestation``, ``jwks``, ``valid_days``, ``keys``,
``installation``). Another organisation's footprint id raises
:class:`~openpcf.db.errors.NotFoundError`, as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from openpcf.audit import record_calculation
from openpcf.cbam import build_communication, calculate_installation, load_installation, write_xlsx
from openpcf.certify import (
    ASSURANCE_LEVELS,
    AttestationError,
    CertificateError,
    KeySourceError,
    KeyStore,
    KeyStoreError,
    SelfDeclaredAssurance,
    issue_certificate,
)
from openpcf.certify.jose import import_key_set
from openpcf.db.engine import session_scope
from openpcf.db.models import ACTIVE, CalculationRecord, Footprint
from openpcf.errors import OpenPCFError
from openpcf.exchange.errors import IllustrativeFactorsError, ScenarioChoiceError
from openpcf.files import jsonfile
from openpcf.model.bom import slug
from openpcf.model.loading import LoadedModel, load_model
from openpcf.model.parameters import resolve
from openpcf.reports import build_report_data, render
from openpcf.services.packaging import build_package
from openpcf.services.publishing import (
    SCENARIO_NAME,
    PublishedFootprint,
    pact_document,
    publish,
    same_content,
)
from openpcf.services.web_calculation import WebCaller, web_calculate, web_options
from openpcf.services.web_products import pact_json
from openpcf.services.web_rules import MAX_MODEL_BYTES, MODEL_NAME, FieldError, files_named
from openpcf.services.web_rules import located_errors as _located

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openpcf.certify import Certificate
    from openpcf.model.calculation import Calculation

#: The largest verifier attestation accepted (as ``certificate issue --attestation``).
MAX_ATTESTATION_BYTES = 1024 * 1024
#: The largest verifier JWKS accepted (a JWKS is a few kB).
MAX_JWKS_BYTES = 256 * 1024
#: The largest CBAM installation file accepted (as the editor's model).
MAX_INSTALLATION_BYTES = MAX_MODEL_BYTES
#: The longest validity a certificate may have (as ``--valid-days``: 100 years).
MAX_VALID_DAYS = 36_500
#: What the publish form may choose: the live footprint, a named scenario, or a what-if that
#: replaces the live footprint.
PublishChoice = Literal["live", "scenario", "replace"]
PUBLISH_CHOICES: tuple[PublishChoice, ...] = ("live", "scenario", "replace")
#: What a certificate says about assurance: nothing, a self-declared verifier, or the
#: verifier's signed attestation.
AssuranceKind = Literal["none", "self", "attestation"]
ASSURANCE_KINDS: tuple[AssuranceKind, ...] = ("none", "self", "attestation")

__all__ = [
    "ASSURANCE_KINDS",
    "ASSURANCE_LEVELS",
    "MAX_ATTESTATION_BYTES",
    "MAX_INSTALLATION_BYTES",
    "MAX_JWKS_BYTES",
    "MAX_VALID_DAYS",
    "PUBLISH_CHOICES",
    "CertificateOutcome",
    "CertificateRequest",
    "Download",
    "EditorModel",
    "FieldError",
    "PublishOutcome",
    "PublishRequest",
    "cbam_communication",
    "certify_footprint",
    "editor_model",
    "model_kept",
    "package_for_model_text",
    "publish_model_text",
    "recalculate_stored",
    "report_for_footprint",
    "report_for_model_text",
]


def _error(field: str, message: str) -> tuple[FieldError, ...]:
    return (FieldError(field=field, message=message),)


# -- the editor's model ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorModel:
    """The editor's model, checked: loaded, with the parameters the person changed, or the
    errors that refuse it."""

    loaded: LoadedModel | None
    changed: Mapping[str, float]
    errors: tuple[FieldError, ...] = ()


def editor_model(text: str, typed: Mapping[str, str]) -> EditorModel:
    """The model ``text`` with the editor's checks, and the parameters whose typed value
    (``typed``: name → number as typed) differs from the model's own value."""
    if len(text.encode("utf-8")) > MAX_MODEL_BYTES:
        return EditorModel(
            loaded=None,
            changed={},
            errors=_error("model", f"the model is larger than {MAX_MODEL_BYTES // 1000} kB"),
        )
    if not text.strip():
        return EditorModel(
            loaded=None, changed={}, errors=_error("model", "type or paste a product model")
        )
    try:
        loaded = load_model(Path(MODEL_NAME), text=text)
        outside = files_named(loaded)
        if outside:
            return EditorModel(loaded=None, changed={}, errors=outside)
        own = resolve(dict(loaded.model.parameters))
    except OpenPCFError as e:
        return EditorModel(loaded=None, changed={}, errors=_located("model", str(e)))
    changed: dict[str, float] = {}
    for name, default in own.items():
        value = (typed.get(name) or "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return EditorModel(
                loaded=None,
                changed={},
                errors=_error("model", f"parameter {name}: {value[:40]!r} is not a number"),
            )
        # the editor shows values with 12 significant digits: equal within that is unchanged
        if not math.isclose(number, default, rel_tol=1e-11, abs_tol=1e-300):
            changed[name] = number
    return EditorModel(loaded=loaded, changed=changed)


# -- publish ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishRequest:
    """The publish form: what to publish as, and whether illustrative factors are allowed."""

    choice: str = "live"
    scenario: str = ""
    allow_illustrative: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishOutcome:
    """What publishing stored (or found stored), or the errors at their fields."""

    published: PublishedFootprint | None = None
    changed: tuple[str, ...] = ()
    errors: tuple[FieldError, ...] = ()


def publish_model_text(
    text: str,
    typed: Mapping[str, str],
    request: PublishRequest,
    *,
    caller: WebCaller,
    now: dt.datetime | None = None,
) -> PublishOutcome:
    """Publish the editor's model for ``caller``'s organisation (the signed-in person's,
    whatever the model's ``company_name`` says), as ``openpcf publish --org`` does, with that
    organisation's data, recorded on the audit trail as ``web publish``."""
    model = editor_model(text, typed)
    if model.loaded is None:
        return PublishOutcome(errors=model.errors)
    changed = tuple(sorted(model.changed))
    choice_errors = _choice_errors(request, changed)
    if choice_errors:
        return PublishOutcome(changed=changed, errors=choice_errors)
    scenario = request.scenario.strip() if request.choice == "scenario" else None
    try:
        published = publish(
            model.loaded,
            engine=caller.engine,
            now=now,
            scenario=scenario,
            replace_live=request.choice == "replace",
            allow_illustrative=request.allow_illustrative,
            audit=caller.audit("web publish"),
            organisation=caller.organisation,
            **web_options(caller, overrides=dict(model.changed)),
        )
    except IllustrativeFactorsError as e:
        return PublishOutcome(changed=changed, errors=_error("allow_illustrative", str(e)))
    except ScenarioChoiceError as e:
        return PublishOutcome(changed=changed, errors=_error("publish_choice", str(e)))
    except OpenPCFError as e:
        return PublishOutcome(changed=changed, errors=_located("model", str(e)))
    return PublishOutcome(published=published, changed=changed)


def _choice_errors(request: PublishRequest, changed: tuple[str, ...]) -> tuple[FieldError, ...]:
    if request.choice not in PUBLISH_CHOICES:
        return _error("publish_choice", f"choose one of {', '.join(PUBLISH_CHOICES)}")
    if request.choice == "live" and changed:
        return _error(
            "publish_choice",
            f"the parameters {', '.join(changed)} differ from the model's: store the what-if "
            "as a named scenario (never served to buyers), or replace the live footprint",
        )
    if request.choice == "scenario" and not SCENARIO_NAME.match(request.scenario.strip()):
        return _error(
            "scenario",
            "use 1 to 100 letters, digits, spaces, dots, underscores or hyphens, starting with "
            "a letter or digit",
        )
    return ()


# -- certificate -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRequest:
    """The certificate form, as typed (kept when the form comes back with errors)."""

    kind: str = "none"
    verifier_name: str = ""
    verifier_id: str = ""
    assurance: str = "limited"
    standard: str = "ISO14064-3"
    valid_days: str = "365"


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateOutcome:
    """The issued certificate, or the errors at their fields."""

    certificate: Certificate | None = None
    errors: tuple[FieldError, ...] = ()


def certify_footprint(
    engine: Engine,
    *,
    organisation_id: int,
    footprint_id: str,
    request: CertificateRequest,
    keys: KeyStore,
    attestation: bytes | None = None,
    verifier_jwks: bytes | None = None,
    now: dt.datetime | None = None,
) -> CertificateOutcome:
    """A certificate for one of the organisation's stored footprints, signed with the key
    store's active key (``openpcf certificate issue --footprint-id``).

    ``attestation`` and ``verifier_jwks`` are the uploaded files' bytes (``kind ==
    "attestation"``): the attestation's signature is checked against the JWKS before it is
    embedded.

    Raises
    ------
    NotFoundError
        No such footprint, or another organisation's.
    """
    footprint = pact_json(engine, organisation_id=organisation_id, footprint_id=footprint_id)
    errors: list[FieldError] = []
    days = request.valid_days.strip()
    if not days.isdigit() or not 1 <= int(days[:6]) <= MAX_VALID_DAYS:
        errors.append(FieldError(field="valid_days", message=f"1 to {MAX_VALID_DAYS} days"))
    if request.kind not in ASSURANCE_KINDS:
        errors.append(FieldError(field="assurance", message="choose how assurance is stated"))
    self_declared = None
    token = None
    key_set = None
    if request.kind == "self":
        if not request.verifier_name.strip():
            errors.append(FieldError(field="verifier_name", message="name the verifier"))
        elif request.assurance not in ASSURANCE_LEVELS:
            errors.append(FieldError(field="assurance", message="limited or reasonable"))
        else:
            self_declared = SelfDeclaredAssurance(
                verifier_name=request.verifier_name.strip(),
                verifier_id=request.verifier_id.strip(),
                assurance="reasonable" if request.assurance == "reasonable" else "limited",
                standard=request.standard.strip() or "ISO14064-3",
            )
    elif request.kind == "attestation":
        token, key_set, problems = _attestation_input(attestation, verifier_jwks)
        errors.extend(problems)
    if errors:
        return CertificateOutcome(errors=tuple(errors))
    try:
        certificate = issue_certificate(
            footprint,
            keys=keys,
            attestation=token,
            self_declared=self_declared,
            verifier_keys=key_set,
            valid_for=dt.timedelta(days=int(days)),
            now=now,
        )
    except KeyStoreError as e:
        return CertificateOutcome(errors=_error("keys", str(e)))
    except (AttestationError, CertificateError) as e:
        field = "attestation" if request.kind == "attestation" else "footprint"
        return CertificateOutcome(errors=_error(field, str(e)))
    except OpenPCFError as e:
        return CertificateOutcome(errors=_error("footprint", str(e)))
    return CertificateOutcome(certificate=certificate)


def _attestation_input(
    attestation: bytes | None, jwks: bytes | None
) -> tuple[str | None, Any, list[FieldError]]:
    """The attestation token and the verifier's key set from the uploaded bytes."""
    errors: list[FieldError] = []
    token = None
    if not attestation:
        errors.append(FieldError(field="attestation", message="upload the attestation (.jwt)"))
    elif len(attestation) > MAX_ATTESTATION_BYTES:
        errors.append(FieldError(field="attestation", message="larger than 1 MB"))
    else:
        try:
            token = attestation.decode("ascii").strip()
        except UnicodeDecodeError:
            errors.append(
                FieldError(field="attestation", message="not an attestation (a vc+jwt is ASCII)")
            )
    key_set = None
    if not jwks:
        errors.append(FieldError(field="jwks", message="upload the verifier's JWKS (.json)"))
    elif len(jwks) > MAX_JWKS_BYTES:
        errors.append(FieldError(field="jwks", message="larger than 256 kB"))
    else:
        try:
            key_set = import_key_set(jsonfile.loads(jwks), source="the verifier's JWKS")
        except (KeySourceError, ValueError) as e:
            errors.append(FieldError(field="jwks", message=str(e)[:300]))
    return token, key_set, errors


# -- downloads made from the editor's model ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    """A file to send (``content`` and its name and media type), or the errors instead."""

    content: bytes = b""
    filename: str = ""
    media_type: str = "application/octet-stream"
    errors: tuple[FieldError, ...] = ()


REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def report_for_model_text(
    text: str, typed: Mapping[str, str], *, fmt: str, lang: str, caller: WebCaller
) -> Download:
    """The ISO 14067 CFP study report of the editor's model (``openpcf report``), with the
    parameters as typed, in ``fmt`` (``html`` or ``pdf``) and ``lang`` (``en`` or ``zh``),
    calculated with ``caller``'s data and recorded as ``web report``."""
    if fmt not in REPORT_TYPES or lang not in ("en", "zh"):
        return Download(errors=_error("report", "choose HTML or PDF, English or Chinese"))
    model = editor_model(text, typed)
    if model.loaded is None:
        return Download(errors=model.errors)
    try:
        calculation = web_calculate(
            model.loaded, caller, overrides=dict(model.changed), command="web report"
        )
        content = render(build_report_data(calculation, lang=lang), fmt)
    except OpenPCFError as e:
        return Download(errors=_located("model", str(e)))
    name = slug(model.loaded.model.product.name) or "product"
    return Download(
        content=content, filename=f"{name}-report-{lang}.{fmt}", media_type=REPORT_TYPES[fmt]
    )


def report_for_footprint(
    caller: WebCaller,
    *,
    organisation_id: int,
    footprint_id: str,
    model: bytes | None,
    name: str,
    fmt: str,
    lang: str,
) -> Download:
    """The report of one of the organisation's stored footprints, made from the model it was
    calculated from: the model text kept with its calculation record
    (:func:`~openpcf.services.publishing.kept_model_text`) when ``model`` is None, else the
    model file uploaded on the product page (``model``, named ``name``), which older records
    and models with side files need.

    An uploaded file is accepted only when it is the stored model byte for byte (newlines
    aside); either text must pass the editor's checks and give the stored PACT document again
    (:func:`recalculate_stored`). Anything else is a field error saying which check failed.

    Raises
    ------
    NotFoundError
        No such footprint, or another organisation's.
    """
    stored, record = _stored_record(caller.engine, organisation_id, footprint_id)
    if fmt not in REPORT_TYPES or lang not in ("en", "zh"):
        return Download(errors=_error("report", "choose HTML or PDF, English or Chinese"))
    if record is None:
        return Download(errors=_error("model_file", "no calculation is stored with it"))
    if model is None:
        text = record["model_text"]
        if text is None:
            return Download(errors=_error("model_file", "choose the model file (.yaml)"))
    else:
        checked = _uploaded_text(model, name, expected=record["model_sha256"])
        if isinstance(checked, tuple):
            return Download(errors=checked)
        text = checked
    calculation, errors = recalculate_stored(
        text, record["parameters"], stored, caller=caller, field="model_file"
    )
    if calculation is None:
        return Download(errors=errors)
    try:
        content = render(build_report_data(calculation, lang=lang), fmt)
        record_calculation(
            calculation, trail=caller.settings.audit_trail, context=caller.audit("web report")
        )
    except OpenPCFError as e:
        return Download(errors=_located("model_file", str(e)))
    stem = slug(calculation.compiled.model.product.name) or "product"
    return Download(
        content=content, filename=f"{stem}-report-{lang}.{fmt}", media_type=REPORT_TYPES[fmt]
    )


def _uploaded_text(model: bytes, name: str, *, expected: str) -> str | tuple[FieldError, ...]:
    """The uploaded model file as text when it is the model with SHA-256 ``expected``."""
    if len(model) > MAX_MODEL_BYTES:
        return _error("model_file", "larger than 1 MB")
    try:
        text = model.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return _error("model_file", f"{name}: not UTF-8 text (YAML)")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest != expected:
        return _error(
            "model_file",
            f"{name}: sha256 {digest[:12]}…, but the footprint was calculated from a "
            f"model with sha256 {expected[:12]}…",
        )
    return text


def recalculate_stored(
    text: str,
    parameters: Mapping[str, Any],
    stored: Mapping[str, Any],
    *,
    caller: WebCaller,
    field: str = "model",
) -> tuple[Calculation | None, tuple[FieldError, ...]]:
    """The stored footprint's calculation made again: the model ``text`` with the stored
    ``parameters``, with the editor's checks and ``caller``'s data (as the editor
    calculates), accepted only when it gives the ``stored`` PACT document again
    (:func:`~openpcf.services.publishing.same_content`: the same totals and every other
    member). Else None and the errors, at ``field``. Not recorded on the audit trail.
    """
    typed = {k: f"{float(v)!r}" for k, v in parameters.items()}
    checked = editor_model(text, typed)
    if checked.loaded is None:
        return None, tuple(replace(e, field=field) for e in checked.errors)
    try:
        calculation = web_calculate(checked.loaded, caller, overrides=dict(checked.changed))
        again = pact_document(calculation, allow_illustrative=True)
    except OpenPCFError as e:
        return None, _located(field, str(e))
    if not same_content(again, stored):
        return None, _error(
            field,
            "recalculated on this server's data, the model gives another footprint than the "
            "stored one (published with other data or another version): make its report "
            "with openpcf report where it was published",
        )
    return calculation, ()


def model_kept(engine: Engine, *, organisation_id: int, footprint_id: str) -> bool:
    """Whether the model text is stored with one of the organisation's footprints (its report
    needs no upload); :class:`NotFoundError` for another's."""
    record = _stored_record(engine, organisation_id, footprint_id)[1]
    return record is not None and record["model_text"] is not None


def _stored_record(
    engine: Engine, organisation_id: int, footprint_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The organisation's stored document and its calculation record's model hash, model text
    and parameters (None when no record is stored); :class:`NotFoundError` for another's."""
    document = pact_json(engine, organisation_id=organisation_id, footprint_id=footprint_id)
    with session_scope(engine) as session:
        footprint = session.get(Footprint, uuid.UUID(footprint_id))
        key = footprint.calculation_id if footprint is not None else None
        record = session.get(CalculationRecord, key) if key is not None else None
        if record is None:
            return document, None
        return document, {
            "model_sha256": record.model_sha256,
            "model_text": record.model_text,
            "parameters": dict(record.result.get("parameters") or {}),
        }


def package_for_model_text(
    text: str,
    typed: Mapping[str, str],
    *,
    keys: KeyStore,
    lang: str,
    caller: WebCaller,
    allow_illustrative: bool = False,
) -> Download:
    """The verification package of the editor's model (``openpcf package``): its manifest
    signed when the key store has an active key; no certificate is issued (that is the
    product page's, over the published footprint). A model on illustrative factors is
    packed without its PACT footprint (the manifest says why) unless ``allow_illustrative``
    (the publish form's check box), as ``openpcf package --allow-illustrative``.

    When ``caller``'s organisation published this calculation, the package carries the stored
    footprint, as the CLI's does; never another organisation's (see :func:`_stored_here`).
    It is calculated with that organisation's data and recorded as ``web package``.
    """
    model = editor_model(text, typed)
    if model.loaded is None:
        return Download(errors=model.errors)
    name = slug(model.loaded.model.product.name) or "product"
    try:
        calculation = web_calculate(model.loaded, caller, overrides=dict(model.changed))
    except OpenPCFError as e:
        return Download(errors=_located("model", str(e)))
    here = _stored_here(caller.engine, calculation, caller.organisation)
    with tempfile.TemporaryDirectory(prefix="openpcf-web-package-") as folder:
        output = Path(folder) / "package.zip"
        try:
            build_package(
                model.loaded,
                output=output,
                certificate=False,
                keys=keys,
                engine=caller.engine if here else None,
                lang=lang if lang in ("en", "zh") else "en",
                allow_illustrative=allow_illustrative,
                audit=caller.audit("web package"),
                organisation=caller.organisation,
                **web_options(caller, overrides=dict(model.changed)),
            )
        except OpenPCFError as e:
            return Download(errors=_located("model", str(e).replace(folder + "/", "")))
        content = output.read_bytes()
    return Download(content=content, filename=f"{name}-package.zip", media_type="application/zip")


def _stored_here(engine: Engine, calculation: Calculation, organisation: str) -> bool:
    """Whether the package may look the calculation up in the footprint database.

    :func:`~openpcf.services.publishing.find_published` takes the Active footprint stored
    under the calculation's id, in any organisation, else the live footprint with the same
    content of the organisation named like the model's ``company_name``. Both must lead to
    ``organisation`` only: the footprint under the id must be its own, and when that is not
    the answer (none, or not Active) the model must name ``organisation``.
    """
    with session_scope(engine) as session:
        stored = session.get(Footprint, calculation.footprint_id)
        if stored is not None and stored.organisation.name != organisation:
            return False
        if stored is not None and stored.status == ACTIVE:
            return True
    return calculation.compiled.model.product.company_name == organisation


CBAM_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def cbam_communication(data: bytes, *, name: str, fmt: str) -> Download:
    """The CBAM communication to importers of an uploaded installation file
    (``openpcf cbam calc -f xlsx|json``): the Commission's template v2.1.1 filled, or JSON."""
    if fmt not in CBAM_TYPES:
        return Download(errors=_error("format", "choose xlsx or JSON"))
    if len(data) > MAX_INSTALLATION_BYTES:
        return Download(errors=_error("installation", "larger than 1 MB"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Download(errors=_error("installation", f"{name}: not UTF-8 text (YAML)"))
    try:
        installation = load_installation(Path(name), text=text)
        communication = build_communication(calculate_installation(installation))
        if fmt == "json":
            content = (json.dumps(communication, ensure_ascii=False, indent=2) + "\n").encode()
        else:
            with tempfile.TemporaryDirectory(prefix="openpcf-web-cbam-") as folder:
                path = Path(folder) / "communication.xlsx"
                write_xlsx(communication, path)
                content = path.read_bytes()
    except OpenPCFError as e:
        return Download(errors=_error("installation", str(e)))
    stem = slug(Path(name).stem) or "installation"
    return Download(
        content=content, filename=f"{stem}-cbam-communication.{fmt}", media_type=CBAM_TYPES[fmt]
    )
