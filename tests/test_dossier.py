"""The export compliance dossier: catalogue, statuses, gaps, exports, CLI and HTTP.

Hand-worked dossiers, as of 2026-06-30 with the default 90-day window (expiring: expiry on or
before 2026-09-28), from the bundled catalogue:

Heavy truck ``TRK-FCEV-49`` (CN 8704 60, class ``truck.heavy-duty.fcev``) to the EU. CBAM
entries: 8704 is not a CBAM good; battery declaration: CN 8507 only; EPD and construction
products: not 8704; GB/T 24067: CN market; carbon neutrality: conditional, no evidence. So six
rows, in catalogue order:

==============================  ==========================================  ========
requirement                     evidence                                    status
==============================  ==========================================  ========
global.buyer.iso14067-pact      issued 2023-01-15, 36 months -> 2026-01-15  expired
eu.type-approval.r134           certificate 2024-03-01, until changed       held
eu.type-approval.r100           certificate 2024-03-01, until changed       held
global.buyer.iso26262           none                                        missing
global.iso17025.test-reports    2025-09-01, expires 2026-08-31 (62 days)    expiring
global.iso14064-3.verification  none                                        missing
==============================  ==========================================  ========

Hot-rolled coil ``HRC-Q235`` (CN 7208 39 00, ``steel.hot-rolled-coil``) to the EU. The CBAM
communication ended 2025-12-31; the CPR declaration does not list 7208. Five rows:

==============================  ==========================================  ========
eu.cbam.verified-emissions      none (required from 2026-01-01)             missing
global.buyer.iso14067-pact      issued 2026-02-01 -> 2029-02-01             held
eu.epd.en15804                  2021-05-01, expires 2026-04-30              expired
global.iso17025.test-reports    2026-05-01, expires 2027-04-30              held
global.iso14064-3.verification  none                                        missing
==============================  ==========================================  ========

Gaps (EU), by the rule of :func:`openpcf.suppliers.dossier.rank_gaps`: the truck has 3 gaps
in force (pact expired, 26262 and 14064-3 missing) and its next date is the 17025 expiry
2026-08-31; the coil has 3 in force (CBAM missing, EPD expired, 14064-3 missing) and no next
date; the battery ``BAT-LFP`` (CN 8507 60, ``battery.traction``) holds every in-force
document and misses only the battery declaration, whose date is pending: 0 in force, no date.
So: truck (3, 2026-08-31), coil (3, none), battery (0, none).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fixtures.api_host import Host, serve_host
from fixtures.in_process import openpcf
from openpcf.db import repositories as repo
from openpcf.db.engine import session_scope
from openpcf.errors import InputError
from openpcf.services import dossier as svc
from openpcf.settings import get_settings
from openpcf.suppliers.dossier import (
    CatalogueError,
    bundled_catalogue,
    dossier_rows,
    load_catalogue,
)

ON = dt.date(2026, 6, 30)
ORG = "Exporter Co"


def _add(engine: Engine, sku: str, name: str, cn: str, rules: str) -> None:
    fields = svc.sku_fields(sku=sku, name=name, cn=cn, rules=rules)
    assert svc.add_sku(engine, organisation=ORG, fields=fields)


def _evidence(
    engine: Engine, sku: str, req: str, content: bytes, issued: str, expires: str | None = None
) -> svc.Recorded:
    return svc.record_evidence(
        engine,
        organisation=ORG,
        sku=sku,
        requirement_id=req,
        content=content,
        file_name=f"{req}.pdf",
        issuer="Lab",
        accreditation="CNAS L0001",
        issued=dt.date.fromisoformat(issued),
        expires=dt.date.fromisoformat(expires) if expires else None,
    )


def _seed(engine: Engine) -> None:
    _add(engine, "TRK-FCEV-49", "FCEV tractor 49 t", "8704 60 00", "truck.heavy-duty.fcev")
    _add(engine, "HRC-Q235", "Hot-rolled coil Q235", "7208 39 00", "steel.hot-rolled-coil")
    _add(engine, "BAT-LFP", "LFP traction pack", "8507 60", "battery.traction")
    _evidence(engine, "TRK-FCEV-49", "global.buyer.iso14067-pact", b"pcf-2023", "2023-01-15")
    _evidence(engine, "TRK-FCEV-49", "eu.type-approval.r134", b"r134", "2024-03-01")
    _evidence(engine, "TRK-FCEV-49", "eu.type-approval.r100", b"r100", "2024-03-01")
    _evidence(
        engine, "TRK-FCEV-49", "global.iso17025.test-reports", b"t1", "2025-09-01", "2026-08-31"
    )
    _evidence(engine, "HRC-Q235", "global.buyer.iso14067-pact", b"pcf-2026", "2026-02-01")
    _evidence(engine, "HRC-Q235", "eu.epd.en15804", b"epd", "2021-05-01", "2026-04-30")
    _evidence(engine, "HRC-Q235", "global.iso17025.test-reports", b"t2", "2026-05-01", "2027-04-30")
    for req in ("global.buyer.iso14067-pact", "global.iso17025.test-reports"):
        _evidence(engine, "BAT-LFP", req, req.encode(), "2026-03-01", "2027-12-31")
    _evidence(engine, "BAT-LFP", "global.iso14064-3.verification", b"v", "2026-03-01")
    _evidence(engine, "BAT-LFP", "global.buyer.iso26262", b"fs", "2026-03-01")


def _statuses(sku: str, engine: Engine) -> list[tuple[str, str]]:
    found = svc.sku_dossier(engine, organisation=ORG, sku=sku, market="EU", on=ON)
    return [(row.requirement.id, row.status) for row in found.rows]


def test_truck_and_steel_dossiers(engine: Engine) -> None:
    _seed(engine)
    assert _statuses("TRK-FCEV-49", engine) == [
        ("global.buyer.iso14067-pact", "expired"),
        ("eu.type-approval.r134", "held"),
        ("eu.type-approval.r100", "held"),
        ("global.buyer.iso26262", "missing"),
        ("global.iso17025.test-reports", "expiring"),
        ("global.iso14064-3.verification", "missing"),
    ]
    assert _statuses("HRC-Q235", engine) == [
        ("eu.cbam.verified-emissions", "missing"),
        ("global.buyer.iso14067-pact", "held"),
        ("eu.epd.en15804", "expired"),
        ("global.iso17025.test-reports", "held"),
        ("global.iso14064-3.verification", "missing"),
    ]
    coil = svc.sku_dossier(engine, organisation=ORG, sku="HRC-Q235", market="EU", on=ON)
    cbam = coil.rows[0]
    assert cbam.deadline == dt.date(2026, 1, 1)
    assert cbam.in_force
    assert cbam.overdue
    assert coil.rows[1].expires == dt.date(2029, 2, 1)  # 2026-02-01 + 36 months
    # before the definitive period the transitional communication applied instead
    earlier = svc.sku_dossier(
        engine, organisation=ORG, sku="HRC-Q235", market="EU", on=dt.date(2025, 6, 30)
    )
    assert earlier.rows[0].requirement.id == "eu.cbam.communication"


def test_gaps_ranking(engine: Engine) -> None:
    _seed(engine)
    ranked = svc.gaps(engine, organisation=ORG, market="EU", on=ON)
    assert [(g.sku, g.overdue, g.next_date) for g in ranked] == [
        ("TRK-FCEV-49", 3, dt.date(2026, 8, 31)),
        ("HRC-Q235", 3, None),
        ("BAT-LFP", 0, None),
    ]
    (battery_gap,) = ranked[2].gaps
    assert battery_gap.requirement.id == "eu.battery.cf-declaration"
    assert battery_gap.status == "missing"
    assert not battery_gap.in_force


def test_evidence_refusals_and_duplicates(engine: Engine) -> None:
    _add(engine, "HRC-Q235", "Hot-rolled coil Q235", "7208 39 00", "steel.hot-rolled-coil")
    with pytest.raises(InputError, match="does not apply to SKU HRC-Q235"):
        _evidence(engine, "HRC-Q235", "eu.type-approval.r134", b"x", "2026-01-01")
    with pytest.raises(InputError, match=r"no requirement 'no\.such'"):
        _evidence(engine, "HRC-Q235", "no.such", b"x", "2026-01-01")
    with pytest.raises(InputError, match="before the issue date"):
        _evidence(engine, "HRC-Q235", "eu.epd.en15804", b"x", "2026-01-01", "2025-01-01")
    first = _evidence(engine, "HRC-Q235", "eu.epd.en15804", b"epd", "2026-01-01")
    again = _evidence(engine, "HRC-Q235", "eu.epd.en15804", b"epd", "2026-01-01")
    assert first.created
    assert not again.created
    assert first.file_sha256 == again.file_sha256
    with session_scope(engine) as session:
        org = repo.get_organisation(session, name=ORG)
        sku = repo.get_sku(session, organisation_id=org.id, sku="HRC-Q235")
        assert len(repo.list_evidence(session, sku=sku)) == 1
    # the same SKU again with the same data is a no-op
    fields = svc.sku_fields(
        sku="HRC-Q235", name="Hot-rolled coil Q235", cn="72083900", rules="steel.hot-rolled-coil"
    )
    assert svc.add_sku(engine, organisation=ORG, fields=fields) is False


CATALOGUE = """\
catalogue: 1
requirements:
  - id: x.one
    market: EU
    kind: buyer
    title: {en: One, zh: 一}
    applies_to: {all: true}
    document: {en: Doc, zh: 文件}
    issuer: someone
    standard: ISO 1
    validity: 12
    holder: manufacturer
    colour: red
    source: {document: ISO 1:2020, clause: "1", year: 2020, access: public}
