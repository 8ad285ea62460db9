"""Third-party attestation and trust anchors (issue 13).

Three parties, each in its own ``OPENPCF_HOME``: the manufacturer (issuer keys, a verification
package, the certificate), the verifier (its own keys and profile: it reproduces the package
and signs an attestation) and the buyer (a trust list of the verifier's and the manufacturer's
keys). Then an attacker with its own key pairs, JWKS and status list forges a certificate of a
10x lower footprint with a fake "reasonable assurance" attestation:

- with the buyer's trust list the forgery fails, exit 41 (signer not trusted);
- with no trust anchor at all it verifies as "signature valid, signer not authenticated",
  exit 40: the keys came with the certificate, which proves integrity, not origin;
- only when the buyer explicitly trusts the attacker's keys does it pass.

The widget (``tests/fixtures/pact_widget.yaml``) is 6.2054 kg CO2e per kg (worked out in
``tests/fixtures/two_process.yaml``); the forgery states a tenth of it, 0.62054.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.in_process import openpcf
from openpcf.certify import (
    AttestationError,
    AttestationMismatchError,
    CredentialExpiredError,
    KeyStore,
    SignatureInvalidError,
    SignerNotAuthenticatedError,
    TrustList,
    TrustListError,
    UntrustedSignerError,
    VerifierHome,
    VerifierProfile,
    footprint_digest,
    issue_certificate,
    jwks,
    sign_attestation,
    status_list,
    trust_list_anchors,
    verify_certificate,
)
from openpcf.certify.credential import sign_credential
from openpcf.package import ReproductionError, UntrustedPackageError

FIXTURES = Path(__file__).parent / "fixtures"
WIDGET = FIXTURES / "pact_widget.yaml"
NOT_AUTHENTICATED = SignerNotAuthenticatedError.exit_code
UNTRUSTED = UntrustedSignerError.exit_code
VERIFIER = "Example Verification Ltd"
ACCREDITATION = "CNAS V0123"


def _b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def payload_of(token: str) -> dict[str, Any]:
    return json.loads(_b64d(token.split(".")[1]))


def use_home(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """Make ``folder`` the OPENPCF_HOME the CLI sees (each party has its own)."""
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(folder))
    monkeypatch.delenv("OPENPCF_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    return folder


def run(*args: str) -> tuple[int, str]:
    """``openpcf ARGS`` with the console script's error translation; never a traceback."""
    done = openpcf(*args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def ok(*args: str) -> str:
    code, out = run(*args)
    assert code == 0, f"{args}: {out}"
    return out


@dataclass
class World:
    """What the three parties made, and where."""

    folder: Path
    manufacturer: Path
    verifier: Path
    buyer: Path
    package: Path
    footprint: Path
    attestation: Path
    certificate: Path
    manufacturer_jwks: Path
    verifier_jwks: Path
    trust_list: Path


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The round trip by the CLI: package, attest, certify, trust."""
    folder = tmp_path
    maker_jwks, verifier_jwks = folder / "manufacturer.jwks.json", folder / "verifier.jwks.json"
    package, attestation = folder / "widget.zip", folder / "widget.attestation.jwt"
    footprint, certificate = folder / "widget.pact.json", folder / "widget.jwt"

    use_home(monkeypatch, folder / "manufacturer")
    ok("keys", "create", "--issuer", "https://widgets.example.com")
    ok("keys", "export-jwks", "-o", str(maker_jwks))
    ok("package", str(WIDGET), "-o", str(package))
    with zipfile.ZipFile(package) as z:
        footprint.write_bytes(z.read("footprint.pact.json"))

    use_home(monkeypatch, folder / "verifier")
    ok(
        "verifier", "init", "--name", VERIFIER, "--accreditation-id", ACCREDITATION,
        "--accreditation-body", "CNAS",
    )  # fmt: skip
    ok("verifier", "export-jwks", "-o", str(verifier_jwks))
    out = ok(
        "verifier", "attest", str(package), "-o", str(attestation), "--assurance", "reasonable",
        "--issuer-jwks", str(maker_jwks),
    )  # fmt: skip
    assert "reasonable assurance (ISO 14064-3:2019)" in out
    assert "footprint numbers: identical to the footprint recomputed from the package" in out

    use_home(monkeypatch, folder / "manufacturer")
    out = ok(
        "certificate", "issue", str(footprint), "-o", str(certificate),
        "--attestation", str(attestation), "--verifier-jwks", str(verifier_jwks),
    )  # fmt: skip
    assert "embeds the verifier's attestation urn:uuid:" in out

    buyer = use_home(monkeypatch, folder / "buyer")
    ok(
        "verifier", "trust", "add", VERIFIER, "--role", "verifier", "--jwks", str(verifier_jwks),
        "--accreditation-id", ACCREDITATION, "--accreditation-body", "CNAS",
    )  # fmt: skip
    ok("verifier", "trust", "add", "Widget Works", "--role", "issuer", "--jwks", str(maker_jwks))
    return World(
        folder=folder,
        manufacturer=folder / "manufacturer",
        verifier=folder / "verifier",
        buyer=buyer,
        package=package,
        footprint=footprint,
        attestation=attestation,
        certificate=certificate,
        manufacturer_jwks=maker_jwks,
        verifier_jwks=verifier_jwks,
        trust_list=buyer / "trust-list.json",
    )


# -- the round trip --------------------------------------------------------------------------
def test_round_trip_both_signatures_trusted(world: World) -> None:
    """The buyer's trust list holds the verifier's and the manufacturer's keys: valid."""
    code, out = run(
        "certificate", "verify", str(world.certificate), "--footprint", str(world.footprint),
        "--package", str(world.package), "--json",
    )  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    assert (report["valid"], report["trusted"]) == (True, True)
    assert report["verdict"] == "signatures valid, every signer trusted"
    certificate, attestation = report["signatures"]
    assert certificate["credential"] == "certificate"
    assert certificate["kid"] == json.loads(world.manufacturer_jwks.read_text())["keys"][0]["kid"]
    assert certificate["trusted"] is True
    assert "on the trust list" in certificate["why"]
    assert "issuer 'Widget Works'" in certificate["why"]
    assert attestation["credential"] == "attestation"
    assert attestation["kid"] == json.loads(world.verifier_jwks.read_text())["keys"][0]["kid"]
    assert attestation["trusted"] is True
    assert f"verifier {VERIFIER!r}, accreditation {ACCREDITATION} by CNAS" in attestation["why"]
    assert report["checks"]["attestation"].startswith("ok: reasonable assurance (ISO 14064-3:2019")
    assert "binds the package given" in report["checks"]["attestation"]
    assert report["self_declared"] is None

    # what the certificate binds: the footprint's and the package's digests, the attestation's
    cert = payload_of(world.certificate.read_text())
    bound = cert["credentialSubject"]["attestation"]
    token = world.attestation.read_text().strip()
    assert cert["evidence"][0]["type"] == "EnvelopedVerifiableCredential"
    assert cert["evidence"][0]["id"] == "data:application/vc+jwt," + token
    import hashlib

    assert bound["digest"]["value"] == hashlib.sha256(token.encode()).hexdigest()
    assert bound["packageDigest"]["value"] == hashlib.sha256(world.package.read_bytes()).hexdigest()
    attested = payload_of(token)
    assert attested["type"] == ["VerifiableCredential", "ProductCarbonFootprintAttestation"]
    subject = attested["credentialSubject"]
    fp = json.loads(world.footprint.read_text())
    assert subject["footprintDigest"]["value"] == footprint_digest(fp)
    assert subject["verification"]["standard"] == "ISO 14064-3:2019"
    assert subject["verification"]["criteria"] == ["ISO 14067:2018"]
    assert subject["verification"]["reproduction"]["kgCO2ePerDeclaredUnit"] == pytest.approx(
        6.2054, rel=1e-12
    )
    assert subject["verifier"]["accreditationId"] == ACCREDITATION
    assert attested["issuer"]["name"] == VERIFIER

    code, text = run("certificate", "verify", str(world.certificate))
    assert code == 0, text
    assert "attestation: key" in text
    assert "NOT trusted" not in text
    assert "verdict: signatures valid, every signer trusted" in text


def test_trust_list_commands(world: World) -> None:
    out = ok("verifier", "trust", "list")
    assert "verifier  Example Verification Ltd" in out
    assert f"accreditation {ACCREDITATION}" in out
    data = json.loads(world.trust_list.read_text())
    assert data["type"] == "OpenPCFTrustList"
    assert all("d" not in k for e in data["entries"] for k in e["jwks"]["keys"])
    ok("verifier", "trust", "remove", "Widget Works")
    code, out = run("certificate", "verify", str(world.certificate))
    assert code == UNTRUSTED, out  # the manufacturer is no longer trusted
    code, out = run("verifier", "trust", "remove", "Nobody")
    assert code == 2
    assert "no trusted party named 'Nobody'" in out


def test_without_a_trust_anchor_the_signer_is_not_authenticated(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_home(monkeypatch, tmp_path / "stranger")
    code, out = run(
        "certificate", "verify", str(world.certificate), "--jwks", str(world.manufacturer_jwks),
        "--jwks", str(world.verifier_jwks),
    )  # fmt: skip
    assert code == NOT_AUTHENTICATED == 40, out
    assert "signature valid, signer not authenticated" in out
    assert "trust anchors: none given" in out


def test_refuses_to_attest_a_package_that_does_not_reproduce(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = world.folder / "changed.zip"
    with zipfile.ZipFile(world.package) as z, zipfile.ZipFile(changed, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "result.json":
                data = data.replace(b'"kg_co2e": 6.2054', b'"kg_co2e": 0.62054', 1)
            out.writestr(name, data)
    use_home(monkeypatch, world.verifier)
    target = world.folder / "refused.jwt"
    code, text = run(
        "verifier", "attest", str(changed), "-o", str(target), "--assurance", "limited"
    )
    assert code == ReproductionError.exit_code == 30, text
    assert "not attested" in text
    assert not target.exists()
    other = KeyStore(world.folder / "someone")
    other.create()
    other_jwks = world.folder / "someone.jwks.json"
    other_jwks.write_text(json.dumps(jwks(keys=other)))
    code, text = run(
        "verifier", "attest", str(world.package), "-o", str(target), "--assurance", "limited",
        "--issuer-jwks", str(other_jwks),
    )  # fmt: skip
    assert code == UntrustedPackageError.exit_code == 31, text
    assert not target.exists()
    code, text = run(
        "verifier", "attest", str(world.package), "-o", str(target), "--assurance", "high"
    )
    assert code == 2
    assert not target.exists()


def test_attest_needs_a_verifier_profile(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    use_home(monkeypatch, world.buyer)
    code, out = run(
        "verifier", "attest", str(world.package), "-o", "x.jwt", "--assurance", "limited"
    )
    assert code == 2
    assert "run `openpcf verifier init" in out


# -- the forgery -----------------------------------------------------------------------------
@dataclass
class Forgery:
    certificate: Path
    jwks: Path  # the attacker's "manufacturer" key
    verifier_jwks: Path  # the attacker's "verifier" key
    status_list: Path
    issuer_kid: str
    verifier_kid: str


@pytest.fixture
def forgery(world: World) -> Forgery:
    """The attacker's own key pairs, JWKS, status list, fake attestation and certificate of a
    footprint 10x lower (0.62054 instead of 6.2054), claiming reasonable assurance."""
    folder = world.folder / "attacker"
    maker = KeyStore(folder / "keys")
    maker.create(issuer="https://widgets.example.com")  # the manufacturer's name, its own key
    fake = VerifierHome(folder / "verifier")
    fake.init(name=VERIFIER, accreditation_id=ACCREDITATION, accreditation_body="CNAS")
    lower = json.loads(world.footprint.read_text())
    lower["pcf"]["pcfExcludingBiogenicUptake"] = "0.62054"
    lower["pcf"]["pcfIncludingBiogenicUptake"] = "0.62054"
    attestation = sign_attestation(
        lower,
        package_sha256="0" * 64,
        keys=fake.keys,
        profile=fake.profile(),
        assurance="reasonable",
    )
    cert = issue_certificate(lower, keys=maker, attestation=attestation.token)
    paths = Forgery(
        certificate=folder / "forged.jwt",
        jwks=folder / "jwks.json",
        verifier_jwks=folder / "verifier.jwks.json",
        status_list=folder / "status.jwt",
        issuer_kid=maker.active().kid,
        verifier_kid=fake.keys.active().kid,
    )
    paths.certificate.write_text(cert.token)
    paths.jwks.write_text(json.dumps(jwks(keys=maker)))
    paths.verifier_jwks.write_text(json.dumps(jwks(keys=fake.keys)))
    paths.status_list.write_text(status_list(keys=maker))
    return paths


def test_forgery_fails_with_the_buyers_trust_list(world: World, forgery: Forgery) -> None:
    for extra in ([], ["--jwks", str(forgery.jwks), "--jwks", str(forgery.verifier_jwks)]):
        code, out = run(
            "certificate", "verify", str(forgery.certificate), "--status-list",
            str(forgery.status_list), *extra, "--json",
        )  # fmt: skip
        assert code == UNTRUSTED == 41, out
        assert '"check": "trust"' in out
        assert forgery.issuer_kid in out
    # with the attacker's keys at hand, every signature verifies and the report says whose
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--jwks", str(forgery.jwks),
        "--jwks", str(forgery.verifier_jwks), "--json",
    )  # fmt: skip
    failed = json.loads(out[: out.rindex("}") + 1])
    assert [s["trusted"] for s in failed["signatures"]] == [False, False]
    assert all("proves integrity, not who signed" in s["why"] for s in failed["signatures"])


def test_forgery_without_anchors_is_not_authenticated(
    forgery: Forgery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_home(monkeypatch, tmp_path / "naive buyer")
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--jwks", str(forgery.jwks),
        "--jwks", str(forgery.verifier_jwks), "--status-list", str(forgery.status_list),
    )  # fmt: skip
    assert code == NOT_AUTHENTICATED, out
    assert "0.62054 kg CO2e" in out
    assert "signature valid, signer not authenticated" in out
    assert out.count("NOT trusted") == 2
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--jwks", str(forgery.jwks),
        "--jwks", str(forgery.verifier_jwks), "--json",
    )  # fmt: skip
    report = json.loads(out[: out.rindex("}") + 1])
    assert (report["valid"], report["integrity"], report["trusted"]) == (False, True, None)
    assert [(s["credential"], s["kid"]) for s in report["signatures"]] == [
        ("certificate", forgery.issuer_kid),
        ("attestation", forgery.verifier_kid),
    ]


def test_forgery_passes_only_when_its_keys_are_trusted_explicitly(
    forgery: Forgery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_home(monkeypatch, tmp_path / "careless buyer")
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--trust-jwks", str(forgery.jwks),
        "--trust-jwks", str(forgery.verifier_jwks),
    )  # fmt: skip
    assert code == 0, out
    assert "pinned by the buyer" in out
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--jwks", str(forgery.jwks),
        "--jwks", str(forgery.verifier_jwks), "--trust-kid", forgery.issuer_kid,
        "--trust-kid", forgery.verifier_kid,
    )  # fmt: skip
    assert code == 0, out
    assert "thumbprint is pinned" in out
    # one of the two trusted is not enough
    code, out = run(
        "certificate", "verify", str(forgery.certificate), "--trust-jwks", str(forgery.jwks),
        "--jwks", str(forgery.verifier_jwks),
    )  # fmt: skip
    assert code == UNTRUSTED, out


def test_a_kid_pin_is_checked_against_the_key_material(world: World, tmp_path: Path) -> None:
    """A forger who labels its own key with the pinned id gains nothing: the pin is the RFC
    7638 thumbprint, recomputed from the key material."""
    from openpcf.certify import pinned_kids
    from openpcf.certify.jose import sign_compact

    pinned = json.loads(world.manufacturer_jwks.read_text())["keys"][0]["kid"]
    forger = KeyStore(tmp_path / "forger")
    forger.create()
    _, key = forger.signing_key()
    genuine = world.certificate.read_text().strip()
    header = {"alg": "Ed25519", "kid": pinned, "typ": "vc+jwt", "cty": "vc"}
    forged = sign_compact(header, _b64d(genuine.split(".")[1]), key)
    relabelled = jwks(keys=forger)
    relabelled["keys"][0]["kid"] = pinned
    with pytest.raises(UntrustedSignerError, match="proves integrity, not who signed") as info:
        verify_certificate(forged, jwks=relabelled, trust=pinned_kids([pinned]))
    assert [s.trusted for s in info.value.signatures] == [False, False]
    # the genuine key under its own id passes the same pin (its attestation is not pinned)
    with pytest.raises(UntrustedSignerError, match="the attestation is signed by key"):
        verify_certificate(
            genuine,
            jwks=[json.loads(world.manufacturer_jwks.read_text())],
            trust=pinned_kids([pinned]),
        )


# -- bad input ---------------------------------------------------------------------------------
@pytest.fixture
def parties(tmp_path: Path) -> dict[str, Any]:
    """Library-level parties: manufacturer and verifier key stores, a footprint, anchors."""
    from openpcf.exchange.pact import product_footprint
    from openpcf.services.calculate import calculate

    maker = KeyStore(tmp_path / "maker")
    maker.create(issuer="https://widgets.example.com")
    home = VerifierHome(tmp_path / "verifier")
    home.init(name=VERIFIER, accreditation_id=ACCREDITATION, accreditation_body="CNAS")
    footprint = product_footprint(calculate(WIDGET))
    package = tmp_path / "p.zip"
    package.write_bytes(b"a package")
    import hashlib

    trusted = TrustList.from_dict(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [
                {"name": "Widget Works", "role": "issuer", "jwks": jwks(keys=maker)},
                {
                    "name": VERIFIER,
                    "role": "verifier",
                    "accreditationId": ACCREDITATION,
                    "jwks": jwks(keys=home.keys),
                },
            ],
        }
    )
    return {
        "maker": maker,
        "home": home,
        "footprint": footprint,
        "package": package,
        "package_sha256": hashlib.sha256(b"a package").hexdigest(),
        "trust": trust_list_anchors(trusted),
    }


def attest(parties: dict[str, Any], **kw: Any) -> str:
    home = parties["home"]
    args: dict[str, Any] = {
        "package_sha256": parties["package_sha256"],
        "keys": home.keys,
        "profile": home.profile(),
        "assurance": "limited",
    } | kw
    footprint = args.pop("footprint", parties["footprint"])
    return sign_attestation(footprint, **args).token


def certified(parties: dict[str, Any], token: str | None = None, **kw: Any) -> Any:
    """The manufacturer's certificate embedding ``token`` (a fresh attestation by default)."""
    token = token or attest(parties)
    return issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token, **kw)


