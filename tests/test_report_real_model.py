"""Reports of a model as a user builds it on real data (issue 13).

The ``real_home`` model (``tests/fixtures/real_model.py``: an imported database, a supplier
referenced by URN, cradle-to-grave) and a variant whose databases carry the longest real
values of TianGong LCA Data and USLCI (licence texts, process and flow names; copied into
``tests/fixtures/longest_real_values.json``, so these tests need no ``../shared``): the PDF
renders in both languages, licences are printed once in the annex, ids become names, no
absolute local path reaches the document, and the Chinese report has no English notes left.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fixtures.cli_home import ok
from fixtures.real_model import MODEL
from test_report_pdf import pdf_text

FIXTURES = Path(__file__).parent / "fixtures"
LONGEST = json.loads((FIXTURES / "longest_real_values.json").read_text(encoding="utf-8"))
TIANGONG_PROCESS = "11111111-0000-4000-8000-000000000002"
USLCI_PROCESS = "ee000000-0000-4000-8000-000000000006"


def flat(text: str) -> str:
    """``text`` without white space, so phrases that a table cell wrapped still match."""
    return re.sub(r"\s+", "", text)


def report(model: Path, out: Path, *args: str) -> str:
    """Run ``openpcf report``; the HTML, or the PDF's text."""
    ok("report", str(model), "-o", str(out), *args)
    if out.suffix == ".html":
        return out.read_text(encoding="utf-8")
    return pdf_text(out.read_bytes())[1]


def assert_no_local_paths(text: str, *folders: Path) -> None:
    for folder in (*folders, Path.home()):
        assert flat(str(folder)) not in flat(text), folder
    assert not re.search(r"(?<![\w.])/(?:tmp|home|root|work|Users)/", text)


@pytest.fixture
def longest_home(real_home: Path, tmp_path: Path) -> Path:
    """``real_home`` plus two databases with the longest real values: an ILCD one (TianGong's
    licence, longest English and Chinese process names, longest flow name) and a JSON-LD one
    (USLCI's licence and longest process name); the variant model uses both."""
    tg = LONGEST["tiangong"]
    ilcd = tmp_path / "tiangong"
    shutil.copytree(FIXTURES / "ilcd_small", ilcd)
    (ilcd / "LICENSE").write_text(tg["licence"], encoding="utf-8")
    process = ilcd / "ILCD" / "processes" / f"{TIANGONG_PROCESS}.xml"
    xml = process.read_text(encoding="utf-8")
    xml = xml.replace(
        '<baseName xml:lang="en">Electricity</baseName>',
        f'<baseName xml:lang="en">{tg["longest_process_name"]}</baseName>',
    ).replace(
        '<baseName xml:lang="zh">电力</baseName>',
        f'<baseName xml:lang="zh">{tg["longest_process_name_zh"]}</baseName>',
    )
    xml = re.sub(r"\s*<mixAndLocationTypes[^<]*</mixAndLocationTypes>", "", xml)
    process.write_text(xml, encoding="utf-8")
    ok("import", "ilcd", str(ilcd), "--name", "tiangong")

    us = LONGEST["uslci"]
    jsonld = tmp_path / "uslci"
    shutil.copytree(FIXTURES / "jsonld_small", jsonld)
    (jsonld / "LICENSE").write_text(us["licence"], encoding="utf-8")
    path = jsonld / "processes" / f"{USLCI_PROCESS}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["name"] = us["longest_process_name"]
    path.write_text(json.dumps(data), encoding="utf-8")
    flow = jsonld / "flows" / "dd000000-0000-4000-8000-000000000010.json"
    data = json.loads(flow.read_text(encoding="utf-8"))
    data["name"] = tg["longest_flow_name"]
    flow.write_text(json.dumps(data), encoding="utf-8")
    ok("import", "jsonld", str(jsonld), "--name", "uslci")

    model = real_home.parent / "longest.yaml"
    model.write_text(
        MODEL.replace(
            '{background: "small:widget assembly", amount: 3000, unit: kg}',
            f'{{background: "uslci:{USLCI_PROCESS}", amount: 3000, unit: kg}}\n'
            f'      - {{background: "tiangong:{TIANGONG_PROCESS}", amount: 500, unit: MJ}}',
        ),
        encoding="utf-8",
    )
    return model


