"""GLEC v3.0 road uplifts (p. 94) and battery-electric trucks (Tables 10-11, p. 93), by hand.

Source: Smart Freight Centre, GLEC Framework v3.0 (2023; edition of 2 April 2024), Module 2.

- p. 94: Asia and Africa, vans + 13 %, heavier vehicles + 22 %, "to the regional values for
  Europe and South America"; temperature controlled, vans + 15 %, heavier + 12 %, "to the
  regional values for Europe, South America, Asia and Africa".
- Table 8, p. 92, artic truck up to 40 t GVW, average/mixed, diesel: WTT 22, TTW 73, WTW 95 g
  CO2e/tkm. Table 7, p. 91, van < 3.5 t, diesel: 187 / 616 / 803 g.
- Table 11, p. 93, rigid truck 26-40 t GVW, average/mixed, electric: 0.17 kWh/tkm.
- Grid: China MEE/NBS/NEA 2023 electricity carbon footprint, national, 0.6205 kg CO2e/kWh (life
  cycle); MEE/NBS 2021 national grid CO2 factor, 0.5568 kg CO2/kWh (generation only).

The page checks at the end read ``pdftotext -layout`` of the GLEC PDF (sha256 0335554c…) from
``$OPENPCF_GLEC_TEXT`` and are skipped without it.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import pytest
from typer.testing import CliRunner

from openpcf.cli import transport
from openpcf.logistics import MissingDefaultError, ShipmentError, bundled_library, calculate_file
from openpcf.logistics.library import DefaultIntensity
from openpcf.logistics.regions import GLEC_REGION, m49_subregions
from openpcf.logistics.schema import Region
from openpcf.logistics.uplifts import REGIONS, UPLIFTS

EXAMPLE = Path(__file__).parent.parent / "examples" / "logistics" / "china_road_uplift.yaml"
runner = CliRunner()
ARTIC = "glec3.road.artic-34-40t.diesel.eu-sa"
ELECTRIC = "glec3.road.rigid-26-40t.electric.eu-sa"


def write(tmp_path: Path, body: str, *, mass: float = 20) -> Path:
    path = tmp_path / "shipment.yaml"
    head = f"shipment: U-1\nyear: 2025\ncargo: {{mass: {mass:g}, unit: t}}\n"
    path.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return path


def road(
    toc: str,
    *,
    region: str = "",
    temperature: str = "ambient",
    km: float = 1000,
    grid: str = "",
) -> str:
    lines = [
        "chain:",
        "  - type: leg",
        "    mode: road",
        f"    distance_km: {km:g}",
        f"    operation: {{temperature: {temperature}}}",
        f"    intensity: {{method: default, toc: {toc}{', grid: ' + grid if grid else ''}}}",
    ]
    if region:
        lines.insert(3, f"    region: {region}")
    return "\n".join(lines) + "\n"


def close(actual: float | None, expected: float, rel: float = 1e-9) -> None:
    assert actual is not None
    assert math.isclose(actual, expected, rel_tol=rel), (actual, expected)


# --- uplifts -------------------------------------------------------------------------------


def test_china_leg_gets_the_asia_uplift(tmp_path: Path) -> None:
    """20 t × 1000 km = 20 000 tkm in China on the artic 34-40 t diesel row (Table 8 p. 92):
    WTW 0.095 × 1.22 × 20 000 = 2318.0 kg; WTT 0.022 × 1.22 × 20 000 = 536.8;
    TTW 0.073 × 1.22 × 20 000 = 1781.2. The result names the row, the factor and p. 94."""
    result = calculate_file(write(tmp_path, road(ARTIC, region="asia")))
    close(result.wtw_kg, 2318.0)
    close(result.wtt_kg, 536.8)
    close(result.ttw_kg, 1781.2)
    (leg,) = result.elements
    assert ARTIC in leg.intensity.description
    assert "× 1.22 (Asia and Africa, > 3.5 t GVW): GLEC v3.0 p. 94" in leg.intensity.description
    (note,) = leg.intensity.notes
    assert note.startswith(f"{ARTIC} × 1.22: Smart Freight Centre, GLEC Framework v3.0")
    assert "p. 94" in note
    assert "apply a 22% uplift" in note
    # the same leg in Europe, or with no region, is the published row
    close(calculate_file(write(tmp_path, road(ARTIC, region="europe"))).wtw_kg, 1900.0)
    close(calculate_file(write(tmp_path, road(ARTIC))).wtw_kg, 1900.0)


def test_reefer_road_leg_gets_the_temperature_uplift(tmp_path: Path) -> None:
    """Reefer in Europe: 0.095 × 1.12 × 20 000 = 2128.0 kg (WTT 0.022 × 1.12 × 20 000 =
    492.8, TTW 1635.2). Reefer in Africa: 0.095 × 1.22 × 1.12 × 20 000 = 2596.16 kg (the
    temperature uplift applies to the Asia/Africa values, which are the uplifted EU/SA ones)."""
    europe = calculate_file(write(tmp_path, road(ARTIC, temperature="reefer")))
    close(europe.wtw_kg, 2128.0)
    close(europe.wtt_kg, 492.8)
    close(europe.ttw_kg, 1635.2)
    assert "temperature controlled, > 3.5 t GVW" in europe.elements[0].intensity.description
    africa = calculate_file(write(tmp_path, road(ARTIC, region="africa", temperature="reefer")))
    close(africa.wtw_kg, 2596.16)
    assert len(africa.elements[0].intensity.notes) == 2


def test_vans_get_the_van_uplifts(tmp_path: Path) -> None:
    """Van < 3.5 t diesel (Table 7 p. 91), 1 t × 100 km = 100 tkm: Africa 0.803 × 1.13 × 100 =
    90.739 kg; reefer in Europe 0.803 × 1.15 × 100 = 92.345 kg."""
    van = "glec3.road.van-lt3.5t.diesel.eu-sa"
    close(
        calculate_file(write(tmp_path, road(van, region="africa", km=100), mass=1)).wtw_kg, 90.739
    )
    reefer = write(tmp_path, road(van, temperature="reefer", km=100), mass=1)
    result = calculate_file(reefer)
    close(result.wtw_kg, 92.345)
    # 0.923 kg/tkm is 6.3 × the highest reefer row (DESNZ HGV) but a GLEC reefer van: no warning
    assert result.warnings == ()


def test_rows_for_another_region_are_refused(tmp_path: Path) -> None:
    """GLEC derives Asia/Africa from the Europe/South America tables, not from North America
    (Table 6); and a Europe/South America row does not fit a North American leg."""
    na = "glec3.road.smartway-tl-dry-van.na"
    with pytest.raises(
        ShipmentError, match=r"North American value.*choose a glec3\.road\.\*\.eu-sa"
    ):
        calculate_file(write(tmp_path, road(na, region="asia")))
    with pytest.raises(ShipmentError, match=r"Table 6, p\. 90: choose a glec3\.road\.smartway"):
        calculate_file(write(tmp_path, road(ARTIC, region="north-america")))
    close(calculate_file(write(tmp_path, road(na, region="north-america"))).wtw_kg, 1880.0)


def test_reefer_leg_on_a_row_without_the_uplift_is_refused(tmp_path: Path) -> None:
    """DESNZ (UK) and North American ambient rows get no GLEC p. 94 uplift: a reefer leg on
    them is refused as before, and the message names the uplift's rows."""
    for toc in ("desnz25.road.hgv.artic-gt33t.avg-laden", "glec3.road.smartway-tl-dry-van.na"):
        with pytest.raises(ShipmentError, match=r"is for ambient road.*glec3\.road\.\*\.eu-sa"):
            calculate_file(write(tmp_path, road(toc, temperature="reefer")))