def check(parties: dict[str, Any], token: str, **kw: Any) -> Any:
    return verify_certificate(
        token, trust=parties["trust"], package=parties["package"], footprint=None, **kw
    )


def resign(token: str, keys: KeyStore, change: Callable[[dict[str, Any]], None]) -> str:
    """A credential changed and signed again with ``keys`` (a dishonest issuer's own key)."""
    payload = payload_of(token)
    change(payload)
    return sign_credential(payload, keys)


def test_library_round_trip(parties: dict[str, Any]) -> None:
    token = attest(parties)
    cert = issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token)
    result = check(parties, cert.token)
    assert result.trusted is True
    assert [s.credential for s in result.signatures] == ["certificate", "attestation"]
    assert result.attestation["verification"]["assuranceLevel"] == "limited"


def test_tampered_attestation(parties: dict[str, Any]) -> None:
    token = attest(parties)
    h, _p, s = token.split(".")
    changed = payload_of(token)
    changed["credentialSubject"]["verification"]["assuranceLevel"] = "reasonable"
    p2 = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    tampered = f"{h}.{p2}.{s}"
    # checked at issue when the verifier's keys are given
    with pytest.raises(SignatureInvalidError, match="attestation"):
        issue_certificate(
            parties["footprint"],
            keys=parties["maker"],
            attestation=tampered,
            verifier_keys=parties["home"].keys.public_keys(),
        )
    # embedded unchecked, it fails the buyer's check of the attestation's signature
    cert = issue_certificate(parties["footprint"], keys=parties["maker"], attestation=tampered)
    with pytest.raises(SignatureInvalidError) as info:
        check(parties, cert.token)
    assert info.value.check == "attestation signature"
    assert info.value.exit_code == 13


