"""Cross-check on USLCI: OpenPCF's all-process footprints equal Brightway's (bw2io + bw2calc).

Both sides read the same openLCA JSON-LD export and characterise with the same AR6 GWP100
factors: the bw2data method is built from OpenPCF's elementary-flow mapping (flow UUID -> gas
-> GWP), so any difference comes from reading, unit conversion, linking or solving.

What bw2io 0.9.17 cannot take as exported, and what this test changes on the Brightway side
(each change is counted and asserted, none is hidden):

- *schema 1.x*: bw2io reads ``isInput`` and category paths (2.x); USLCI is 1.x (``input``,
  category references). We add ``isInput`` and write category paths.
- *allocation factors / parameters*: 40 processes carry factors bw2io cannot use (no
  ``defaultAllocationMethod``, causal factors without a product) and 24 carry parameter lists
  it cannot read. Both are dropped; OpenPCF applies none of these factors either (they do not
  cover every product output) and both sides use the exported amounts.
- *co-products without allocation*: bw2io refuses a process with two product outputs and no
  allocation ("Failed allocation"). The co-product outputs are dropped, which is what OpenPCF
  does ("co-product without allocation factors").
- *unsolvable links*: bw2io links every input to a product node by flow UUID, including
  products nobody produces (USLCI's ``CUTOFF`` flows), products two processes produce, and
  waste outputs with no treatment (left unlinked). bw2calc cannot solve such a non-square
  system, so these inputs are cut, as OpenPCF cuts them ("no provider", "ambiguous").

Semantic difference kept (listed, and the processes it reaches are not compared): an
elementary *input* of an emission flow (USLCI's PLA resin takes in "Carbon dioxide, biogenic"
from air). openLCA and OpenPCF count an input negative; Brightway counts every biosphere
exchange as written, positive.

Precision: bw2data stores exchange amounts as float32 (bw_processing ``loc``), e.g. 1.84 ->
1.840000033. Where a footprint is a small difference of large biogenic terms (wood combustion:
+1.83 kg biogenic CO2, -1.84 kg uptake) that rounding exceeds 1e-6 of the net result, so the
comparison is ``|Δ| <= 1e-6 (|h| + Σ_g |h_g|) + 1e-12``: rtol 1e-6 of the gross per-gas
footprint, and an absolute floor for footprints that are zero up to round-off.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from bench.brightway_uslci import DB, extract, make_solvable, prepare_for_bw2io
from scipy.sparse.csgraph import breadth_first_order

from openpcf.io.inventory import Inventory
from openpcf.io.jsonld import read_jsonld
from openpcf.io.linking import LinkedDatabase, gas_intensity_matrix, link
from openpcf.methods.gwp import characterisation_vector, gwp_set

USLCI = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "uslci-olca1.5-json-ld-9182448.zip"
)
RTOL = 1e-6
#: kg CO2e per unit: below this both sides are zero up to round-off (1e-15 against 0.0)
ATOL = 1e-12

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not USLCI.is_file(), reason=f"{USLCI} not present"),
    pytest.mark.skipif(importlib.util.find_spec("bw2io") is None, reason="bw2io not installed"),
    # bw2io/bw2data emit third-party deprecation and user warnings on import and write
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


# --- the Brightway side ---------------------------------------------------------------------


def _brightway(tmp_path: Path, inventory: Inventory, monkeypatch: pytest.MonkeyPatch) -> Any:
    bwdir = tmp_path / "brightway"
    bwdir.mkdir()
    monkeypatch.setenv("BRIGHTWAY2_DIR", str(bwdir))
    import bw2calc as bc
    import bw2data as bd
    from bw2io.importers.json_ld import JSONLDImporter

    bd.projects.change_base_directories(bwdir, project_name="openpcf-crosscheck")
    root = extract(USLCI, tmp_path)
    changes = prepare_for_bw2io(root)
    importer = JSONLDImporter(root, DB)
    importer.apply_strategies()
    changes.update(make_solvable(importer.data))
    importer.merge_biosphere_flows()
    importer.write_database()
    gwp = gwp_set("AR6").values
    method = bd.Method(("openpcf", "AR6"))
    method.register()
    ghg = [f for f in inventory.flows.values() if f.kind == "elementary" and f.gas]
    method.write([((DB, f.id), gwp[str(f.gas)]) for f in ghg])
    processes = [a for a in bd.Database(DB) if a["type"] == "process"]
    reference = {a["code"]: next(iter(a.production())).input.id for a in processes}
    links = {
        (a["code"], e.input["code"].split(".")[0]) for a in processes for e in a.technosphere()
    }
    first = next(iter(reference.values()))
    fu, objs, remap = bd.prepare_lca_inputs(demand={first: 1}, method=("openpcf", "AR6"))
    lca = bc.LCA(fu, data_objs=objs, remapping_dicts=remap)
    lca.lci(factorize=True)
    lca.lcia()
    scores = {}
    for code, product in reference.items():
        lca.redo_lcia({product: 1})
        scores[code] = float(lca.score)
    producer = {}
    for a in processes:
        for e in a.production():
            producer[e.input["code"]] = a["code"]
    bw_links = {
        (consumer, producer[flow])
        for consumer, flow in links
        if flow in producer and producer[flow] != consumer  # self-use is on the diagonal
    }
    return scores, bw_links, changes


# --- the OpenPCF side -----------------------------------------------------------------------


def _openpcf_links(linked: LinkedDatabase) -> set[tuple[str, str]]:
    A = sp.coo_array(linked.system.A)
    cols = linked.columns
    return {
        (cols[j].process_id, cols[i].process_id)
        for i, j in zip(A.row, A.col, strict=True)
        if i != j
    }


def _reached_from(linked: LinkedDatabase, sources: set[str]) -> set[str]:
    """Processes whose supply chain contains one of ``sources`` (and the sources)."""
    graph = sp.csr_array(linked.system.A != 0)  # edge provider i -> consumer j
    index = {c.process_id: j for j, c in enumerate(linked.columns)}
    reached: set[str] = set()
    for s in sources:
        order = breadth_first_order(graph, index[s], directed=True, return_predecessors=False)
        reached |= {linked.columns[int(j)].process_id for j in order}
    return reached


def test_uslci_footprints_equal_brightway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    inventory = read_jsonld(USLCI)
    # without the bundled defaults: Brightway cuts the 135 ambiguous inputs, so OpenPCF must too
    # (with them, 134 "Diesel, at refinery" inputs link to "Petroleum refining, at refinery")
    linked = link(inventory, defaults={})
    lam = gas_intensity_matrix(linked.system)
    c = characterisation_vector(gwp_set("AR6"), linked.system.flows)
    ours = dict(zip([col.process_id for col in linked.columns], lam @ c, strict=True))
    gross = dict(
        zip([col.process_id for col in linked.columns], np.abs(lam * c).sum(axis=1), strict=True)
    )
    scores, bw_links, changes = _brightway(tmp_path, inventory, monkeypatch)

    # 1. what had to change on the Brightway side, counted
    assert changes == {
        "allocation factors dropped (processes)": 40,
        "parameter lists dropped (processes)": 24,
        "co-product outputs dropped": 256,
        "waste outputs unlinked by bw2io, dropped": 74,
        "inputs of products nobody produces, cut": 2755,
        "inputs of products two processes produce, cut": 135,
        "product nodes split (second producer)": 2,
    }
    # 2. every remaining link is the same (consumer process -> provider process)
    assert bw_links == _openpcf_links(linked)
    # 3. the semantic difference: elementary inputs of emission flows
    signed = {
        p.id
        for p in inventory.processes
        for e in p.exchanges
        if (f := inventory.flows[e.flow]).gas and e.is_input != (f.gas == "CO2-uptake")
    }
    assert {p.name for p in inventory.processes if p.id in signed} == {
        "Polylactide Biopolymer Resin, at plant"
    }
    excluded = _reached_from(linked, signed)
    compared = [k for k in scores if k not in excluded]
    assert len(scores) == 766
    assert len(compared) == 766 - len(excluded)
    diff = {k: abs(ours[k] - scores[k]) for k in scores}
    bad = [k for k in compared if diff[k] > RTOL * (abs(scores[k]) + gross[k]) + ATOL]
    assert bad == []
    # the excluded processes really differ, by the sign of the biogenic CO2 input
    assert all(diff[k] > RTOL * gross[k] for k in signed)
    net_rel = max(diff[k] / abs(scores[k]) for k in compared if abs(scores[k]) > ATOL)
    strict = sum(diff[k] <= RTOL * abs(scores[k]) + ATOL for k in compared)
    assert strict >= len(compared) - 2  # the two wood-combustion cancellations
    print(
        f"\nUSLCI cross-check: {len(compared)} of {len(scores)} processes compared, "
        f"{strict} within rtol {RTOL:g} of the net footprint, max |Δ|/|h| = {net_rel:.2e}; "
        f"excluded (elementary-input sign): {len(excluded)}; Brightway-side changes: {changes}"
    )
