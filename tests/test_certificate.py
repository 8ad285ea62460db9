"""Green certificates: a valid one verifies; every kind of tampering fails with its own reason.

Keys given with the certificate check integrity only: the verdict then says the signer is not
authenticated (see ``tests/test_attestation.py`` for trust anchors and attestations).
"""

from __future__ import annotations

import copy
import datetime as dt
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from typer.testing import CliRunner

from openpcf.certify import (
    Attestation,
    CertificateError,
    CredentialExpiredError,
    CredentialRevokedError,
    DigestMismatchError,
    IssuerMismatchError,
    KeySourceError,
    KeyStore,
    KeyStoreError,
    MalformedCredentialError,
    NotYetValidError,
    SelfDeclaredAssurance,
    SignatureInvalidError,
    StatusListError,
    UnknownKeyError,
    footprint_digest,
    issue_certificate,
    jwks,
    revoke_certificate,
    status_list,
    verify_certificate,
)
from openpcf.certify.jose import b64e, sign_compact
from openpcf.errors import OpenPCFError
from openpcf.exchange.pact import product_footprint
from openpcf.services.calculate import calculate

FIXTURE = Path(__file__).parent / "fixtures" / "two_process.yaml"
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def footprint() -> dict[str, Any]:
    """PACT v3 footprint of the two-process widget: 6.2054 kg CO2e per kg."""
    return product_footprint(calculate(FIXTURE), created=NOW)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    keys = KeyStore(tmp_path / "keys")
    keys.create(issuer="https://pcf.example.com")
    return keys


@pytest.fixture
def cert(store: KeyStore, footprint: dict[str, Any]) -> str:
    attestation = Attestation(verifier_name="Example Verifier", assurance="limited")
    return issue_certificate(footprint, keys=store, attestation=attestation, now=NOW).token


def verify(token: str, store: KeyStore, **kw: Any) -> Any:
    return verify_certificate(token, jwks=jwks(keys=store), now=NOW, **kw)


def test_valid_certificate_verifies(cert: str, store: KeyStore, footprint: dict[str, Any]) -> None:
    result = verify(cert, store, footprint=footprint, status_list=status_list(keys=store, now=NOW))
    s = result.subject
    assert s["productIds"] == ["urn:openpcf:product:widget"]
    assert s["pcfExcludingBiogenicUptake"] == "6.2054"
    assert s["declaredUnit"] == "kilogram"
    assert s["referencePeriod"]["start"] == "2024-01-01T00:00:00Z"
    assert s["footprintDigest"]["value"] == footprint_digest(footprint)
    assert "attestation" not in s  # a name the issuer typed in is no attestation
    assert s["selfDeclaredAssurance"] == {
        "statement": "declared by the certificate's issuer; not signed by the verifier named",
        "source": "issuer",
        "assuranceLevel": "limited",
        "standard": "ISO14064-3",
        "verifier": {"name": "Example Verifier"},
    }
    checks = dict(result.checks)
    assert checks.pop("attestation") == "none: no third-party attestation"
    assert checks.pop("assurance").startswith("self-declared by the issuer: limited assurance")
    assert all(v.startswith("ok") for v in checks.values()), checks
    assert result.issuer == "https://pcf.example.com"
    # the keys came with the certificate: integrity, not origin
    assert result.trusted is None
    assert result.verdict == "signature valid, signer not authenticated (no trust anchor given)"
    [signature] = result.signatures
    assert (signature.credential, signature.trusted) == ("certificate", False)
    assert "proves integrity, not who signed" in signature.why


def test_attestation_is_the_old_name_of_a_self_declared_assurance() -> None:
    assert Attestation is SelfDeclaredAssurance


def test_footprints_own_assurance_is_self_declared(store: KeyStore, footprint: dict) -> None:
    stated = copy.deepcopy(footprint)
    stated["pcf"]["assurance"] = {"assurance": True, "level": "reasonable", "providerName": "X"}
    subject = issue_certificate(stated, keys=store, now=NOW).subject
    assert "attestation" not in subject
    assert subject["selfDeclaredAssurance"]["source"] == "footprint pcf.assurance"
    assert subject["selfDeclaredAssurance"]["verifier"] == {"name": "X"}