"""


def test_catalogue_errors(tmp_path: Path) -> None:
    assert all(r.source.document for r in bundled_catalogue().requirements)
    path = tmp_path / "cat.yaml"
    with pytest.raises(CatalogueError, match=r"cat\.yaml:13: requirements\[0\]\.colour"):
        load_catalogue(path, CATALOGUE)
    no_source = CATALOGUE.replace("    colour: red\n", "").replace(
        '    source: {document: ISO 1:2020, clause: "1", year: 2020, access: public}\n', ""
    )
    with pytest.raises(CatalogueError, match=r"cat\.yaml:\d+.*source"):
        load_catalogue(path, no_source)
    law = CATALOGUE.replace("    colour: red\n", "").replace("kind: buyer", "kind: law")
    with pytest.raises(CatalogueError, match="required_from"):
        load_catalogue(path, law)


def test_pure_rows_conditional_claims() -> None:
    """A carbon-neutrality claim appears only once evidence for it is held."""
    cat = bundled_catalogue()
    rows = dossier_rows(cat, cn="72083900", rules=None, market="EU", on=ON, evidence=[])
    assert "global.carbon-neutrality.iso14068" not in [r.requirement.id for r in rows]


def test_exports(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader
    from pypdf.generic import NameObject

    from openpcf.reports.dossier import dossier_pdf, dossier_xlsx
    from openpcf.reports.output import write_report

    _seed(engine)
    found = svc.sku_dossier(engine, organisation=ORG, sku="TRK-FCEV-49", market="EU", on=ON)
    xlsx = write_report(tmp_path / "d.xlsx", dossier_xlsx(found))
    sheet = load_workbook(xlsx)["Dossier"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Requirement / 要求"
    assert rows[0][4] == "Status / 状态"
    assert [(r[0], r[4]) for r in rows[1:]] == [
        ("global.buyer.iso14067-pact", "expired / 已过期"),
        ("eu.type-approval.r134", "held / 已持有"),
        ("eu.type-approval.r100", "held / 已持有"),
        ("global.buyer.iso26262", "missing / 缺失"),
        ("global.iso17025.test-reports", "expiring / 即将到期"),
        ("global.iso14064-3.verification", "missing / 缺失"),
    ]
    pdf = write_report(tmp_path / "d.pdf", dossier_pdf(found))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # pypdf reads fpdf2's embedded CFF font once told its codes are 2-byte (as in
    # tests/test_report_pdf.py's pdf_text)
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "TRK-FCEV-49" in text
    assert "eu.type-approval.r134" in text


def test_cli(home: Path, tmp_path: Path) -> None:
    org = ("--org", ORG)
    ok = openpcf(
        "dossier",
        "sku",
        "add",
        "HRC-1",
        "--name",
        "Coil",
        "--cn",
        "7208 39 00",
        "--rules",
        "steel.hot-rolled-coil",
        *org,
    )
    assert ok.returncode == 0, ok.stderr
    bad_cn = openpcf("dossier", "sku", "add", "X", "--name", "X", "--cn", "12", *org)
    assert bad_cn.returncode == 2
    assert "CN code" in bad_cn.stderr
    doc = tmp_path / "epd.pdf"
    doc.write_bytes(b"%PDF-1.4 epd")
    args = (
        "dossier",
        "evidence",
        "add",
        "HRC-1",
        "--file",
        str(doc),
        "--issuer",
        "IBU",
        "--issued",
        "2026-01-01",
        *org,
    )
    assert openpcf(*args, "--requirement", "eu.epd.en15804").returncode == 0
    refused = openpcf(*args, "--requirement", "eu.type-approval.r100")
    assert refused.returncode == 2
    assert "does not apply" in refused.stderr
    assert openpcf("dossier", "show", "NOPE", *org).returncode == 1
    shown = openpcf(
        "dossier",
        "show",
        "HRC-1",
        "--market",
        "EU",
        "--on",
        "2026-06-30",
        "--json",
        "--xlsx",
        str(tmp_path / "a.xlsx"),
        "--pdf",
        str(tmp_path / "a.pdf"),
        *org,
    )
    assert shown.returncode == 0, shown.stderr
    assert '"eu.epd.en15804"' in shown.stdout
    assert (tmp_path / "a.xlsx").exists()
    assert (tmp_path / "a.pdf").exists()
    assert openpcf("dossier", "gaps", "--market", "EU", *org).returncode == 0
    assert openpcf("dossier", "gaps", "--market", "XX", *org).returncode == 2
    listed = openpcf("dossier", "requirements", "--market", "EU", "--cn", "8704")
    assert "eu.type-approval.r134" in listed.stdout
    assert "eu.cbam" not in listed.stdout


@pytest.fixture
def host(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield from serve_host(engine, tmp_path)
    get_settings.cache_clear()


def test_http_with_isolation(host: Host) -> None:
    with session_scope(host.engine) as session:
        for who, org_name in (("M", "Supplier Co"), ("N", "Other Co")):
            org = repo.get_organisation(session, name=org_name)
            issued = repo.create_client(session, organisation=org, scopes=["dossier:manage"])
            host.seeded.creds[who] = (issued.client_id, issued.secret)
    fields = svc.sku_fields(
        sku="TRK-1", name="Truck", cn="8704 60 00", rules="truck.heavy-duty.fcev"
    )
    svc.add_sku(host.engine, organisation="Supplier Co", fields=fields)
    assert host.get("/dossier/skus", "A").status_code == 403  # no dossier:manage scope
    listed = host.get("/dossier/skus", "M")
    assert [s["sku"] for s in listed.json()] == ["TRK-1"]
    assert host.get("/dossier/skus", "N").json() == []
    assert host.get("/dossier/skus/TRK-1", "N").status_code == 404
    body = {
        "requirement": "eu.type-approval.r134",
        "issuer": "KBA",
        "issued": "2024-03-01",
        "fileName": "r134.pdf",
        "contentBase64": base64.b64encode(b"certificate").decode(),
    }
    headers = {"authorization": f"Bearer {host.token('M')}"}
    posted = host.http.post("/dossier/skus/TRK-1/evidence", json=body, headers=headers)
    assert posted.status_code == 200, posted.text
    assert posted.json()["created"] is True
    other = {"authorization": f"Bearer {host.token('N')}"}
    assert (
        host.http.post("/dossier/skus/TRK-1/evidence", json=body, headers=other).status_code == 404
    )
    bad = host.http.post("/dossier/skus/TRK-1/evidence", json={**body, "x": 1}, headers=headers)
    assert bad.status_code == 400
    shown = host.get("/dossier/skus/TRK-1?market=EU&on=2026-06-30", "M")
    rows = {r["requirement"]: r["status"] for r in shown.json()["rows"]}
    assert rows["eu.type-approval.r134"] == "held"
    assert rows["global.buyer.iso26262"] == "missing"
    gaps = host.get("/dossier/gaps?market=EU&on=2026-06-30", "M").json()
    assert [g["sku"] for g in gaps] == ["TRK-1"]
