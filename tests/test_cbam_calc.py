"""Worked examples of the CBAM methodology on the three example installations.

Each expected value is derived in the test from the inputs of examples/cbam/*.yaml with the
formulas of docs/cbam.md, independently of the implementation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openpcf.cbam import build_communication, calculate_installation, load_installation

EXAMPLES = Path(__file__).parents[1] / "examples" / "cbam"
GRID = 0.5366  # t CO2/MWh, MEE & NBS national grid 2022 (used in the example files)
WG = 56.1 * 0.667  # t CO2 per TJ of waste gas: EF_NG x Corr_eta


def _by_id(path: str) -> dict[str, Any]:
    result = calculate_installation(load_installation(EXAMPLES / path))
    return {"result": result, **{p.id: p for p in result.processes}}


def test_steel_bf_bof_hot_rolled_coil() -> None:
    """BF -> BOF (+ purchased pig iron at the China default) -> hot strip mill.

    Blast furnace: DirEm* = 3.664 x (350 000 x 0.86 + 150 000 x 0.80 - 1 000 000 x 0.045)
    = 3.664 x 376 000 = 1 377 664 t; minus exported waste gas 2 000 TJ x 56.1 x 0.667
    = 74 837.4 t -> AttrEm 1 302 826.6 t; SEE_dir = 1.3028266 t/t pig iron.
    Natural gas 50 000 x 35 GJ x 56.1 t/TJ = 98 175 t, 20 % BOF, 80 % mill. Limestone
    40 000 t x 0.44 = 17 600 t in the BOF. Purchased pig iron: CN 7201 China default 1.66.
    BOF: SEE_dir = (19 635 + 17 600 + 950 000 x 1.3028266 + 100 000 x 1.66) / 1 100 000.
    Mill: SEE_dir = (78 540 + 74 837.4 + 1 050 000 x SEE_bof) / 1 000 000.
    """
    r = _by_id("steel_bf_bof_tianjin.yaml")
    bf_dir = 3.664 * (350_000 * 0.86 + 150_000 * 0.80 - 1_000_000 * 0.045) - 2000 * WG
    see_bf = bf_dir / 1_000_000
    see_bf_ind = 100_000 * GRID / 1_000_000
    ng = 50_000 * 35 * 1e-3 * 56.1
    bof_dir = 0.2 * ng + 40_000 * 0.44 + 950_000 * see_bf + 100_000 * 1.66
    see_bof = bof_dir / 1_100_000
    see_bof_ind = (50_000 * GRID + 950_000 * see_bf_ind) / 1_100_000
    see_mill = (0.8 * ng + 2000 * WG + 1_050_000 * see_bof) / 1_000_000
    see_mill_ind = (120_000 * GRID + 1_050_000 * see_bof_ind) / 1_000_000

    assert r["blast_furnace"].attributed_direct == pytest.approx(1_302_826.6, rel=1e-12)
    assert r["blast_furnace"].see_direct == pytest.approx(see_bf, rel=1e-12)
    assert r["bof"].see_direct == pytest.approx(see_bof, rel=1e-12)
    assert r["hot_strip_mill"].see_direct == pytest.approx(see_mill, rel=1e-12)
    assert r["hot_strip_mill"].see_indirect == pytest.approx(see_mill_ind, rel=1e-12)
    assert see_mill == pytest.approx(1.5288013, abs=1e-7)
    # steel: only direct emissions count from 2026
    assert r["hot_strip_mill"].see_cbam == pytest.approx(see_mill, rel=1e-12)
    # share from defaults: the purchased pig iron's 166 000 t over the total embedded
    bof_total = bof_dir + 50_000 * GRID + 950_000 * see_bf_ind
    share_bof = 166_000 / bof_total
    assert r["bof"].default_share == pytest.approx(share_bof, rel=1e-12)
    mill_total = see_mill * 1e6 + see_mill_ind * 1e6
    share_mill = 1_050_000 * (see_bof + see_bof_ind) * share_bof / mill_total
    assert r["hot_strip_mill"].default_share == pytest.approx(share_mill, rel=1e-12)
    totals = r["result"].totals
    assert totals.direct == pytest.approx(3.664 * 376_000 + ng + 17_600, rel=1e-12)
    assert totals.indirect == pytest.approx(270_000 * GRID, rel=1e-12)
    # the actual SEE is well below the 2026 default with mark-up (3.187 x 1.1)
    assert see_mill < 3.187 * 1.1


def test_aluminium_smelter_with_pfc() -> None:
    """Anodes 200 000 t x 3.6 = 720 000 t; casthouse gas 20 000 x 35 x 56.1 / 1000 = 39 270 t.

    PFC slope method: CF4 = 0.143 kg/t/(AE-min/cell-day) x 0.1 x 500 000 t / 1000 = 7.15 t;
    C2F6 = 7.15 x 0.121 = 0.86515 t; CO2e = 7.15 x 6630 + 0.86515 x 11100 = 57 007.665 t
    (AR5 GWPs of the communication template). SEE_dir = 816 277.665 / 500 000.
    """
    r = _by_id("aluminium_smelter_xinjiang.yaml")
    cf4 = 0.143 * 0.1 * 500_000 / 1000
    pfc = cf4 * 6630 + cf4 * 0.121 * 11100
    assert pfc == pytest.approx(57_007.665, rel=1e-12)
    totals = r["result"].totals
    assert totals.pfc == pytest.approx(pfc, rel=1e-12)
    assert totals.calculation_based == pytest.approx(720_000 + 39_270, rel=1e-12)
    assert r["potlines"].see_direct == pytest.approx((759_270 + pfc) / 500_000, rel=1e-12)
    assert r["potlines"].see_indirect == pytest.approx(13.5 * 0.8, rel=1e-12)
    # aluminium: indirect emissions do not count from 2026
    assert r["potlines"].see_cbam == r["potlines"].see_direct
    assert r["potlines"].embedded_electricity_mwh_per_t == pytest.approx(13.5)


def test_cement_with_indirect_emissions() -> None:
    """Kiln: 800 000 x 0.525 + 100 000 x 25 x 94.6 / 1000 + 20 000 x 15 x 100 / 1000 x 0.5
    = 420 000 + 236 500 + 15 000 = 671 500 t; indirect 60 000 MWh x 0.5366 = 32 196 t.
    Grinding: (750 000 x SEE_kiln + 50 000 x 0.85) / 1 000 000 direct and
    (40 000 x 0.5366 + 750 000 x SEE_kiln,ind + 50 000 x 0.03) / 1 000 000 indirect; cement
    counts both from 2026.
    """
    r = _by_id("cement_anhui.yaml")
    kiln_dir, kiln_ind = 671_500 / 800_000, 60_000 * GRID / 800_000
    see_dir = (750_000 * kiln_dir + 50_000 * 0.85) / 1e6
    see_ind = (40_000 * GRID + 750_000 * kiln_ind + 50_000 * 0.03) / 1e6
    assert r["kiln"].see_direct == pytest.approx(0.839375, rel=1e-12)
    assert r["kiln"].see_indirect == pytest.approx(kiln_ind, rel=1e-12)
    assert r["grinding"].see_direct == pytest.approx(see_dir, rel=1e-12)
    assert r["grinding"].see_indirect == pytest.approx(see_ind, rel=1e-12)
    assert r["grinding"].see_cbam == pytest.approx(see_dir + see_ind, rel=1e-12)
    assert see_dir + see_ind == pytest.approx(0.725179, abs=1e-6)
    emb_el = (40_000 + 750_000 * 0.075 + 50_000 * 0.06) / 1e6
    assert r["grinding"].embedded_electricity_mwh_per_t == pytest.approx(emb_el, rel=1e-12)
    assert r["grinding"].electricity_ef == pytest.approx(see_ind / emb_el, rel=1e-12)
    assert r["grinding"].default_share == 0.0  # the bought clinker has actual data


def test_communication_json_fields() -> None:
    result = calculate_installation(load_installation(EXAMPLES / "cement_anhui.yaml"))
    c = build_communication(result)
    assert c["installation"]["reporting_period_start"] == "2025-01-01"
    assert c["emissions"]["direct"] == pytest.approx(671_500)
    assert c["emissions"]["total"] == pytest.approx(671_500 + 100_000 * GRID)
    product = {p["cn"]: p for p in c["products"]}["2523 29 00"]
    assert product["unit"] == "t CO2e/t"
    assert product["see_total"] == pytest.approx(0.725179, abs=1e-6)
    assert product["indirect_counts_definitive"] is True
    assert c["provenance"]["gwp_set"] == "AR5"
    assert len(c["provenance"]["input_sha256"]) == 64