def test_header_says_vc_jwt(cert: str) -> None:
    header = json.loads(_b64d(cert.split(".")[0]))
    assert header["typ"] == "vc+jwt"
    assert header["alg"] == "Ed25519"
    payload = json.loads(_b64d(cert.split(".")[1]))
    assert payload["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert payload["credentialStatus"]["type"] == "BitstringStatusListEntry"


def _b64d(s: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _flip(token: str, position: int) -> str:
    c = token[position]
    return token[:position] + ("B" if c == "A" else "A") + token[position + 1 :]


def _positions(token: str) -> dict[str, list[int]]:
    h, p, _ = token.split(".")
    starts = {"header": 0, "payload": len(h) + 1, "signature": len(h) + len(p) + 2}
    ends = {"header": len(h), "payload": len(h) + 1 + len(p), "signature": len(token)}
    return {
        part: [starts[part], (starts[part] + ends[part]) // 2, ends[part] - 1] for part in starts
    }


EXPECTED = {
    "header": (MalformedCredentialError, UnknownKeyError, SignatureInvalidError),
    "payload": (SignatureInvalidError,),
    "signature": (SignatureInvalidError,),
}


@pytest.mark.parametrize("part", ["header", "payload", "signature"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_changed_byte_fails_with_a_specific_reason(
    cert: str, store: KeyStore, part: str, where: str
) -> None:
    position = _positions(cert)[part][["first", "middle", "last"].index(where)]
    with pytest.raises(EXPECTED[part]) as info:
        verify(_flip(cert, position), store)
    assert type(info.value) is not CertificateError
    assert info.value.check in {"format", "key", "signature"}


def test_every_single_character_change_is_caught(cert: str, store: KeyStore) -> None:
    """Exhaustive: no position of the token can change without a failed check."""
    keys = jwks(keys=store)
    for position, c in enumerate(cert):
        if c == ".":
            continue
        with pytest.raises(CertificateError):
            verify_certificate(_flip(cert, position), jwks=keys, now=NOW)


def test_changed_footprint_fails_digest(cert: str, store: KeyStore, footprint: dict) -> None:
    changed = copy.deepcopy(footprint)
    changed["pcf"]["pcfExcludingBiogenicUptake"] = "6.2055"
    with pytest.raises(DigestMismatchError, match="changed or is another footprint"):
        verify(cert, store, footprint=changed)


def test_footprint_whitespace_and_key_order_do_not_matter(
    cert: str, store: KeyStore, footprint: dict
) -> None:
    """RFC 8785: the digest is over the canonical JSON, not the file's bytes."""
    reordered = json.loads(json.dumps(dict(reversed(list(footprint.items()))), indent=4))
    assert verify(cert, store, footprint=reordered)


def test_another_key_fails(cert: str, tmp_path: Path) -> None:
    other = KeyStore(tmp_path / "other")
    other.create()
    with pytest.raises(UnknownKeyError, match="not among the public keys given"):
        verify(cert, other)


def test_no_keys_at_all_is_a_clear_error(cert: str) -> None:
    with pytest.raises(KeySourceError, match="give a trust anchor"):
        verify_certificate(cert, now=NOW)


def test_forged_signature_under_the_issuers_kid_fails(
    store: KeyStore, footprint: dict, tmp_path: Path
) -> None:
    other = KeyStore(tmp_path / "forger")
    other.create()
    _, forger_key = other.signing_key()
    header = {"alg": "Ed25519", "kid": store.active().kid, "typ": "vc+jwt"}
    genuine = issue_certificate(footprint, keys=store, now=NOW).token
    payload = _b64d(genuine.split(".")[1])
    forged = sign_compact(header, payload, forger_key)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        verify(forged, store)


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256"])
def test_algorithm_confusion_fails(cert: str, store: KeyStore, alg: str) -> None:
    h, p, s = cert.split(".")
    header = json.loads(_b64d(h)) | {"alg": alg}
    token = f"{b64e(json.dumps(header).encode())}.{p}.{s}"
    with pytest.raises(SignatureInvalidError, match="not allowed"):
        verify(token, store)


def test_expired_and_not_yet_valid(store: KeyStore, footprint: dict) -> None:
    token = issue_certificate(footprint, keys=store, now=NOW, valid_for=dt.timedelta(days=30)).token
    with pytest.raises(CredentialExpiredError, match="expired on 2025-03-31"):
        verify_certificate(token, jwks=jwks(keys=store), now=NOW + dt.timedelta(days=31))
    with pytest.raises(NotYetValidError):
        verify_certificate(token, jwks=jwks(keys=store), now=NOW - dt.timedelta(days=1))


def test_revoked_credential_fails(store: KeyStore, footprint: dict) -> None:
    issued = issue_certificate(footprint, keys=store, now=NOW)
    keep = issue_certificate(footprint, keys=store, now=NOW)
    revoke_certificate(issued.id, keys=store)
    published = status_list(keys=store, now=NOW)
    with pytest.raises(CredentialRevokedError, match=f"bit {issued.status_index} .* is set"):
        verify(issued.token, store, status_list=published)
    with pytest.raises(CredentialRevokedError, match="local issuer registry"):
        verify_certificate(issued.token, keys=store, now=NOW)
    assert verify(keep.token, store, status_list=published)


def test_status_list_from_another_issuer_is_refused(
    cert: str, store: KeyStore, tmp_path: Path
) -> None:
    other = KeyStore(tmp_path / "other")
    other.create(issuer="https://pcf.example.com")
    with pytest.raises(StatusListError, match="cannot be trusted"):
        verify(cert, store, status_list=status_list(keys=other, now=NOW))


def test_stale_status_list_is_refused(cert: str, store: KeyStore) -> None:
    old = status_list(keys=store, now=NOW - dt.timedelta(days=3))
    with pytest.raises(StatusListError, match="expired"):
        verify(cert, store, status_list=old)


def test_revocation_not_checked_is_said(cert: str, store: KeyStore) -> None:
    checks = dict(verify(cert, store).checks)
    assert checks["revocation"].startswith("not checked")
    assert checks["digest"].startswith("not checked")


def test_rotation_keeps_old_certificates_valid(store: KeyStore, footprint: dict) -> None:
    before = issue_certificate(footprint, keys=store, now=NOW)
    old, new = store.rotate()
    after = issue_certificate(footprint, keys=store, now=NOW)
    assert (old.status, new.status) == ("retired", "active")
    assert before.kid == old.kid
    assert after.kid == new.kid
    published = jwks(keys=store)
    assert [k["kid"] for k in published["keys"]] == [new.kid, old.kid]
    assert all("d" not in k for k in published["keys"])
    for token in (before.token, after.token):
        assert verify_certificate(token, jwks=published, now=NOW)


def test_create_twice_is_refused(store: KeyStore) -> None:
    with pytest.raises(KeyStoreError, match="rotate"):
        store.create()


def test_no_key_is_a_clear_error(tmp_path: Path, footprint: dict) -> None:
    with pytest.raises(KeyStoreError, match="openpcf keys create"):
        issue_certificate(footprint, keys=KeyStore(tmp_path / "none"))


def test_es256_keys(tmp_path: Path, footprint: dict) -> None:
    keys = KeyStore(tmp_path / "ec")
    keys.create(alg="ES256")
    token = issue_certificate(footprint, keys=keys, now=NOW).token
    assert json.loads(_b64d(token.split(".")[0]))["alg"] == "ES256"
    assert verify_certificate(token, jwks=jwks(keys=keys), footprint=footprint, now=NOW)


def test_private_key_file_is_owner_only(store: KeyStore) -> None:
    path = store.folder / f"{store.active().kid}.private.jwk"
    assert path.stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------------------------
# online verification against a local issuer


class _Issuer(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@dataclass
class Server:
    url: str
    routes: dict[str, bytes]
    ca_file: Path  # the development certificate the server presents (its own CA)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """An issuer over HTTPS on loopback, with the development certificate of
    ``tests/test_api_https.py`` (``dev_certificate``), trusted through ``ca_file`` only."""
    from openpcf.services.pact.tls import dev_certificate

    tls = dev_certificate(tmp_path / "tls")
    routes: dict[str, bytes] = {}
    handler = type("Handler", (_Issuer,), {"routes": routes})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"https://127.0.0.1:{httpd.server_address[1]}", routes, tls.cert)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_online_verification(tmp_path: Path, footprint: dict, server: Server) -> None:
    keys = KeyStore(tmp_path / "keys")
    keys.create(issuer=server.url)
    issued = issue_certificate(footprint, keys=keys, now=NOW)
    server.routes["/.well-known/jwks.json"] = json.dumps(jwks(keys=keys)).encode()
    server.routes["/credentials/status/1"] = status_list(keys=keys, now=NOW).encode()
    result = verify_certificate(
        issued.token, issuer_url=server.url, ca_file=server.ca_file, footprint=footprint, now=NOW
    )
    checks = dict(result.checks)
    assert checks["key"].endswith("/.well-known/jwks.json")
    assert checks["revocation"].startswith("ok: not revoked")
    # keys fetched over TLS from the issuer's own URL are a trust anchor
    assert result.trusted is True
    [signature] = result.signatures
    assert "fetched over HTTPS" in signature.why
    assert str(server.ca_file) in signature.why

    revoke_certificate(issued.id, keys=keys)
    server.routes["/credentials/status/1"] = status_list(keys=keys, now=NOW).encode()
    with pytest.raises(CredentialRevokedError):
        verify_certificate(issued.token, issuer_url=server.url, ca_file=server.ca_file, now=NOW)


def test_online_without_the_private_ca_fails_tls(cert: str, server: Server) -> None:
    """The development certificate is signed by no public CA: without --ca-file, no keys."""
    with pytest.raises(KeySourceError, match="cannot be fetched"):
        verify_certificate(cert, issuer_url=server.url, now=NOW)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "ftp://pcf.example.com", "pcf.example.com"])
def test_online_only_over_https(cert: str, url: str) -> None:
    with pytest.raises(KeySourceError, match=r"not an https:// URL"):
        verify_certificate(cert, issuer_url=url, now=NOW)


def test_online_issuer_mismatch(store: KeyStore, cert: str, server: Server) -> None:
    server.routes["/.well-known/jwks.json"] = json.dumps(jwks(keys=store)).encode()
    with pytest.raises(IssuerMismatchError, match=r"https://pcf\.example\.com"):
        verify_certificate(cert, issuer_url=server.url, ca_file=server.ca_file, now=NOW)


def test_online_jwks_unreachable(cert: str, server: Server) -> None:
    with pytest.raises(KeySourceError, match="cannot be fetched"):
        verify_certificate(cert, issuer_url=server.url, ca_file=server.ca_file, now=NOW)


def test_online_missing_ca_file(cert: str, server: Server, tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="CA file"):
        verify_certificate(cert, issuer_url=server.url, ca_file=tmp_path / "none.pem", now=NOW)


# --------------------------------------------------------------------------------------------
# command line


def cli_app() -> typer.Typer:
    """The commands as src/openpcf/cli/main.py registers them."""
    from openpcf.cli.main import app

    return app


def run(*args: str) -> tuple[int, str]:
    """Invoke like ``openpcf``: an OpenPCFError becomes its exit code and message."""
    result = CliRunner().invoke(cli_app(), list(args))
    if isinstance(result.exception, OpenPCFError):
        return result.exception.exit_code, result.output + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_cli_issue_verify_revoke(home: Path, tmp_path: Path) -> None:
    code, out = run("keys", "create", "--issuer", "https://pcf.example.com")
    assert code == 0, out
    code, out = run("keys", "list")
    assert "active" in out
    jwks_file = tmp_path / "jwks.json"
    assert run("keys", "export-jwks", "-o", str(jwks_file))[0] == 0
    cert_file = tmp_path / "widget.jwt"
    code, out = run(
        "certificate", "issue", str(FIXTURE), "-o", str(cert_file),
        "--verifier-name", "Example Verifier", "--assurance", "reasonable",
    )  # fmt: skip
    assert code == 0, out
    fp_file = tmp_path / "widget.pact.json"
    assert fp_file.exists()
    code, out = run(
        "certificate", "verify", str(cert_file), "--jwks", str(jwks_file),
        "--footprint", str(fp_file),
    )  # fmt: skip
    assert code == 0, out  # the issuer's own key store is a trust anchor
    assert "valid certificate" in out
    assert "6.2054 kg CO2e" in out
    assert "self-declared by the issuer: reasonable assurance" in out
    assert "this installation's own issuer key store" in out
    assert "verdict: signatures valid, every signer trusted" in out

    tampered = tmp_path / "tampered.jwt"
    token = cert_file.read_text().strip()
    tampered.write_text(_flip(token, len(token) - 10))
    code, out = run("certificate", "verify", str(tampered), "--jwks", str(jwks_file))
    assert code == SignatureInvalidError.exit_code, out
    assert "signature check failed" in out

    other = json.loads(fp_file.read_text())
    other["pcf"]["pcfExcludingBiogenicUptake"] = "1"
    (tmp_path / "other.json").write_text(json.dumps(other))
    code, out = run(
        "certificate", "verify", str(cert_file), "--jwks", str(jwks_file),
        "--footprint", str(tmp_path / "other.json"),
    )  # fmt: skip
    assert code == DigestMismatchError.exit_code, out
    assert "digest check failed" in out

    cert_id = json.loads(_b64d(token.split(".")[1]))["id"]
    assert run("certificate", "revoke", cert_id)[0] == 0
    status_file = tmp_path / "status.jwt"
    assert run("certificate", "status-list", "-o", str(status_file))[0] == 0
    code, out = run(
        "certificate", "verify", str(cert_file), "--jwks", str(jwks_file),
        "--status-list", str(status_file), "--json",
    )  # fmt: skip
    assert code == CredentialRevokedError.exit_code, out
    assert '"check": "revocation"' in out

    code, out = run("keys", "rotate")
    assert code == 0
    assert "retired" in out


def test_token_signed_eddsa_by_another_tool_verifies(
    cert: str, store: KeyStore, footprint: dict[str, Any]
) -> None:
    """Issue 11, item 13: docs/certificates.md promises that the older ``EdDSA`` name (RFC
    8037, what most JOSE libraries still write for Ed25519) verifies; so it must."""
    import warnings

    _, key = store.signing_key()
    header = json.loads(_b64d(cert.split(".")[0])) | {"alg": "EdDSA"}
    payload = _b64d(cert.split(".")[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc calls EdDSA deprecated (RFC 9864)
        token = sign_compact(header, payload, key)
    result = verify(token, store, footprint=footprint)
    assert dict(result.checks)["signature"].startswith("ok")
