"""Brightway-side preparation of USLCI for bw2io 0.9.17, shared by the cross-check test and
the bench.

What bw2io cannot take as exported and what these functions change (each change is counted and
returned, so callers can assert and report it) is described in
``tests/test_uslci_brightway.py``.
"""

from __future__ import annotations

import collections
import json
import zipfile
from pathlib import Path
from typing import Any

#: bw2data database name both the test and the bench use for USLCI
DB = "uslci"


def extract(zip_path: Path, tmp_path: Path) -> Path:
    """Unzip the JSON-LD export and return the folder that holds ``processes/``."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path / "jsonld")
    return next((tmp_path / "jsonld").rglob("processes")).parent


def prepare_for_bw2io(root: Path) -> dict[str, int]:
    """Rewrite the 1.x export into what bw2io reads (see the module docstring)."""
    counts: collections.Counter[str] = collections.Counter()
    cats = {}
    for f in (root / "categories").glob("*.json"):
        d = json.loads(f.read_text("utf-8"))
        cats[d["@id"]] = (d["name"], d.get("category", {}).get("@id"))

    def path(ref: dict[str, Any]) -> str:
        parts, parent = [ref["name"]], cats.get(ref["@id"], ("", None))[1]
        while parent:
            parts.append(cats[parent][0])
            parent = cats[parent][1]
        return "/".join(reversed(parts))

    for f in (root / "flows").glob("*.json"):
        d = json.loads(f.read_text("utf-8"))
        if isinstance(d.get("category"), dict):
            d["category"] = path(d["category"])
            f.write_text(json.dumps(d), encoding="utf-8")
    for f in (root / "processes").glob("*.json"):
        d = json.loads(f.read_text("utf-8"))
        counts["allocation factors dropped (processes)"] += bool(d.pop("allocationFactors", None))
        counts["parameter lists dropped (processes)"] += bool(d.pop("parameters", None))
        kept = []
        for e in d["exchanges"]:
            e["isInput"] = e["input"]
            coproduct = (
                e["flow"]["flowType"] == "PRODUCT_FLOW"
                and not e["input"]
                and not e.get("quantitativeReference")
            )
            counts["co-product outputs dropped"] += coproduct
            if not coproduct:
                kept.append(e)
        d["exchanges"] = kept
        f.write_text(json.dumps(d), encoding="utf-8")
    return dict(counts)


def make_solvable(data: list[dict[str, Any]]) -> dict[str, int]:
    """Cut the bw2io links bw2calc cannot solve; split products made by two processes."""
    counts: collections.Counter[str] = collections.Counter()
    acts = [a for a in data if a.get("type") == "process"]
    producers: dict[str, list[str]] = collections.defaultdict(list)
    for a in acts:
        before = len(a["exchanges"])
        a["exchanges"] = [e for e in a["exchanges"] if "input" in e]
        counts["waste outputs unlinked by bw2io, dropped"] += before - len(a["exchanges"])
        for e in a["exchanges"]:
            if e["type"] == "production":
                producers[e["input"][1]].append(a["code"])
    for a in acts:
        kept = []
        for e in a["exchanges"]:
            n = len(producers.get(e["input"][1], [])) if e["type"] == "technosphere" else 1
            if n == 0:
                counts["inputs of products nobody produces, cut"] += 1
            elif n > 1:
                counts["inputs of products two processes produce, cut"] += 1
            else:
                kept.append(e)
                continue
        a["exchanges"] = kept
    for a in acts:
        for e in a["exchanges"]:
            code = e["input"][1]
            if e["type"] == "production" and producers[code][0] != a["code"]:
                new = f"{code}.{a['code']}"
                data.append(
                    {"code": new, "name": a["name"], "type": "product", "database": DB,
                     "unit": a.get("unit", ""), "location": None, "exchanges": []}
                )  # fmt: skip
                e["input"] = (DB, new)
                counts["product nodes split (second producer)"] += 1
    used = {e["input"][1] for a in acts for e in a["exchanges"] if e["type"] != "biosphere"}
    data[:] = [d for d in data if d.get("type") != "product" or d["code"] in used]
    return dict(counts)
