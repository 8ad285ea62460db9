"""The verifiers' pages: public certificate verification (/verify) and packages (/packages).

Certificates are issued here with a key store in the web app's home (``home/keys``: the
host's own issuer keys, an anchor) or outside it (another issuer: not an anchor). The page
must show every check, in the order the library runs them, with its verdict.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from fixtures.web import csrf_token
from openpcf.certify import KeyStore, issue_certificate
from openpcf.db.base import utcnow
from openpcf.exchange.pact import product_footprint
from openpcf.services.calculate import calculate
from openpcf.web import pages_verify
from openpcf.web.auth import WebUser

ROOT = Path(__file__).parents[1]
WIDGET = ROOT / "tests/fixtures/two_process.yaml"

MakeUser = Callable[..., WebUser]
Login = Callable[..., httpx.Response]
_ROW = re.compile(r'data-check="([a-z]+)" data-state="([a-z_]+)"')


@pytest.fixture
def web_clock() -> Callable[[], dt.datetime]:
    """The public page checks at the real time, as it does when served: the certificates of
    these tests are issued after the app is made, so a clock frozen then (the fixtures' default)
    could read a moment before a certificate's ``nbf`` (issued in the next second)."""
    return utcnow


@pytest.fixture(scope="module")
def footprint() -> dict[str, Any]:
    return product_footprint(calculate(WIDGET))


@pytest.fixture
def host_keys(tmp_path: Path) -> KeyStore:
    """The host's own issuer key store (``home/keys`` of ``web_app``)."""
    store = KeyStore(tmp_path / "home" / "keys")
    store.create(issuer="https://pcf.example.com")
    return store


@pytest.fixture
def other_keys(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "elsewhere" / "keys")
    store.create(issuer="https://other.example.org")
    return store


def rows(html: str) -> dict[str, str]:
    """check -> state of the result table."""
    return dict(_ROW.findall(html))


def post_verify(client: TestClient, **fields: str | bytes) -> httpx.Response:
    """Post the verification form: ``certificate=`` is pasted, ``*_file=`` are uploaded."""
    page = client.get("/verify")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text)}
    files: dict[str, tuple[str, bytes, str]] = {}
    for name, value in fields.items():
        if name.endswith("_file"):
            raw = value if isinstance(value, bytes) else value.encode()
            files[name] = (f"{name}.json", raw, "application/json")
        else:
            data[f"{name}_text"] = value if isinstance(value, str) else value.decode()
    if not files:  # the form is multipart/form-data even without files
        files["jwks_file"] = ("", b"", "application/octet-stream")
    return client.post("/verify", data=data, files=files)


def flip(token: str, position: int) -> str:
    c = token[position]
    return token[:position] + ("B" if c == "A" else "A") + token[position + 1 :]


# --------------------------------------------------------------------------------------------
# /verify


def test_page_is_public_and_needs_no_script(web_app: TestClient) -> None:
    page = web_app.get("/verify")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'action="/verify"' in page.text
    assert "hx-post" not in page.text  # a plain form: works without JavaScript


def test_certificate_of_this_host_passes_every_check(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=host_keys).token
    answer = post_verify(web_app, certificate=cert, footprint=json.dumps(footprint))
    assert answer.status_code == 200, answer.text
    found = rows(answer.text)
    assert found.pop("attestation") == "not_checked"  # none embedded: said, not failed
    assert found == dict.fromkeys(
        ("format", "key", "signature", "issuer", "validity", "digest", "revocation", "trust"),
        "passed",
    )
    assert 'data-outcome="trusted"' in answer.text
    assert "local issuer registry" in answer.text  # revocation from the host's own registry
    assert "6.2054" in answer.text
    assert "urn:openpcf:product:widget" in answer.text


def test_without_the_footprint_the_digest_is_not_checked(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=host_keys).token
    answer = post_verify(web_app, certificate=cert)
    assert answer.status_code == 200
    assert rows(answer.text)["digest"] == "not_checked"
    assert "no footprint JSON given" in answer.text