def test_real_model_pdf_english(real_home: Path, tmp_path: Path) -> None:
    text = report(real_home, tmp_path / "r.pdf", "-f", "pdf")
    flat_text = flat(text)
    # the headline, labelled, once at the top
    assert "Carbon footprint of the product (CFP) per 1 piece, GWP set AR6" in text
    assert "139,000 kg CO2e" in text
    # readable names instead of ids in tables and charts
    for name in (
        "widget assembly (database small)",
        "FBB 350 (Example Board Mill Ltd.)",
        "Electricity, Jiangsu provincial grid average, 2022",
        "Transformer assembly",
    ):
        assert flat(name) in flat_text, name
    contributors = text[text.index("Top contributing exchanges") : text.index("Indirect land-use")]
    assert "small@" not in contributors
    assert "supplier." not in contributors
    # the annexes: full inventory, parameters, each licence once
    for title in ("Annex C: full inventory", "Annex D: parameters", "Annex E: data sources"):
        assert title in text, title
    assert "losses_kwh" in text[text.index("Annex D") :]
    assert flat_text.count(flat("hand-written test data for OpenPCF, no rights reserved")) == 1
    assert_no_local_paths(text, tmp_path)


def test_real_model_pdf_chinese(real_home: Path, tmp_path: Path) -> None:
    text = report(real_home, tmp_path / "r.pdf", "-f", "pdf", "--lang", "zh")
    flat_text = flat(text)
    assert "产品碳足迹（每 1 件，GWP 数据集 AR6）" in text
    assert "139,000 kg CO2e" in text
    for name in ("widget assembly（数据库 small）", "FBB 350（Example Board Mill Ltd.）"):
        assert flat(name) in flat_text, name
    for title in ("附录 C：完整清单", "附录 D：参数", "附录 E：数据来源与许可"):
        assert flat(title) in flat_text, title
    # no English notes, GWP-set names, stage names or headings left
    for english in (
        "from supplier footprint",
        "held by",
        "exact match",
        "IPCC AR6 GWP100",
        "without climate-carbon feedback",
        "Use phase" + " stage",
        "Production",
        "life-cycle stage",
        "kg CO2e per unit",
        "Annex C: full inventory",
        "Notes from the calculation",
    ):
        assert flat(english) not in flat_text, english
    assert flat("供应商数据：ExampleBoardMillLtd.的FBB350") in flat_text
    assert flat("IPCC 第六次评估报告（AR6）GWP100") in flat_text
    assert_no_local_paths(text, tmp_path)


def test_real_model_html_prints_the_licence_once(real_home: Path, tmp_path: Path) -> None:
    html = report(real_home, tmp_path / "r.html")
    assert html.count("hand-written test data for OpenPCF, no rights reserved") == 1
    assert "CC0 1.0: hand-written test data for OpenPCF, no rights… [L" in html
    assert 'id="inventory"' in html
    assert 'id="parameters"' in html
    assert_no_local_paths(html, tmp_path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_longest_real_values_render(longest_home: Path, tmp_path: Path, lang: str) -> None:
    """The report that crashed on a long licence ("row too high") renders, in both languages,
    with each licence printed once (in the annex) and the long names in the tables."""
    tg, us = LONGEST["tiangong"], LONGEST["uslci"]
    text = report(longest_home, tmp_path / "r.pdf", "-f", "pdf", "--lang", lang)
    flat_text = flat(text)
    for licence in (tg["licence"], us["licence"]):
        # the two MIT texts differ only in their copyright lines
        copyright_line = licence.splitlines()[2]
        assert flat_text.count(flat(copyright_line)) == 1, copyright_line
    assert flat_text.count(flat("Permission is hereby granted")) == 2
    name = tg["longest_process_name_zh"] if lang == "zh" else tg["longest_process_name"]
    assert flat(name[:80]) in flat_text  # the start of the name, in the tables
    assert flat(us["longest_process_name"]) in flat_text
    assert "MIT License [L" in text
    assert_no_local_paths(text, tmp_path)


def test_longest_real_values_html(longest_home: Path, tmp_path: Path) -> None:
    html = report(longest_home, tmp_path / "r.html")
    for licence in (LONGEST["tiangong"]["licence"], LONGEST["uslci"]["licence"]):
        assert html.count(licence.splitlines()[2]) == 1
    assert html.count("Permission is hereby granted") == 2
    assert LONGEST["tiangong"]["longest_process_name"] in html
