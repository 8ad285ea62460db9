"""The issuer's public routes on the PACT host: JWKS and the signed revocation list.

A certificate issued with the installation's key verifies against the JWKS and status list
served by ``openpcf serve``; after revocation the served list makes verification fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fixtures.api_host import Host, serve_host
from fixtures.api_support import example
from openpcf.certify import KeyStore
from openpcf.certify.credential import JWKS_PATH, MEDIA_TYPE
from openpcf.certify.errors import CredentialRevokedError
from openpcf.certify.issue import issue_certificate
from openpcf.certify.revocation import revoke_certificate
from openpcf.certify.status import STATUS_PATH
from openpcf.certify.verify import verify_certificate
from openpcf.settings import get_settings


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


def test_certificate_verifies_against_served_keys_and_status(host: Host) -> None:
    keys = KeyStore(get_settings().keys_dir)
    keys.create(issuer="https://issuer.example")
    footprint = example(1)
    cert = issue_certificate(footprint, keys=keys)

    served_keys = host.http.get(JWKS_PATH)
    assert served_keys.status_code == 200
    assert [k["kid"] for k in served_keys.json()["keys"]]
    assert all("d" not in k for k in served_keys.json()["keys"]), "no private key material"
    served_status = host.http.get(STATUS_PATH)
    assert served_status.status_code == 200
    assert served_status.headers["content-type"].startswith(MEDIA_TYPE)

    ok = verify_certificate(
        cert.token, jwks=served_keys.json(), footprint=footprint, status_list=served_status.text
    )
    assert ok.id == cert.id

    revoke_certificate(cert.id, keys=keys)
    with pytest.raises(CredentialRevokedError):
        verify_certificate(
            cert.token, jwks=served_keys.json(), status_list=host.http.get(STATUS_PATH).text
        )


def test_status_list_without_issuer_key_is_not_found(host: Host) -> None:
    """Before any key exists there is no list to publish: 404, not a server error."""
    answer = host.http.get(STATUS_PATH)
    assert answer.status_code == 404
    assert "no issuer key" in answer.text