def test_changed_footprint_fails_the_digest(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=host_keys).token
    changed = json.loads(json.dumps(footprint))
    changed["pcf"]["pcfExcludingBiogenicUptake"] = "1.0"
    answer = post_verify(web_app, certificate=cert, footprint_file=json.dumps(changed))
    found = rows(answer.text)
    assert found["digest"] == "failed"
    assert found["signature"] == "passed"
    assert found["revocation"] == "not_checked"
    assert 'data-outcome="failed"' in answer.text


def test_tampered_certificate_fails_the_signature_check(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=host_keys).token
    header, payload, _ = cert.split(".")
    tampered = flip(cert, len(header) + 1 + len(payload) // 2)  # one byte of the payload
    answer = post_verify(web_app, certificate=tampered)
    assert answer.status_code == 200
    found = rows(answer.text)
    assert found["format"] == "passed"
    assert found["key"] == "passed"
    assert found["signature"] == "failed"
    assert {found[n] for n in ("issuer", "validity", "digest", "trust")} == {"not_checked"}
    assert 'data-outcome="failed"' in answer.text
    assert "NOT valid" in answer.text
    assert "Traceback" not in answer.text


def test_untrusted_issuer_is_signature_valid_signer_not_trusted(
    web_app: TestClient, host_keys: KeyStore, other_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=other_keys).token
    answer = post_verify(web_app, certificate=cert, jwks_file=json.dumps(other_keys.jwks()))
    assert answer.status_code == 200
    found = rows(answer.text)
    assert found["signature"] == "passed"
    assert found["trust"] == "failed"
    assert found["validity"] == "passed"  # the other checks still ran (integrity only)
    assert 'data-outcome="untrusted"' in answer.text
    assert "Signature valid, signer not trusted" in answer.text
    assert "NOT trusted" in answer.text


def test_untrusted_issuer_without_its_keys_fails_the_key_check(
    web_app: TestClient, host_keys: KeyStore, other_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=other_keys).token
    answer = post_verify(web_app, certificate=cert)
    found = rows(answer.text)
    assert found["key"] == "failed"
    assert found["signature"] == "not_checked"
    assert 'data-outcome="failed"' in answer.text


def test_a_trust_list_given_makes_the_issuer_trusted(
    web_app: TestClient, other_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=other_keys).token
    trust_list = {
        "type": "OpenPCFTrustList",
        "version": 1,
        "entries": [
            {
                "name": "Other issuer",
                "role": "issuer",
                "issuer": "https://other.example.org",
                "jwks": other_keys.jwks(),
            }
        ],
    }
    answer = post_verify(web_app, certificate=cert, trust_list_file=json.dumps(trust_list))
    if answer.status_code == 400:  # the trust list's own format, shown as a field error
        pytest.fail(re.sub(r"\s+", " ", answer.text)[-2000:])
    assert rows(answer.text)["trust"] == "passed"
    assert 'data-outcome="trusted"' in answer.text


def test_no_anchor_and_no_keys_is_a_clear_key_failure(
    web_app: TestClient, other_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    cert = issue_certificate(footprint, keys=other_keys).token
    answer = post_verify(web_app, certificate=cert)
    assert rows(answer.text)["key"] == "failed"
    # with the keys that came with it: integrity only, signer not authenticated
    answer = post_verify(web_app, certificate=cert, jwks_file=json.dumps(other_keys.jwks()))
    assert 'data-outcome="unauthenticated"' in answer.text
    assert rows(answer.text)["trust"] == "not_checked"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"certificate": "not a certificate"}, "Not a certificate"),
        ({"certificate": "a.b"}, "Not a certificate"),
        ({"certificate": "x" * (64 * 1024 + 10)}, "Too large: at most 64 KiB"),
        ({"certificate": ""}, "This field is required"),
        ({"certificate": "a.b.c", "footprint": "{not json"}, "Not valid JSON"),
        ({"certificate": "a.b.c", "footprint": "[1, 2]"}, "Not a JSON object"),
        ({"certificate": "a.b.c", "jwks_file": "{}"}, "Not a JWKS"),
        ({"certificate": "a.b.c", "trust_list_file": '{"type": "x"}'}, "Not a usable trust"),
    ],
)
def test_bad_input_is_a_field_error(
    web_app: TestClient, fields: dict[str, str], message: str
) -> None:
    answer = post_verify(web_app, **fields)
    assert answer.status_code == 400
    assert message in answer.text
    assert 'class="field-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "Traceback" not in answer.text
    if fields.get("footprint"):  # what was pasted stays in the form
        assert fields["footprint"].replace('"', "&#34;") in answer.text


