"""The purchased inputs of a product model: what a data request asks a supplier about.

A purchased input is an input of a kind in :data:`~openpcf.model.schema.PURCHASED_KINDS`
(``factor:``, ``background:`` or ``supplier_footprint:``). Each is named by its exchange key
(``process/source[#n]``, as the compiler names exchanges: :attr:`Entry.key
<openpcf.model.compiler.Entry.key>`), which is how a request, and the supplier figure it
brings back, finds its input again in a later version of the model file. Inputs whose
``supplier:`` is not given are listed apart: nobody can be asked for them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpcf.model import parameters
from openpcf.model.compiler import CompiledModel, _exchange_key
from openpcf.model.schema import PURCHASED_KINDS

#: What the listing says of a purchased input without ``supplier:``.
NO_SUPPLIER = "no supplier named: add supplier: to the input"


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchasedInput:
    """One purchased input of a model, as a request names it."""

    process_id: str
    input_key: str
    kind: str  # factor | background | supplier_footprint
    material: str  # the factor id, background reference or supplier reference as written
    material_name: str  # the factor row's name (a readable name of the material)
    amount: float  # as written (a parameter expression evaluated), per the process's output
    unit: str  # as written
    supplier: str | None
    where: str  # file:line of the input

    def to_dict(self) -> dict[str, object]:
        return {
            "process": self.process_id,
            "input_key": self.input_key,
            "kind": self.kind,
            "material": self.material,
            "material_name": self.material_name,
            "amount": self.amount,
            "unit": self.unit,
            "supplier": self.supplier,
            "where": self.where,
        }


def purchased_inputs(compiled: CompiledModel) -> list[PurchasedInput]:
    """Every purchased input of ``compiled``, in model order.

    The readable name is the name of the factor row the input compiled to (the factor's
    ``name``, the background process's name, the supplier footprint's product).
    """
    names = _row_names(compiled)
    loaded = compiled.loaded
    out: list[PurchasedInput] = []
    for i, p in enumerate(compiled.model.processes):
        for k, inp in enumerate(p.inputs):
            if inp.kind not in PURCHASED_KINDS:
                continue
            key = _exchange_key(p, k, "inputs")
            where = loaded.where("processes", i, "inputs", k)
            material = str(getattr(inp, inp.kind))
            amount = parameters.evaluate(
                inp.amount, dict(compiled.parameters), where=f"{where}: process {p.id!r}"
            )
            out.append(
                PurchasedInput(
                    process_id=p.id,
                    input_key=key,
                    kind=inp.kind,
                    material=material,
                    material_name=names.get(key, material),
                    amount=amount,
                    unit=inp.unit,
                    supplier=inp.supplier,
                    where=where,
                )
            )
    return out


def _row_names(compiled: CompiledModel) -> dict[str, str]:
    """Exchange key → the name of the factor row of its first entry (the input's own row:
    the compiler adds an input's entry before those of its ``recycled:`` terms)."""
    names: dict[str, str] = {}
    for e in compiled.entries:
        if e.kind in PURCHASED_KINDS and e.key not in names:
            names[e.key] = compiled.factors[e.row].name or e.label
    return names


def with_supplier(inputs: Iterable[PurchasedInput]) -> list[PurchasedInput]:
    """The inputs a request can be sent for (``supplier:`` given)."""
    return [x for x in inputs if x.supplier]


def without_supplier(inputs: Iterable[PurchasedInput]) -> list[PurchasedInput]:
    """The inputs nobody can be asked for (no ``supplier:``)."""
    return [x for x in inputs if not x.supplier]


def by_supplier(inputs: Sequence[PurchasedInput]) -> dict[tuple[str, str], list[PurchasedInput]]:
    """The inputs with a supplier, grouped per supplier and material (the same material
    bought from one supplier for two processes is one group of two inputs, two requests)."""
    groups: dict[tuple[str, str], list[PurchasedInput]] = {}
    for x in with_supplier(inputs):
        assert x.supplier is not None
        groups.setdefault((x.supplier, x.material), []).append(x)
    return groups


def slug(text: str, *, limit: int = 60) -> str:
    """``text`` as a file-name part: ASCII letters, digits and ``-`` only (``supplier`` when
    nothing is left, e.g. a name in Chinese characters only).

    >>> slug("Baosteel Example Co., Ltd.")
    'baosteel-example-co-ltd'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return out or "supplier"
