"""Golden files of the CFP study report: the typed data (JSON) and the HTML, in en and zh.

The example is ``examples/lfp_battery_pack.yaml`` (all five stages, parameters, illustrative
factors). Dates, the software version and the hash of the whole bundled factor set (which
changes when unrelated factors are added) are scrubbed; everything else must match byte for
byte. After an intended change, regenerate and review the diff:

    OPENPCF_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report_golden.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from openpcf import __version__
from openpcf.reports import ReportData, build_report_data, render_html, to_dict
from openpcf.reports.sensitivity import analyse
from openpcf.services.calculate import calculate

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("OPENPCF_UPDATE_GOLDEN") == "1"
EXAMPLE = "examples/lfp_battery_pack.yaml"


def scrub(text: str) -> str:
    """Remove what changes without the report changing: dates, versions, the set hash."""
    text = re.sub(r'("generated": ")\d{4}-\d{2}-\d{2}"', r'\1<DATE>"', text)
    text = re.sub(r": \d{4}-\d{2}-\d{2} · ", ": <DATE> · ", text)
    text = re.sub(r"OpenPCF \d+\.\d+\.\d+\S*?(?=[\"<]| )", "OpenPCF <VERSION>", text)
    text = re.sub(r'("label": "openpcf_version",\s*"text": ")[^"]*"', r'\1<VERSION>"', text)
    text = re.sub(r"(openpcf_version</td><td[^>]*>)[^<]*", r"\1<VERSION>", text)
    text = re.sub(r'("label": "factor_set_sha256",\s*"text": ")[0-9a-f]{64}"', r'\1<HASH>"', text)
    return re.sub(r"(factor_set_sha256</td><td[^>]*>)[0-9a-f]{64}", r"\1<HASH>", text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    actual = scrub(actual)
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} is missing; run with OPENPCF_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if the change is intended, regenerate with "
        "OPENPCF_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.fixture(scope="module")
def reports() -> dict[str, ReportData]:
    cwd = Path.cwd()
    os.chdir(ROOT)  # paths in the report ("examples/...:116") are as given, so keep them relative
    try:
        calculation = calculate(EXAMPLE)
        sensitivity = analyse(calculation.compiled, calculation.result.total)
        today = dt.date(2025, 1, 1)
        return {
            lang: build_report_data(calculation, lang=lang, today=today, sensitivity=sensitivity)
            for lang in ("en", "zh")
        }
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_data_golden(reports: dict[str, ReportData], lang: str) -> None:
    text = json.dumps(to_dict(reports[lang]), ensure_ascii=False, indent=1) + "\n"
    check_golden(f"report_lfp_{lang}.json", text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_html_golden(reports: dict[str, ReportData], lang: str) -> None:
    check_golden(f"report_lfp_{lang}.html", render_html(reports[lang]))


def test_scrub_really_scrubs(reports: dict[str, ReportData]) -> None:
    """Another date and version give the same scrubbed text (so the golden files stay put)."""
    data = reports["en"]
    html = render_html(data)
    moved = html.replace(data.generated, "2031-12-31").replace(__version__, "9.9.9")
    assert scrub(moved) == scrub(html)