def test_malformed_token_with_three_parts_fails_the_format_check(web_app: TestClient) -> None:
    answer = post_verify(web_app, certificate="abc.def.ghi")
    assert answer.status_code == 200
    assert rows(answer.text)["format"] == "failed"


def test_body_over_the_cap_is_refused_before_reading(web_app: TestClient) -> None:
    page = web_app.get("/verify")
    big = b"x" * (pages_verify.MAX_VERIFY_BODY + 1)
    answer = web_app.post(
        "/verify",
        data={"csrf_token": csrf_token(page.text)},
        files={"footprint_file": ("f.json", big, "application/json")},
    )
    assert answer.status_code == 413


def test_verify_needs_the_csrf_token(web_app: TestClient) -> None:
    web_app.get("/verify")
    answer = web_app.post("/verify", data={"certificate_text": "a.b.c"})
    assert answer.status_code == 403


def test_verify_is_rate_limited_per_address(
    web_app: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_verify, "VERIFY_RATE", "2/minute")
    assert post_verify(web_app, certificate="abc.def.ghi").status_code == 200
    assert post_verify(web_app, certificate="abc.def.ghi").status_code == 200
    answer = post_verify(web_app, certificate="abc.def.ghi")
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) >= 1
    assert "Too many checks" in answer.text


def test_verify_page_in_chinese(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any]
) -> None:
    web_app.cookies.set("openpcf_lang", "zh")
    cert = issue_certificate(footprint, keys=host_keys).token
    answer = post_verify(web_app, certificate=cert)
    assert '<html lang="zh-CN">' in answer.text
    assert "验证证书" in answer.text
    assert "通过" in answer.text


# --------------------------------------------------------------------------------------------
# /packages


@pytest.fixture
def verifier(web_app: TestClient, engine: Any, make_user: MakeUser, login: Login) -> TestClient:
    make_user(engine, organisation="Audit Co", email="vera@audit.example", role="verifier")
    assert login(web_app, "vera@audit.example").status_code == 303
    return web_app


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from openpcf.services.packaging import build_package
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "builder"))
    get_settings.cache_clear()
    try:
        keys = KeyStore(tmp_path / "builder" / "keys")
        keys.create(issuer="https://pcf.example.com")
        out = tmp_path / "widget.zip"
        build_package(WIDGET, output=out, keys=keys)
    finally:
        get_settings.cache_clear()
    return out


def post_package(client: TestClient, name: str, data: bytes) -> httpx.Response:
    page = client.get("/packages")
    assert page.status_code == 200
    return client.post(
        "/packages",
        data={"csrf_token": csrf_token(page.text)},
        files={"package": (name, data, "application/zip")},
    )


def test_verifier_navigation_links_both_pages(verifier: TestClient) -> None:
    page = verifier.get("/packages")
    assert 'href="/packages"' in page.text
    assert 'href="/verify"' in page.text


