"""(being written) HTTP routes; see the module's final docstring."""

from __future__ import annotations

from fastapi import APIRouter

from openpcf.api.schemas import PACT_ERRORS

router = APIRouter(responses=PACT_ERRORS)