def test_attestation_for_another_footprint(parties: dict[str, Any]) -> None:
    other = copy.deepcopy(parties["footprint"])
    other["pcf"]["pcfExcludingBiogenicUptake"] = "0.62054"
    token = attest(parties, footprint=other)
    with pytest.raises(AttestationMismatchError, match="not this footprint") as info:
        issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token)
    assert info.value.exit_code == 43
    # a dishonest issuer binds it anyway, re-signing with its own key: the buyer sees it
    genuine = issue_certificate(other, keys=parties["maker"], attestation=token).token
    digest = footprint_digest(parties["footprint"])

    def swap(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["footprintDigest"]["value"] = digest

    with pytest.raises(AttestationMismatchError, match="not this footprint"):
        check(parties, resign(genuine, parties["maker"], swap))


def test_attestation_for_another_package(parties: dict[str, Any], tmp_path: Path) -> None:
    cert = issue_certificate(
        parties["footprint"], keys=parties["maker"], attestation=attest(parties)
    )
    other = tmp_path / "other.zip"
    other.write_bytes(b"another package")
    with pytest.raises(AttestationMismatchError, match="not the package given") as info:
        verify_certificate(cert.token, trust=parties["trust"], package=other)
    assert info.value.check == "attestation-binding"


def test_summary_that_overstates_the_assurance(parties: dict[str, Any]) -> None:
    """The certificate says "reasonable" over a "limited" attestation: refused."""
    cert = issue_certificate(
        parties["footprint"], keys=parties["maker"], attestation=attest(parties)
    )

    def overstate(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["attestation"]["assuranceLevel"] = "reasonable"

    with pytest.raises(AttestationMismatchError, match="'reasonable' in the certificate"):
        check(parties, resign(cert.token, parties["maker"], overstate))


def test_expired_attestation(parties: dict[str, Any]) -> None:
    then = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    token = attest(parties, now=then, valid_for=dt.timedelta(days=30))
    cert = issue_certificate(
        parties["footprint"], keys=parties["maker"], attestation=token, now=then
    )
    assert check(parties, cert.token, now=then + dt.timedelta(days=1)).trusted
    with pytest.raises(CredentialExpiredError, match="attestation expired on 2025-01-31") as info:
        check(parties, cert.token, now=then + dt.timedelta(days=31))
    assert (info.value.check, info.value.exit_code) == ("attestation expiry", 14)
    with pytest.raises(CredentialExpiredError):  # and it is refused at issue
        issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token)


@pytest.mark.parametrize("level", ["high", "Reasonable", "", None, 3])
def test_wrong_assurance_value(parties: dict[str, Any], level: Any) -> None:
    with pytest.raises(AttestationError, match="not one of ISO 14064-3:2019's levels"):
        attest(parties, assurance=level)
    token = attest(parties)

    def wrong(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["verification"]["assuranceLevel"] = level

    forged = resign(token, parties["home"].keys, wrong)  # the verifier's own key, a bad value
    with pytest.raises(AttestationError, match="levels of assurance") as info:
        issue_certificate(parties["footprint"], keys=parties["maker"], attestation=forged)
    assert info.value.exit_code == 42


def test_self_attestation_is_refused(parties: dict[str, Any], tmp_path: Path) -> None:
    maker = parties["maker"]
    own = VerifierProfile(
        name="Widget Works QA", accreditation_id="none", accreditation_body="none", id="x"
    )
    token = sign_attestation(
        parties["footprint"],
        package_sha256=parties["package_sha256"],
        keys=maker,
        profile=own,
        assurance="reasonable",
    ).token
    with pytest.raises(AttestationError, match="signed by this issuer itself"):
        issue_certificate(parties["footprint"], keys=maker, attestation=token)


def test_manufacturer_key_cannot_sign_as_verifier(parties: dict[str, Any], tmp_path: Path) -> None:
    """A second issuer store trusted as an issuer signs an "attestation": wrong role."""
    second = KeyStore(tmp_path / "second")
    second.create(issuer="https://other.example.com")
    trusted = TrustList.from_dict(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [
                {"name": "Widget Works", "role": "issuer", "jwks": jwks(keys=parties["maker"])},
                {"name": "Other", "role": "issuer", "jwks": jwks(keys=second)},
            ],
        }
    )
    profile = VerifierProfile(
        name=VERIFIER, accreditation_id=ACCREDITATION, accreditation_body="CNAS", id="y"
    )
    token = sign_attestation(
        parties["footprint"],
        package_sha256=parties["package_sha256"],
        keys=second,
        profile=profile,
        assurance="reasonable",
    )
    cert = issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token)
    with pytest.raises(UntrustedSignerError, match="not as verifier"):
        verify_certificate(cert.token, trust=trust_list_anchors(trusted))