def test_package_reproduces_identical(verifier: TestClient, package: Path) -> None:
    answer = post_package(verifier, "widget.zip", package.read_bytes())
    assert answer.status_code == 200, answer.text
    assert 'data-identical="true"' in answer.text
    assert "Reproduced, identical result" in answer.text
    with zipfile.ZipFile(package) as z:
        manifest = json.loads(z.read("manifest.json"))
    for name, digest in manifest["files"].items():
        assert name in answer.text
        assert digest in answer.text
    assert "signer not authenticated" in answer.text  # the package's own keys: integrity only


def test_changed_package_is_not_identical(
    verifier: TestClient, package: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(package) as z:
        contents = {n: z.read(n) for n in z.namelist()}
    result = json.loads(contents["result.json"])
    result["kg_co2e"] = 1.0
    contents["result.json"] = json.dumps(result).encode()
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w") as z:
        for name, data in contents.items():
            z.writestr(name, data)
    answer = post_package(verifier, "changed.zip", changed.read_bytes())
    assert answer.status_code == 200
    assert 'data-identical="false"' in answer.text
    assert "result.json" in answer.text  # the problem names the changed file
    assert "/tmp" not in answer.text


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.zip", b"PK\x03\x04" + b"\x00garbage" * 50, "Not a verification package"),
        ("notes.txt", b"hello", "Not a verification package"),
        ("empty.zip", b"PK\x05\x06" + b"\x00" * 18, "cannot be reproduced"),
    ],
)
def test_bad_package_is_a_clear_error(
    verifier: TestClient, name: str, data: bytes, message: str
) -> None:
    answer = post_package(verifier, name, data)
    assert answer.status_code == 400
    assert message in answer.text
    assert 'class="field-error"' in answer.text
    assert "Traceback" not in answer.text
    assert "openpcf-web-package-" not in answer.text


def test_truncated_package_is_a_clear_error(verifier: TestClient, package: Path) -> None:
    raw = package.read_bytes()
    answer = post_package(verifier, "widget.zip", raw[: len(raw) // 2])
    assert answer.status_code == 400
    assert 'class="field-error"' in answer.text


def test_packages_need_the_csrf_token(verifier: TestClient, package: Path) -> None:
    answer = verifier.post(
        "/packages", files={"package": ("widget.zip", package.read_bytes(), "application/zip")}
    )
    assert answer.status_code == 403
    assert "security token" in answer.text


@pytest.mark.parametrize("role", ["owner", "engineer", "supplier"])
def test_other_roles_get_403_on_packages(
    web_app: TestClient, engine: Any, make_user: MakeUser, login: Login, role: str
) -> None:
    make_user(engine, organisation="Acme", email=f"{role}@acme.example", role=role)
    assert login(web_app, f"{role}@acme.example").status_code == 303
    assert web_app.get("/packages").status_code == 403
    token = csrf_token(web_app.get("/verify").text)
    answer = web_app.post(
        "/packages",
        data={"csrf_token": token},
        files={"package": ("x.zip", b"PK\x05\x06" + b"\x00" * 18, "application/zip")},
    )
    assert answer.status_code == 403


def test_packages_need_sign_in(web_app: TestClient) -> None:
    answer = web_app.get("/packages")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_no_server_path_is_shown(
    web_app: TestClient, host_keys: KeyStore, footprint: dict[str, Any], tmp_path: Path
) -> None:
    cert = issue_certificate(footprint, keys=host_keys).token
    for token in (cert, flip(cert, len(cert) - 3)):
        answer = post_verify(web_app, certificate=token)
        assert str(tmp_path) not in answer.text
        assert "$OPENPCF_HOME/keys" in answer.text  # the anchor, named without the path


def test_oversized_key_files_are_field_errors(web_app: TestClient) -> None:
    big = json.dumps({"keys": [], "pad": "x" * (256 * 1024)})
    answer = post_verify(web_app, certificate="a.b.c", jwks_file=big, trust_list_file=big)
    assert answer.status_code == 400
    assert answer.text.count("Too large: at most 256 KiB") == 2