def test_asia_leg_on_another_row_says_no_uplift(tmp_path: Path) -> None:
    """DESNZ 2025 HGV artic > 33 t average laden: WTT 0.01799 + TTW 0.07703 = 0.09502 kg/tkm,
    × 20 000 = 1900.4 kg, not uplifted, and the note says why."""
    toc = "desnz25.road.hgv.artic-gt33t.avg-laden"
    result = calculate_file(write(tmp_path, road(toc, region="asia")))
    close(result.wtw_kg, 1900.4)
    (note,) = result.elements[0].intensity.notes
    assert note.startswith("no GLEC Asia/Africa uplift applied")
    assert toc in note


def test_region_is_for_road_legs_only(tmp_path: Path) -> None:
    body = """
    chain:
      - type: leg
        mode: rail
        region: asia
        distance_km: 100
        intensity: {method: default, toc: glec3.rail.eu.diesel.average}
    """
    with pytest.raises(ShipmentError, match="'region' selects GLEC's road uplifts"):
        calculate_file(write(tmp_path, body))


def ported(toc: str, origin: str, destination: str, *, region: str = "") -> str:
    """A road leg of 1000 km between two ends (UN/LOCODEs or ``{name, lat, lon}`` mappings)."""
    body = road(toc, region=region)
    return body.replace(
        "    mode: road\n", f"    mode: road\n    from: {origin}\n    to: {destination}\n"
    )


