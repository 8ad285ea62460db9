"""The error root: located() prefixes the place and keeps the class and attributes."""

from __future__ import annotations

import pytest

from openpcf.audit.errors import TrailTamperedError
from openpcf.certify.errors import CredentialRevokedError
from openpcf.errors import InputError, OpenPCFError, UnknownFactorError, located
from openpcf.exchange.errors import OAuthError


def test_located_prefixes_the_message_and_keeps_the_class() -> None:
    error = UnknownFactorError("no factor 'steel'")
    moved = located(error, "model.yaml:12")
    assert type(moved) is UnknownFactorError
    assert str(moved) == "model.yaml:12: no factor 'steel'"
    assert isinstance(moved, InputError)
    assert isinstance(moved, LookupError)
    assert moved.exit_code == 2
    assert str(error) == "no factor 'steel'"  # the original is unchanged


def test_located_keeps_class_attributes_of_certificate_errors() -> None:
    moved = located(CredentialRevokedError("revoked on 2026-01-02"), "cert.jwt")
    assert type(moved) is CredentialRevokedError
    assert (moved.exit_code, moved.check) == (16, "revocation")
    assert str(moved) == "cert.jwt: revoked on 2026-01-02"


def test_located_keeps_instance_attributes_of_errors_with_their_own_constructor() -> None:
    tampered = located(
        TrailTamperedError("record 3 was edited", record=3, reason="hash differs"), "trail"
    )
    assert (tampered.record, tampered.reason, tampered.exit_code) == (3, "hash differs", 21)
    assert str(tampered) == "trail: record 3 was edited"
    oauth = located(OAuthError("invalid_client", "unknown client", status=401), "token")
    assert (oauth.error, oauth.status) == ("invalid_client", 401)
    assert str(oauth) == "token: unknown client"


def test_located_nests_and_raises_without_the_original_traceback() -> None:
    class CustomError(OpenPCFError):
        exit_code = 7

    def fail() -> None:
        try:
            try:
                raise CustomError("bad value")
            except CustomError as e:
                raise located(e, "processes[2]") from None
        except CustomError as e:
            raise located(e, "model.yaml:5") from None

    with pytest.raises(CustomError, match=r"^model\.yaml:5: processes\[2\]: bad value$") as info:
        fail()
    assert info.value.exit_code == 7
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