def test_accreditation_must_match_the_trust_list(parties: dict[str, Any]) -> None:
    home = parties["home"]
    claimed = VerifierProfile(
        name=VERIFIER, accreditation_id="UKAS 9999", accreditation_body="UKAS", id="z"
    )
    token = sign_attestation(
        parties["footprint"],
        package_sha256=parties["package_sha256"],
        keys=home.keys,
        profile=claimed,
        assurance="limited",
    )
    cert = issue_certificate(parties["footprint"], keys=parties["maker"], attestation=token)
    with pytest.raises(AttestationError, match="claims accreditation 'UKAS 9999'"):
        check(parties, cert.token)


def test_require_attestation(parties: dict[str, Any]) -> None:
    cert = issue_certificate(parties["footprint"], keys=parties["maker"])
    assert check(parties, cert.token).trusted
    with pytest.raises(AttestationError, match="no third-party attestation"):
        check(parties, cert.token, require_attestation=True)


def test_legacy_typed_attestation_is_self_declared(parties: dict[str, Any]) -> None:
    """An old-style ``attestation`` a manufacturer typed (no verifier signature) counts for
    nothing: it is reported as self-declared."""
    cert = issue_certificate(parties["footprint"], keys=parties["maker"])

    def legacy(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["attestation"] = {
            "assuranceLevel": "reasonable",
            "standard": "ISO14064-3",
            "verifier": {"name": VERIFIER},
        }

    result = check(parties, resign(cert.token, parties["maker"], legacy))
    checks = dict(result.checks)
    assert checks["attestation"] == "none: no third-party attestation"
    assert checks["assurance"].startswith("self-declared by the issuer: reasonable assurance")


MALFORMED = {
    "not JSON": "{",
    "not a trust list": json.dumps({"entries": []}),
    "another version": json.dumps({"type": "OpenPCFTrustList", "version": 2, "entries": []}),
    "no role": json.dumps(
        {"type": "OpenPCFTrustList", "version": 1, "entries": [{"name": "A", "kids": ["k"]}]}
    ),
    "verifier without accreditation": json.dumps(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [{"name": "A", "role": "verifier", "kids": ["k"]}],
        }
    ),
    "no keys": json.dumps(
        {"type": "OpenPCFTrustList", "version": 1, "entries": [{"name": "A", "role": "issuer"}]}
    ),
    "a typo": json.dumps(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [{"name": "A", "role": "issuer", "kid": "k"}],
        }
    ),
    "not a JWKS": json.dumps(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [{"name": "A", "role": "issuer", "jwks": {"key": []}}],
        }
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_trust_list(world: World, case: str) -> None:
    bad = world.folder / "bad-trust-list.json"
    bad.write_text(MALFORMED[case])
    code, out = run("certificate", "verify", str(world.certificate), "--trust-list", str(bad))
    assert code == TrustListError.exit_code == 44, out
    assert "trust-list check failed" in out
    with pytest.raises(TrustListError):
        TrustList.load(bad)