def test_region_is_inferred_from_the_ports_countries(tmp_path: Path) -> None:
    """CNSHA → CNNGB: both CN, UN M49 Eastern Asia → GLEC 'asia': 0.095 × 1.22 × 20 000 =
    2318.0 kg, as with 'region: asia'. DEHAM → NLRTM: DE Western Europe, NL Western Europe →
    'europe', no uplift: 0.095 × 20 000 = 1900.0 kg. Either way the note says what was inferred
    and from what; a stated region needs no such note."""
    china = calculate_file(write(tmp_path, ported(ARTIC, "CNSHA", "CNNGB")))
    close(china.wtw_kg, 2318.0)
    inferred, uplift = china.elements[0].intensity.notes
    assert inferred.startswith(
        "region 'asia' (Asia) inferred from its ends: "
        "from CNSHA Shanghai (CN, UN M49 Eastern Asia), "
        "to CNNGB Ningbo (CN, UN M49 Eastern Asia); UN Statistics Division"
    )
    assert "set 'region:' to override" in inferred
    assert "22%" in uplift
    europe = calculate_file(write(tmp_path, ported(ARTIC, "DEHAM", "NLRTM")))
    close(europe.wtw_kg, 1900.0)
    (note,) = europe.elements[0].intensity.notes
    assert note.startswith(
        "region 'europe' (Europe) inferred from its ends: from DEHAM Hamburg (DE, UN M49"
    )
    stated = calculate_file(write(tmp_path, ported(ARTIC, "CNSHA", "CNNGB", region="asia")))
    close(stated.wtw_kg, 2318.0)
    assert len(stated.elements[0].intensity.notes) == 1  # the uplift only


@pytest.mark.parametrize(
    ("origin", "destination", "why"),
    [
        ("CNSHA", "{name: Plant, lat: 31.3, lon: 120.6}", "to Plant (no country known)"),
        ("TRIST", "BGVAR", "from TRIST Istanbul (TR, UN M49 Western Asia), to BGVAR Varna"),
        ("MXVER", "MXVER", "from MXVER Veracruz (MX, UN M49 Central America)"),
        ("'Suzhou plant'", "CNSHA", "from 'Suzhou plant' (no country known)"),
    ],
)
def test_no_region_and_none_inferred_is_said(
    tmp_path: Path, origin: str, destination: str, why: str
) -> None:
    """An end without a known country (a position, a place not in the port list), ends in two
    GLEC regions (Türkiye is M49 Western Asia, Bulgaria Eastern Europe), or a country whose
    M49 sub-region GLEC names no road region for (Mexico, Central America): the Europe/South
    America row is used as published, 0.095 × 20 000 = 1900.0 kg, and the note says so."""
    result = calculate_file(write(tmp_path, ported(ARTIC, origin, destination)))
    close(result.wtw_kg, 1900.0)
    (note,) = result.elements[0].intensity.notes
    assert note.startswith("no 'region:' given, and the leg's ends name no one GLEC road region")
    assert why in note
    assert "needs 'region: asia' or 'region: africa'" in note


