"""Supply-chain contribution tree with a cut-off and bounds on its size.

A node is an amount of a product; its cumulative burden is ``amount · λ`` where ``λ`` is the
product's intensity from the transposed solve (``Aᵀ λ = Bᵀ c``), so loops are accounted for
exactly even though the tree itself is finite: for any activity ``j``,
``λ_j = e_j + Σ_i a_ij λ_i`` (``e_j`` its direct emissions, ``a_ij`` what one unit of it draws
on of ``i``), so a node's children always add up to the node. Children whose absolute burden
is below ``cutoff`` times the root's are merged into one "below cut-off" node.

Bounds (the graph traversal of Brightway's ``GraphTraversal`` and openLCA's contribution tree):

- **depth**: a node deeper than ``max_depth`` is a leaf carrying its cumulative burden;
- **loops**: an activity already on the path from the root is expanded again at most
  ``loop_expansions`` times; the last visit is a leaf carrying the rest of the loop's
  geometric series (``λ`` already sums it);
- **node budget**: at most ``max_nodes`` nodes. Nodes are expanded best first (largest
  ``|kg CO2e|`` first), so a budget keeps the branches that matter; a node whose children no
  longer fit keeps the largest and folds the rest into one "other (not expanded)" node
  (``kind="truncated"``), and a node reached after the budget is spent stays a leaf.

Every bound keeps the tree adding up: a leaf carries its whole cumulative burden. When no
bound applies the tree is exactly the one of a depth-first expansion (each node's children
depend only on the node and its path), so small models' trees do not depend on the budget.

Design note: the budget was added when a linked USLCI model at ``cutoff_percent: 0`` produced
a 256 MB tree in 85 s (every path of a looped database down to depth 12), too big for a
package member (256 MiB). Bounded, 10 MJ of USLCI's "Electricity, at Grid, US, 2010" gives
9 999 nodes, 2.3 MB of compact JSON (5.5 MB indented) and ``openpcf calc -f json`` takes 2.6 s
in all.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from openpcf.core.results import TreeNode

#: The most nodes of a contribution tree (root and aggregate nodes included). About 230 bytes
#: of compact JSON a node on USLCI (long names), so a full tree is about 2.3 MB.
MAX_TREE_NODES = 10_000
#: The deepest level expanded (the root is level 0); deeper nodes are leaves.
MAX_TREE_DEPTH = 12
#: How many times an activity already on a branch's path is expanded again (0: a loop is
#: shown once, its return to the activity is a leaf with the loop's cumulative burden).
LOOP_EXPANSIONS = 0
#: The label and kind of the node that aggregates the children a node budget left out.
NOT_EXPANDED = "other (not expanded)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A use of ``child`` by ``parent``: ``amount`` per unit of the parent's product."""

    kind: str  # "process" (expand further) or a leaf kind
    label: str
    child: int | None  # activity index for "process" edges
    amount: float
    unit: str
    intensity: float  # kg CO2e per unit of the child (leaf: per unit of amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeLimits:
    """The bounds of a contribution tree (module docstring)."""

    max_nodes: int = MAX_TREE_NODES
    max_depth: int = MAX_TREE_DEPTH
    loop_expansions: int = LOOP_EXPANSIONS

    def __post_init__(self) -> None:
        if self.max_nodes < 1 or self.max_depth < 0 or self.loop_expansions < 0:
            raise ValueError(f"tree limits must be positive: {self}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeBounds:
    """What the bounds cut from a tree: ``aggregated`` inputs folded into ``other_nodes``
    "other (not expanded)" nodes, ``unexpanded`` process leaves the budget left unexpanded,
    ``at_depth`` and ``at_loop`` process leaves the depth and loop limits made."""

    nodes: int
    limits: TreeLimits
    aggregated: int = 0
    other_nodes: int = 0
    unexpanded: int = 0
    at_depth: int = 0
    at_loop: int = 0

    @property
    def budget_reached(self) -> bool:
        return self.aggregated > 0 or self.unexpanded > 0

    def note(self) -> str | None:
        """One sentence for the result's notes when the node budget cut the tree, else None."""
        if not self.budget_reached:
            return None
        return (
            f"contribution tree bounded by its node budget of {self.limits.max_nodes} nodes: "
            f"{self.aggregated} inputs were folded into {self.other_nodes} "
            f"'{NOT_EXPANDED}' nodes and {self.unexpanded} processes were left unexpanded; "
            f"branches stop at depth {self.limits.max_depth} ({self.at_depth} leaves) and a "
            f"loop is expanded {self.limits.loop_expansions} more times ({self.at_loop} "
            "leaves). Every leaf carries its whole cumulative burden, so the tree still adds up"
        )


@dataclass(slots=True, kw_only=True)
class _Draft:
    """A node under construction (mutable while the best-first expansion runs)."""

    label: str
    kind: str
    amount: float
    unit: str
    co2e: float
    index: int | None = None
    path: tuple[int, ...] = ()
    children: list[_Draft] = field(default_factory=list)


def build_tree(
    *,
    root: int,
    amount: float,
    labels: Sequence[str],
    units: Sequence[str],
    intensity: Sequence[float],
    edges: Callable[[int], Sequence[Edge]],
    cutoff: float,
    limits: TreeLimits | None = None,
) -> TreeNode:
    """Expand activity ``root`` for ``amount`` units of its product within ``limits``."""
    return build_bounded_tree(
        root=root,
        amount=amount,
        labels=labels,
        units=units,
        intensity=intensity,
        edges=edges,
        cutoff=cutoff,
        limits=limits,
    )[0]


def build_bounded_tree(
    *,
    root: int,
    amount: float,
    labels: Sequence[str],
    units: Sequence[str],
    intensity: Sequence[float],
    edges: Callable[[int], Sequence[Edge]],
    cutoff: float,
    limits: TreeLimits | None = None,
) -> tuple[TreeNode, TreeBounds]:
    """:func:`build_tree` and what its bounds cut (:class:`TreeBounds`)."""
    lim = limits or TreeLimits()
    total = amount * intensity[root]
    threshold = abs(total) * cutoff
    stats = {"nodes": 1, "aggregated": 0, "other_nodes": 0, "unexpanded": 0}
    stats |= {"at_depth": 0, "at_loop": 0}

    def process(index: int, qty: float, path: tuple[int, ...]) -> _Draft:
        return _Draft(
            label=labels[index],
            kind="process",
            amount=qty,
            unit=units[index],
            co2e=qty * intensity[index],
            index=index,
            path=path,
        )

    def leaf(label: str, kind: str, qty: float, unit: str, value: float) -> _Draft:
        return _Draft(label=label, kind=kind, amount=qty, unit=unit, co2e=value)

    def children(d: _Draft) -> list[_Draft]:
        assert d.index is not None
        kept: list[_Draft] = []
        rest = 0.0
        for e in edges(d.index):
            q = e.amount * d.amount
            value = q * e.intensity
            if abs(value) < threshold or value == 0.0:
                rest += value
            elif e.kind == "process" and e.child is not None:
                kept.append(process(e.child, q, (*d.path, e.child)))
            else:
                kept.append(leaf(e.label, e.kind, q, e.unit, value))
        if rest:
            kept.append(leaf("below cut-off", "other", 0.0, "", rest))
        return sorted(kept, key=lambda n: -abs(n.co2e))

    top = process(root, amount, (root,))
    heap: list[tuple[float, int, _Draft]] = [(-abs(top.co2e), 0, top)]
    order = 1
    while heap:
        d = heapq.heappop(heap)[2]
        assert d.index is not None
        if d.path[:-1].count(d.index) > lim.loop_expansions:
            stats["at_loop"] += 1
            continue
        if len(d.path) > lim.max_depth:
            stats["at_depth"] += 1
            continue
        room = lim.max_nodes - stats["nodes"]
        if room < 2:  # no room for a child and the aggregate of the others
            stats["unexpanded"] += 1
            continue
        kids = children(d)
        if len(kids) > room:
            folded = kids[room - 1 :]
            value = sum(k.co2e for k in folded)
            kids = kids[: room - 1]
            label = f"{NOT_EXPANDED}: {len(folded)} inputs, node budget {lim.max_nodes}"
            kids.append(leaf(label, "truncated", 0.0, "", value))
            stats["aggregated"] += len(folded)
            stats["other_nodes"] += 1
            kids.sort(key=lambda n: -abs(n.co2e))
        d.children = kids
        stats["nodes"] += len(kids)
        for k in kids:
            if k.index is not None:
                heapq.heappush(heap, (-abs(k.co2e), order, k))
                order += 1
    return _freeze(top, total), TreeBounds(limits=lim, **stats)


def _freeze(d: _Draft, total: float) -> TreeNode:
    """The frozen tree (iterative post-order: a bounded tree may still be deep)."""
    done: dict[int, TreeNode] = {}
    stack: list[tuple[_Draft, bool]] = [(d, False)]
    while stack:
        node, ready = stack.pop()
        if not ready:
            stack.append((node, True))
            stack.extend((c, False) for c in node.children)
            continue
        done[id(node)] = TreeNode(
            label=node.label,
            kind=node.kind,
            amount=node.amount,
            unit=node.unit,
            co2e=node.co2e,
            share=node.co2e / total if total else 0.0,
            children=tuple(done.pop(id(c)) for c in node.children),
        )
    return done[id(d)]
