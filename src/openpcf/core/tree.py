"""Supply-chain contribution tree with a cut-off.

A node is an amount of a product; its cumulative burden is ``amount · λ`` where ``λ`` is the
product's intensity from the transposed solve, so loops are accounted for exactly even though
the tree itself stops where a branch would revisit an activity already on its path. Children
whose absolute burden is below ``cutoff`` times the root's are merged into one "below
cut-off" node, so the tree always adds up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpcf.core.results import TreeNode


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A use of ``child`` by ``parent``: ``amount`` per unit of the parent's product."""

    kind: str  # "process" (expand further) or a leaf kind
    label: str
    child: int | None  # activity index for "process" edges
    amount: float
    unit: str
    intensity: float  # kg CO2e per unit of the child (leaf: per unit of amount)


def build_tree(
    *,
    root: int,
    amount: float,
    labels: Sequence[str],
    units: Sequence[str],
    intensity: Sequence[float],
    edges: Callable[[int], Sequence[Edge]],
    cutoff: float,
    max_depth: int = 12,
) -> TreeNode:
    """Expand activity ``root`` for ``amount`` units of its product."""
    total = amount * intensity[root]
    limit = abs(total) * cutoff

    def node(index: int, qty: float, path: tuple[int, ...]) -> TreeNode:
        co2e = qty * intensity[index]
        kids: list[TreeNode] = []
        if index not in path[:-1] and len(path) <= max_depth:
            kids = _children(index, qty, path)
        return TreeNode(
            label=labels[index],
            kind="process",
            amount=qty,
            unit=units[index],
            co2e=co2e,
            share=co2e / total if total else 0.0,
            children=tuple(kids),
        )

    def _children(index: int, qty: float, path: tuple[int, ...]) -> list[TreeNode]:
        kept: list[TreeNode] = []
        rest = 0.0
        for e in edges(index):
            q = e.amount * qty
            value = q * e.intensity
            if abs(value) < limit or value == 0.0:
                rest += value
                continue
            if e.kind == "process" and e.child is not None:
                kept.append(node(e.child, q, (*path, e.child)))
            else:
                kept.append(
                    TreeNode(
                        label=e.label,
                        kind=e.kind,
                        amount=q,
                        unit=e.unit,
                        co2e=value,
                        share=value / total if total else 0.0,
                    )
                )
        if rest:
            kept.append(
                TreeNode(
                    label="below cut-off",
                    kind="other",
                    amount=0.0,
                    unit="",
                    co2e=rest,
                    share=rest / total if total else 0.0,
                )
            )
        return sorted(kept, key=lambda n: -abs(n.co2e))

    return node(root, amount, (root,))