def test_stated_region_that_contradicts_the_ports_is_refused(tmp_path: Path) -> None:
    """'region: asia' on a Hamburg → Rotterdam leg: the error names the file, the leg's line,
    both ends' countries and what to write."""
    path = write(tmp_path, ported(ARTIC, "DEHAM", "NLRTM", region="asia"))
    with pytest.raises(ShipmentError) as caught:
        calculate_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:5: chain[0] (leg '')")  # line 5: '  - type: leg'
    assert "'region: asia' (Asia) contradicts the leg's ends: from DEHAM Hamburg (DE" in message
    assert "write 'region: europe', or correct 'from'/'to'" in message
    # one matching end is no contradiction (a leg that crosses from Türkiye into Bulgaria)
    crossing = write(tmp_path, ported(ARTIC, "TRIST", "BGVAR", region="asia"))
    close(calculate_file(crossing).wtw_kg, 2318.0)
    # the check holds for any road default (DESNZ rows carry no GLEC region)
    desnz = "desnz25.road.hgv.artic-gt33t.avg-laden"
    with pytest.raises(ShipmentError, match="contradicts the leg's ends"):
        calculate_file(write(tmp_path, ported(desnz, "CNSHA", "CNNGB", region="africa")))


def test_inferred_region_refuses_a_row_for_another_region(tmp_path: Path) -> None:
    """A North American row (Table 6) on a leg inferred to run in China is refused, and the
    message says where the region came from."""
    na = "glec3.road.smartway-tl-dry-van.na"
    with pytest.raises(ShipmentError, match=r"runs in Asia \(inferred from its ends: from CNSHA"):
        calculate_file(write(tmp_path, ported(na, "CNSHA", "CNNGB")))
    us = calculate_file(write(tmp_path, ported(na, "USLAX", "USOAK")))
    (note,) = us.elements[0].intensity.notes
    assert note.startswith("region 'north-america' (North America) inferred from")


def test_m49_table_matches_the_published_subregion_sizes() -> None:
    """UN M49 lists 248 countries or areas; its sub-regions hold (as published by UNSD):
    Northern America 5, Central America 8, Caribbean 28, South America 16, the four of Europe
    16 + 9 + 10 + 16 = 51, Asia 18 + 5 + 7 + 9 + 11 = 50, Africa 7 + 17 + 9 + 22 + 5 = 60,
    Oceania 5 + 6 + 8 + 10 = 29, Antarctica 1."""
    table = m49_subregions()
    assert len(table) == 248
    sizes = Counter(table.values())
    assert sizes["Northern America"] == 5
    assert sizes["South America"] == 16
    assert (sizes["Central America"], sizes["Caribbean"]) == (8, 28)
    assert (sizes["Micronesia"], sizes["Polynesia"], sizes["Melanesia"]) == (8, 10, 5)
    per_region = Counter(GLEC_REGION.get(s) for s in table.values())
    assert per_region == {
        "europe": 51, "asia": 50, "africa": 60, "south-america": 16, "north-america": 5,
        None: 8 + 28 + 29 + 1,
    }  # fmt: skip
    assert set(GLEC_REGION.values()) == set(REGIONS)
    assert (table["CN"], table["TR"], table["RU"], table["EG"]) == (
        "Eastern Asia", "Western Asia", "Eastern Europe", "Northern Africa",
    )  # fmt: skip


def test_region_names_agree() -> None:
    assert set(get_args(Region)) == set(REGIONS)


def test_uplift_factors_are_the_quoted_percentages() -> None:
    """Each factor is 1 + the percentage in its own quoted sentence of p. 94."""
    for u in UPLIFTS:
        percent = re.search(r"apply a (\d+)% uplift", u.quote)
        assert percent is not None
        assert u.factor == pytest.approx(1 + int(percent.group(1)) / 100, abs=1e-12)
        assert ("(up to 3.5 t GVW)" in u.quote) == u.van