def test_trust_list_with_private_keys_is_refused(parties: dict[str, Any]) -> None:
    with pytest.raises(TrustListError, match="private key material"):
        TrustList.from_dict(
            {
                "type": "OpenPCFTrustList",
                "version": 1,
                "entries": [
                    {
                        "name": "A",
                        "role": "issuer",
                        "jwks": parties["maker"].jwks(public_only=False),
                    }
                ],
            }
        )


def test_library_verdict_without_anchors(parties: dict[str, Any]) -> None:
    cert = issue_certificate(
        parties["footprint"], keys=parties["maker"], attestation=attest(parties)
    )
    result = verify_certificate(
        cert.token, jwks=[jwks(keys=parties["maker"]), jwks(keys=parties["home"].keys)]
    )
    assert result.trusted is None
    with pytest.raises(SignerNotAuthenticatedError):
        result.require_authenticated()


# -- the full scenario ---------------------------------------------------------------------------
def test_real_scenario_attested_and_trusted(
    real_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transformer of issue 13 (imported database, URN supplier, shipment, a use phase):
    published, packaged, attested by a verifier in its own home and certified with the
    attestation by its published id; the buyer's trust list authenticates both signers.

    Its PACT footprint is the cradle-to-gate part of a cradle-to-grave model: reproducing the
    package makes it again from the recomputed calculation and compares it."""
    import os

    maker_home = Path(os.environ["OPENPCF_HOME"])
    database = os.environ["OPENPCF_DATABASE_URL"]
    ok("keys", "create", "--issuer", "https://transformers.example.com")
    maker_jwks, verifier_jwks = tmp_path / "maker.json", tmp_path / "verifier.json"
    ok("keys", "export-jwks", "-o", str(maker_jwks))
    out = ok("publish", str(real_home), "--json")
    footprint_id = json.loads(out)["id"]
    package = tmp_path / "transformer.zip"
    ok("package", str(real_home), "-o", str(package))

    use_home(monkeypatch, tmp_path / "verifier")
    ok("verifier", "init", "--name", VERIFIER, "--accreditation-id", ACCREDITATION,
       "--accreditation-body", "CNAS")  # fmt: skip
    ok("verifier", "export-jwks", "-o", str(verifier_jwks))
    attestation = tmp_path / "transformer.attestation.jwt"
    out = ok("verifier", "attest", str(package), "-o", str(attestation), "--assurance", "limited",
             "--issuer-jwks", str(maker_jwks))  # fmt: skip
    assert "footprint numbers: identical to the footprint recomputed from the package" in out

    use_home(monkeypatch, maker_home)
    monkeypatch.setenv("OPENPCF_DATABASE_URL", database)
    certificate = tmp_path / "transformer.jwt"
    ok("certificate", "issue", "--footprint-id", footprint_id, "-o", str(certificate),
       "--attestation", str(attestation))  # fmt: skip

    use_home(monkeypatch, tmp_path / "buyer")
    trust_list = tmp_path / "buyer-trust.json"
    TrustList.from_dict(
        {
            "type": "OpenPCFTrustList",
            "version": 1,
            "entries": [
                {"name": "Transformer Works", "role": "issuer",
                 "jwks": json.loads(maker_jwks.read_text())},
                {"name": VERIFIER, "role": "verifier", "accreditationId": ACCREDITATION,
                 "jwks": json.loads(verifier_jwks.read_text())},
            ],
        }
    ).save(trust_list)  # fmt: skip
    code, out = run(
        "certificate", "verify", str(certificate), "--trust-list", str(trust_list),
        "--package", str(package), "--require-attestation", "--json",
    )  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    assert [s["trusted"] for s in report["signatures"]] == [True, True]
