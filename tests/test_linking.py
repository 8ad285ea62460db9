"""Linking inventories into ``A`` and ``B``, checked against footprints worked out by hand.

``jsonld_small`` (AR6: CO2 1, CH4 fossil 29.8, CO2 uptake -1), per unit of reference product:

- US electricity: 1 kWh = 3.6 MJ emits 0.36 kg CO2 -> 0.1 kg CO2e/MJ; CN electricity 0.2.
- slag treatment (a waste-treatment process, located in US): 0.2 kg CO2 per kg; its 1 MJ
  electricity input has two producers (US, CN) and links to the US grid by the
  "same location" rule: slag 0.2 + 0.1 = 0.3.
- steel production, physical allocation 0.75 steel / 0.25 scrap, of: 10 MJ US electricity
  (1.0), 2 kg CO2 (2.0), 0.01 kg CH4 (0.298), 0.5 kg slag to treatment (0.15): 3.448 in all,
  so steel 0.75 x 3.448 = 2.586 and scrap 0.25 x 3.448 = 0.862 per kg.
- wood drying takes up 1.5 kg CO2 from air: -1.5.
- widget: 2 kg steel (5.172) + 0.5 kg scrap (0.431) - 1 MJ avoided US electricity (0.1);
  the lubricant has no producer and is cut off: 5.503.

With the slag treatment moved to DE (no producer there, no bundled default) its electricity
is cut off ("ambiguous: 2 producers"): slag 0.2, steel 0.75 x 3.398 = 2.5485, scrap
0.25 x 3.398 = 0.8495, widget 2 x 2.5485 + 0.5 x 0.8495 - 0.1 = 5.42175.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openpcf.errors import SingularSystemError
from openpcf.io.inventory import Exchange, Flow, Inventory, Process
from openpcf.io.jsonld import read_jsonld
from openpcf.io.link_defaults import LinkDefault
from openpcf.io.linking import (
    CO_PRODUCT,
    NO_PROVIDER,
    LinkRules,
    LinkRulesError,
    build_report,
    gas_intensity_matrix,
    link,
)
from openpcf.methods.gwp import characterisation_vector, gwp_set

SMALL = Path(__file__).parent / "fixtures" / "jsonld_small"
RTOL = 1e-12
EXPECTED = {
    ("electricity production, US grid", "electricity, medium voltage"): 0.1,
    ("electricity production, CN grid", "electricity, medium voltage"): 0.2,
    ("steel production, with scrap co-product", "steel, hot rolled"): 2.586,
    ("steel production, with scrap co-product", "steel scrap"): 0.862,
    ("slag treatment, landfill", "slag"): 0.3,
    ("wood drying, 森林", "wood, dried"): -1.5,
    ("widget assembly", "widget"): 5.503,
}
SLAG = "ee000000-0000-4000-8000-000000000004"


def footprints(
    rules: LinkRules | None = None, inventory: Inventory | None = None
) -> dict[tuple[str, str], float]:
    linked = link(inventory or read_jsonld(SMALL), rules)
    c = characterisation_vector(gwp_set("AR6"), linked.system.flows)
    h = gas_intensity_matrix(linked.system) @ c
    return {(col.name, col.product): float(v) for col, v in zip(linked.columns, h, strict=True)}


def test_footprints_by_hand():
    got = footprints()
    assert got.keys() == EXPECTED.keys()
    for key, value in EXPECTED.items():
        assert got[key] == pytest.approx(value, rel=RTOL), key


def test_prefer_location_rule_comes_before_same_location():
    """The user's ``prefer_locations: [CN]`` beats the slag's own location (US): slag
    0.2 + 0.2 = 0.4, steel 0.75 x (1.0 + 2.0 + 0.298 + 0.5 x 0.4) = 0.75 x 3.498 = 2.6235."""
    got = footprints(LinkRules(prefer_locations=("CN",)))
    assert got[("slag treatment, landfill", "slag")] == pytest.approx(0.4, rel=RTOL)
    assert got[("steel production, with scrap co-product", "steel, hot rolled")] == (
        pytest.approx(2.6235, rel=RTOL)
    )


def _slag_elsewhere() -> Inventory:
    inv = read_jsonld(SMALL)
    procs = tuple(replace(p, location="DE") if p.id == SLAG else p for p in inv.processes)
    return replace(inv, processes=procs)


def test_ambiguous_without_same_location_is_cut():
    """Slag in DE: its electricity is cut, the values of the module docstring's last
    paragraph (slag 0.2, steel 2.5485, scrap 0.8495, widget 5.42175)."""
    got = footprints(inventory=_slag_elsewhere())
    assert got[("slag treatment, landfill", "slag")] == pytest.approx(0.2, rel=RTOL)
    assert got[("steel production, with scrap co-product", "steel, hot rolled")] == (
        pytest.approx(2.5485, rel=RTOL)
    )
    assert got[("widget assembly", "widget")] == pytest.approx(5.42175, rel=RTOL)
    report = build_report(_slag_elsewhere(), link(_slag_elsewhere()))
    assert report["unlinked"]["ambiguous: 2 producers"]["count"] == 1


def test_bundled_default_links_what_location_cannot():
    """A default naming the CN grid for the electricity flow links the slag in DE: 0.2 + 0.2."""
    cn = "ee000000-0000-4000-8000-000000000002"
    electricity = "dd000000-0000-4000-8000-000000000001"
    default = LinkDefault(
        flow=electricity,
        flow_name="electricity, medium voltage",
        provider=cn,
        provider_name="electricity production, CN grid",
        reason="test",
        source="test",
    )
    linked = link(_slag_elsewhere(), defaults={electricity: default})
    assert linked.linked_by["bundled default"] == 1
    c = characterisation_vector(gwp_set("AR6"), linked.system.flows)
    h = gas_intensity_matrix(linked.system) @ c
    slag = next(j for j, col in enumerate(linked.columns) if col.id == SLAG)
    assert h[slag] == pytest.approx(0.4, rel=RTOL)
    # a default whose provider does not produce the flow is ignored: still ambiguous
    wrong = replace(default, provider="ee000000-0000-4000-8000-000000000006")
    assert "bundled default" not in link(_slag_elsewhere(), defaults={electricity: wrong}).linked_by


def test_provider_rule_from_yaml_and_csv(tmp_path: Path):
    cn = "ee000000-0000-4000-8000-000000000002"
    yaml_file = tmp_path / "rules.yaml"
    yaml_file.write_text(f"providers:\n  electricity, medium voltage: {cn}\n", encoding="utf-8")
    csv_file = tmp_path / "rules.csv"
    csv_file.write_text(f"flow,provider\ndd000000-0000-4000-8000-000000000001,{cn}\n", "utf-8")
    for path in (yaml_file, csv_file):
        got = footprints(LinkRules.from_file(path))
        # slag: 0.2 + 1 MJ CN electricity (0.2); the steel's default provider (US) still wins
        assert got[("slag treatment, landfill", "slag")] == pytest.approx(0.4, rel=RTOL)
        assert got[("steel production, with scrap co-product", "steel scrap")] == (
            pytest.approx(0.25 * (1.0 + 2.0 + 0.298 + 0.5 * 0.4), rel=RTOL)
        )


def test_bad_rules_file(tmp_path: Path):
    path = tmp_path / "rules.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LinkRulesError, match="flow,provider"):
        LinkRules.from_file(path)


def test_columns_and_matrix_shape():
    linked = link(read_jsonld(SMALL))
    assert linked.system.size == 7  # six processes, steel twice (steel and scrap)
    assert linked.system.flows[0] == "CO2-fossil"
    ids = [c.id for c in linked.columns]
    assert "ee000000-0000-4000-8000-000000000003" in ids
    assert "ee000000-0000-4000-8000-000000000003#dd000000-0000-4000-8000-000000000003" in ids
    assert len(set(ids)) == len(ids)


def test_report_lists_what_was_not_linked():
    inventory = read_jsonld(SMALL)
    report = build_report(inventory, link(inventory))
    assert report["counts"]["processes"] == 6
    assert report["counts"]["exchanges"] == 21
    assert report["counts"]["activities"] == 7
    assert "ambiguous: 2 producers" not in report["unlinked"]
    assert report["unlinked"][NO_PROVIDER]["examples"] == [
        "widget assembly <- lubricant (no producer in this database) (0.01 kg)"
    ]
    assert report["linked"] == {
        "default provider": 2,
        "same location": 1,
        "unique producer": 2,
        "unique producer (default provider absent)": 1,
    }
    assert {k: v["count"] for k, v in report["problems"].items()} == {
        "bad-reference": 1,
        "missing-flow": 1,
        "unknown-unit": 1,
    }
    assert report["elementary"]["unmapped_examples"] == ["Sulfur dioxide"]
    assert len(report["unit_conversions"]) == 3


# --- small systems built in code ------------------------------------------------------------

KG = "kg"


def _flows(*ids: str, gas: str | None = None) -> dict[str, Flow]:
    out = {i: Flow(id=i, name=i, kind="product", unit=KG) for i in ids}
    out["co2"] = Flow(id="co2", name="CO2", kind="elementary", unit=KG, gas="CO2-fossil")
    return out


def _proc(pid: str, *exchanges: Exchange, **kw: object) -> Process:
    return Process(id=pid, name=pid, exchanges=exchanges, **kw)  # type: ignore[arg-type]


def _inv(processes: tuple[Process, ...], flows: dict[str, Flow]) -> Inventory:
    return Inventory(format="jsonld", name="t", processes=processes, flows=flows)


def test_coproduct_without_allocation_is_cut_off():
    """p makes 1 a (reference) and 3 b with no allocation factors: all 5 kg CO2 stay on a."""
    inv = _inv(
        (
            _proc(
                "p",
                Exchange(flow="a", amount=1.0, is_input=False, is_reference=True),
                Exchange(flow="b", amount=3.0, is_input=False),
                Exchange(flow="co2", amount=5.0, is_input=False),
            ),
            _proc(
                "q",
                Exchange(flow="c", amount=1.0, is_input=False, is_reference=True),
                Exchange(flow="b", amount=1.0, is_input=True),
            ),
        ),
        _flows("a", "b", "c"),
    )
    linked = link(inv)
    assert [u.reason for u in linked.unlinked] == [CO_PRODUCT, NO_PROVIDER]
    lam = gas_intensity_matrix(linked.system)
    np.testing.assert_allclose(lam[:, 0], [5.0, 0.0], rtol=RTOL)


def test_singular_system_names_the_processes():
    """x makes 1 a from 1 b, y makes 1 b from 1 a: A = [[1, -1], [-1, 1]] is singular."""
    inv = _inv(
        (
            _proc(
                "x",
                Exchange(flow="a", amount=1.0, is_input=False, is_reference=True),
                Exchange(flow="b", amount=1.0, is_input=True),
                Exchange(flow="co2", amount=1.0, is_input=False),
            ),
            _proc(
                "y",
                Exchange(flow="b", amount=1.0, is_input=False, is_reference=True),
                Exchange(flow="a", amount=1.0, is_input=True),
            ),
        ),
        _flows("a", "b"),
    )
    with pytest.raises(SingularSystemError, match=r"'x'.*'y'"):
        gas_intensity_matrix(link(inv).system)


def test_process_without_reference_is_skipped():
    inv = _inv(
        (_proc("x", Exchange(flow="a", amount=1.0, is_input=False)),),
        _flows("a"),
    )
    linked = link(inv)
    assert linked.system.size == 0
    assert linked.skipped == {"x": "no usable quantitative reference"}


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(min_value=1e-3, max_value=1e3),
    use=st.floats(min_value=0.0, max_value=0.9),
    # subnormal amounts (5e-324) trip the core's residual check: reported, not tested here
    co2=st.just(0.0) | st.floats(min_value=1e-9, max_value=100.0),
)
def test_intensity_does_not_depend_on_how_a_process_is_written(
    scale: float, use: float, co2: float
):
    """Writing a process per ``scale`` units instead of per one leaves its intensity alone;
    with a self-loop of ``use`` per unit the intensity is ``co2 / (1 - use)``."""
    inv = _inv(
        (
            _proc(
                "x",
                Exchange(flow="a", amount=scale, is_input=False, is_reference=True),
                Exchange(flow="a", amount=use * scale, is_input=True),
                Exchange(flow="co2", amount=co2 * scale, is_input=False),
            ),
        ),
        _flows("a"),
    )
    lam = gas_intensity_matrix(link(inv).system)
    assert lam[0, 0] == pytest.approx(co2 / (1.0 - use), rel=1e-9, abs=1e-12)


def test_same_location_walks_up_and_skips_the_consumer_itself():
    """Coal made by a mine in ZY-GS-CN (which also takes in 0.1 kg of coal), a mine in GS-CN
    and one in CN. A plant in ZY-GS-CN links to the ZY-GS-CN mine; the ZY-GS-CN mine's own coal
    input does not link to itself but to the enclosing GS-CN mine."""

    def mine(pid: str, location: str, uses: float = 0.0) -> Process:
        own = (Exchange(flow="coal", amount=uses, is_input=True),) if uses else ()
        return Process(
            id=pid,
            name=pid,
            location=location,
            exchanges=(Exchange(flow="coal", amount=1.0, is_input=False, is_reference=True), *own),
        )

    plant = Process(
        id="plant",
        name="plant",
        location="ZY-GS-CN",
        exchanges=(
            Exchange(flow="power", amount=1.0, is_input=False, is_reference=True),
            Exchange(flow="coal", amount=2.0, is_input=True),
        ),
    )
    procs = (mine("zy", "ZY-GS-CN", 0.1), mine("gs", "GS-CN"), mine("cn", "CN"), plant)
    linked = link(
        Inventory(format="ilcd", name="t", processes=procs, flows=_flows("coal", "power"))
    )
    ids = [c.id for c in linked.columns]
    A = linked.system.A.toarray()
    assert A[ids.index("zy"), ids.index("plant")] == -2.0
    assert A[ids.index("gs"), ids.index("zy")] == -0.1
    assert linked.linked_by == {"same location": 2}