# --- battery-electric trucks ---------------------------------------------------------------


def test_electric_truck_with_a_life_cycle_grid(tmp_path: Path) -> None:
    """0.17 kWh/tkm × 0.6205 kg/kWh (CN 2023 footprint, life cycle) = 0.105485 kg/tkm; 20 t ×
    1000 km = 20 000 tkm → 2109.7 kg WTW, all WTT, TTW 0 (nothing at the wheel)."""
    grid = "{geography: CN, year: 2023, basis: footprint}"
    result = calculate_file(write(tmp_path, road(ELECTRIC, grid=grid)))
    close(result.wtw_kg, 2109.7)
    close(result.wtt_kg, 2109.7)
    close(result.ttw_kg, 0.0)
    (leg,) = result.elements
    assert (
        "0.17 kWh/tkm × 0.6205 kg CO2e/kWh (cn.electricity.footprint.2023.national, life cycle)"
        in leg.intensity.description
    )
    assert any(
        s.startswith("electricity cn.electricity.footprint.2023.national")
        for s in (leg.intensity.sources)
    )
    scope, region = leg.intensity.notes[::-1]
    assert "life cycle" in scope
    assert region.startswith("no 'region:' given")  # no ports, nothing inferred: said so


def test_electric_truck_on_a_generation_only_grid_says_so(tmp_path: Path) -> None:
    """0.17 × 0.5568 (CN 2021 grid CO2, generation only) × 20 000 = 1893.12 kg; in China × 1.22
    = 2309.6064 kg."""
    grid = "{geography: CN, year: 2021, basis: co2}"
    result = calculate_file(write(tmp_path, road(ELECTRIC, grid=grid)))
    close(result.wtw_kg, 1893.12)
    scope = result.elements[0].intensity.notes[-1]
    assert "cn.grid.co2.2021.national is generation-only" in scope
    assert (
        "(cn.grid.co2.2021.national, generation-only)" in result.elements[0].intensity.description
    )
    assert "0.5568 kg/kWh, generation-only," in result.sources[-1]
    asia = calculate_file(write(tmp_path, road(ELECTRIC, region="asia", grid=grid)))
    close(asia.wtw_kg, 2309.6064)


def test_electric_and_grid_must_go_together(tmp_path: Path) -> None:
    with pytest.raises(MissingDefaultError, match=r"gives energy, 0\.17 kWh/tkm.*name the electr"):
        calculate_file(write(tmp_path, road(ELECTRIC)))
    grid = "{geography: CN, year: 2023}"
    with pytest.raises(ShipmentError, match="'grid' is for a battery-electric default"):
        calculate_file(write(tmp_path, road(ARTIC, grid=grid)))
    with pytest.raises(ShipmentError, match=r"an energy intensity .* stands alone"):
        DefaultIntensity(
            toc="x",
            mode="road",
            name="x",
            activity_unit="tkm",
            wtt=None,
            ttw=None,
            wtw=0.1,
            kwh=0.2,
            year=2023,
            source="hand-made test row",
        )


