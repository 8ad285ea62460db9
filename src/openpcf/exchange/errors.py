"""Errors of the PACT host and client, part of the one error tree rooted at ``OpenPCFError``.

Each class names a condition; the API edge (:mod:`openpcf.api.errors`) maps the class to an
HTTP status and a PACT error code once, per API version (v2.3 and v3 differ for
``NotFound``/``NoSuchFootprint`` and for ``NotImplemented``'s status).
"""

from __future__ import annotations

from openpcf.errors import InputError, OpenPCFError


class PactAuthError(OpenPCFError, PermissionError):
    """A request is not authenticated: no, malformed, forged or revoked access token."""


class InvalidTokenError(PactAuthError):
    """The bearer token is missing, malformed, not signed by this host or its client is gone."""


class TokenExpiredError(PactAuthError):
    """The bearer token was valid but has expired: get a new one at the token endpoint."""


class AccessDeniedError(OpenPCFError, PermissionError):
    """The token is valid but lacks the scope the action needs (``footprint:list``/``:read``)."""


class OAuthError(OpenPCFError, PermissionError):
    """The token endpoint refuses a request; ``error`` is the RFC 6749 §5.2 error code."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class BadRequestError(InputError):
    """The request is malformed: JSON, content type, size, parameters or event envelope."""


class PayloadTooLargeError(BadRequestError):
    """The request body is larger than the host accepts."""


class UnsupportedRequestError(OpenPCFError, NotImplementedError):
    """The request asks for something this host does not implement (PACT ``NotImplemented``)."""


class PactRemoteError(OpenPCFError, ConnectionError):
    """Another PACT host could not be reached or answered with an error (client side)."""


class PactSchemaError(InputError):
    """A document received from another PACT host does not follow the PACT schema."""


class SupplierFootprintError(InputError):
    """A supplier's PACT footprint cannot be read or used; the message names file and field."""


class FootprintDocumentError(InputError):
    """A PACT document lacks what storage needs (id, productIds, reference period, ...)."""


class UnsolicitedAnswerError(BadRequestError):
    """A Fulfilled or Rejected event answers no request this host sent, or one answered already.

    Answers are accepted only for requests this host recorded when it sent them (PACT: a data
    recipient acts on the answer to *its* request), so an event naming an unknown
    ``requestEventId`` is refused (400 BadRequest) and nothing of it is stored.
    """


class AnswerForbiddenError(AccessDeniedError):
    """The authenticated client is not the peer the answered request was sent to (403)."""


class FootprintConflictError(SupplierFootprintError):
    """A supplier footprint arrives under the id of one already held, with different content.

    PACT footprints are immutable (v3 ADR-41): a changed footprint is a new id naming the old
    one in ``precedingPfIds``. Replacing the stored one would let whoever sends the second copy
    rewrite data that calculations already used, so it is refused and reported instead.
    """


class PactBoundaryError(InputError):
    """A PACT document was asked for a boundary PACT cannot carry (e.g. a cradle-to-grave
    model with ``--pact-boundary model``); the message offers the cradle-to-gate part."""


class IllustrativeFactorsError(InputError):
    """A footprint to publish or certify uses illustrative (placeholder) factor rows and the
    caller did not allow it (``--allow-illustrative``)."""


class ScenarioChoiceError(InputError):
    """``publish`` with changed parameters but no choice between storing a scenario
    (``--scenario NAME``) and replacing the live footprint (``--replace-live``)."""