def test_example_through_the_cli() -> None:
    """examples/logistics/china_road_uplift.yaml: leg 1 as above, 2318.0 kg; leg 2, 20 t × 50 km
    = 1000 tkm × 0.17 kWh/tkm × 0.6205 kg/kWh × 1.22 = 128.6917 kg; total 2446.6917 kg WTW,
    WTT 536.8 + 128.6917 = 665.4917, TTW 1781.2."""
    result = runner.invoke(transport.app, ["calc", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    close(data["total"]["wtw_kg"], 2446.6917)
    close(data["total"]["wtt_kg"], 665.4917)
    close(data["total"]["ttw_kg"], 1781.2)
    assert [len(e["notes"]) for e in data["elements"]] == [1, 2]
    assert any("p. 94" in n for n in data["notes"])


def test_docs_example_is_the_example_file(tmp_path: Path) -> None:
    """The block in docs/logistics.md gives the same 2446.6917 kg CO2e WTW as the example."""
    docs = (Path(__file__).parent.parent / "docs" / "logistics.md").read_text(encoding="utf-8")
    block = docs.split("# openpcf transport calc examples/logistics/china_road_uplift.yaml")[1]
    path = tmp_path / "docs.yaml"
    path.write_text(block.split("```")[0].split("\n", 1)[1], encoding="utf-8")
    close(calculate_file(path).wtw_kg, 2446.6917)


def test_refusal_through_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path, road(ELECTRIC))
    result = runner.invoke(transport.app, ["calc", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, MissingDefaultError)  # the root CLI prints it, exit 2
    assert "chain[0]" in str(result.exception)
    assert "kWh/tkm" in str(result.exception)


# --- rows against the text of their page ---------------------------------------------------


def _glec_pages() -> list[str]:
    path = os.environ.get("OPENPCF_GLEC_TEXT")
    if not path or not Path(path).is_file():
        pytest.skip("set OPENPCF_GLEC_TEXT to pdftotext -layout of the GLEC v3.0 PDF")
    return Path(path).read_text(encoding="utf-8").split("\f")


def test_uplift_quotes_are_on_page_94() -> None:
    page = " ".join(_glec_pages()[93].split())
    for u in UPLIFTS:
        assert u.quote in page, u.quote


def test_electric_rows_are_on_page_93() -> None:
    """Table 10: 'Van < 3.5 t  31%  Electricity  1.1'; Table 11: each size's 'Light 30% 9%
    Electric x' line followed by its 'Average/mixed 60% 17% y' line."""
    lines = [ln.replace("–", "-") for ln in _glec_pages()[92].splitlines() if ln.strip()]
    rows = {r.toc: r for r in bundled_library().defaults.values() if r.kwh is not None}
    assert len(rows) == 9
    van = rows.pop("glec3.road.van-lt3.5t.electric.eu-sa")
    assert any(re.search(rf"Van < 3\.5 t\s+31%\s+Electricity\s+{van.kwh:g}\b", ln) for ln in lines)
    mismatches = []
    for toc, row in rows.items():
        size = re.search(r"rigid-([\d.]+-[\d.]+)t", toc)
        assert size is not None
        label = re.escape(size.group(1)) + r" ?t GVW"
        i = next(k for k, ln in enumerate(lines) if re.search(rf"Rigid truck {label}\s+Light", ln))
        light, average = lines[i], lines[i + 1]
        line, pattern = (
            (light, r"30%\s+9%\s+Electric\s+([\d.]+)$")
            if ".light." in toc
            else (average, r"Average/mixed\s+60%\s+17%\s+([\d.]+)$")
        )
        found = re.search(pattern, line.rstrip())
        if found is None or float(found.group(1)) != row.kwh:
            mismatches.append(toc)
    assert mismatches == []


def test_every_glec_v3_row_is_on_its_page() -> None:
    """Every figure of every GLEC v3.0 row (WTT, TTW, WTW in g per tkm or TEU-km, kg per t or
    container for hubs; kWh/tkm) is printed on the page its source names."""
    pages = _glec_pages()
    rows = [r for r in bundled_library().defaults.values() if "GLEC_FRAMEWORK_v3" in r.source]
    assert len(rows) == 330
    mismatches = []
    for row in rows:
        page = re.search(r"p\. (\d+)", row.source)
        assert page is not None, row.toc
        text = pages[int(page.group(1)) - 1].replace(",", "")
        printed = {round(float(t), 6) for t in re.findall(r"\d+(?:\.\d+)?", text)}
        scale = 1 if row.activity_unit in ("t", "container") else 1000
        figures = [v * scale for v in (row.wtt, row.ttw, row.wtw) if v is not None]
        figures += [row.kwh] if row.kwh is not None else []
        mismatches += [(row.toc, v) for v in figures if round(v, 6) not in printed]
    assert mismatches == []
