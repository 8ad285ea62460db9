"""Bounded contribution trees (``core/tree.py``): loops expanded a bounded number of times, a
depth limit and a node budget, each keeping the tree adding up to the total.

The looped 3-process system, worked by hand. Per unit of its product:

- ``root`` emits 1 kg CO2e and uses 0.5 of ``a``;
- ``a`` emits 1 kg CO2e and uses 0.4 of ``b``;
- ``b`` emits 2 kg CO2e and uses 0.5 of ``a`` (the loop a -> b -> a).

The intensities ``λ = e + Zᵀ λ``: ``λ_a = 1 + 0.4 λ_b``, ``λ_b = 2 + 0.5 λ_a``, so
``λ_a = 1 + 0.8 + 0.2 λ_a = 2.25``, ``λ_b = 2 + 1.125 = 3.125`` and
``λ_root = 1 + 0.5 × 2.25 = 2.125``.

In the tree, each trip round the loop carries ``0.4 × 0.5 = 0.2`` times the previous one:
``a`` is reached with 0.5, 0.1, 0.02 … units, worth ``1.125 × 0.2ⁿ`` kg CO2e, and its direct
emissions down the branch are the geometric series ``0.5 (1 + 0.2 + 0.04 + …) = 0.625``, those
of ``b`` ``0.4 (1 + 0.2 + …) = 0.5``: together 1.125, the branch's total. Expanded ``k`` more
times, the loop shows ``k + 2`` visits of ``a``, the last a leaf worth ``1.125 × 0.2^(k+1)``,
the rest of the series.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openpcf.core.results import TreeNode
from openpcf.core.tree import (
    MAX_TREE_DEPTH,
    MAX_TREE_NODES,
    NOT_EXPANDED,
    Edge,
    TreeLimits,
    build_bounded_tree,
)

LAMBDA = [2.125, 2.25, 3.125]  # root, a, b (module docstring)
USES = {0: [(1, 0.5)], 1: [(2, 0.4)], 2: [(1, 0.5)]}
DIRECT = [1.0, 1.0, 2.0]


def loop_edges(j: int) -> list[Edge]:
    out = [
        Edge(kind="process", label="", child=i, amount=a, unit="kg", intensity=LAMBDA[i])
        for i, a in USES[j]
    ]
    return [
        *out,
        Edge(kind="emission", label="direct", child=None, amount=1, unit="", intensity=DIRECT[j]),
    ]


def loop_tree(limits: TreeLimits) -> TreeNode:
    return build_bounded_tree(
        root=0,
        amount=1.0,
        labels=["root", "a", "b"],
        units=["kg"] * 3,
        intensity=LAMBDA,
        edges=loop_edges,
        cutoff=0.0,
        limits=limits,
    )[0]


def leaves(node: TreeNode) -> list[TreeNode]:
    return [n for _, n in node.walk() if not n.children]


def assert_adds_up(node: TreeNode, rtol: float = 1e-12) -> None:
    """Every node's children sum to the node (leaves carry their cumulative burden)."""
    for _, n in node.walk():
        if n.children:
            total = sum(c.co2e for c in n.children)
            np.testing.assert_allclose(total, n.co2e, rtol=rtol, atol=1e-12 * abs(n.co2e))


def test_intensities_solve_the_loop() -> None:
    """The hand-worked λ satisfy ``λ = e + Zᵀ λ``."""
    for j, lam in enumerate(LAMBDA):
        assert lam == pytest.approx(DIRECT[j] + sum(a * LAMBDA[i] for i, a in USES[j]))


@pytest.mark.parametrize("k", [0, 1, 2, 4])
def test_loop_expanded_k_times_is_the_geometric_series(k: int) -> None:
    """``a`` appears ``k + 2`` times; the last visit is a leaf worth ``1.125 × 0.2^(k+1)``;
    the tree's leaves add up to 2.125 (module docstring)."""
    tree = loop_tree(TreeLimits(loop_expansions=k))
    np.testing.assert_allclose(tree.co2e, 2.125, rtol=1e-15)
    visits = [n for _, n in tree.walk() if n.label == "a"]
    assert len(visits) == k + 2
    np.testing.assert_allclose(
        [n.co2e for n in visits], [1.125 * 0.2**n for n in range(k + 2)], rtol=1e-12
    )
    assert not visits[-1].children
    np.testing.assert_allclose(sum(n.co2e for n in leaves(tree)), 2.125, rtol=1e-12)
    assert_adds_up(tree)


def test_budget_folds_the_smallest_children_into_other() -> None:
    """A root drawing on four factors worth 4, 3, 2 and 1 kg CO2e (total 10) with room for 3
    nodes keeps the largest (4) and folds the other three (6) into "other (not expanded)":
    children + other = 10 exactly."""
    values = [4.0, 3.0, 2.0, 1.0]
    tree, bounds = build_bounded_tree(
        root=0,
        amount=1.0,
        labels=["root"],
        units=["kg"],
        intensity=[10.0],
        edges=lambda j: [
            Edge(kind="factor", label=f"f{v:g}", child=None, amount=1, unit="kg", intensity=v)
            for v in values
        ],
        cutoff=0.0,
        limits=TreeLimits(max_nodes=3),
    )
    assert [(c.label, c.kind, c.co2e) for c in tree.children] == [
        (f"{NOT_EXPANDED}: 3 inputs, node budget 3", "truncated", 6.0),
        ("f4", "factor", 4.0),
    ]
    assert sum(c.co2e for c in tree.children) == tree.co2e == 10.0
    assert len(tree.walk()) == 3
    assert (bounds.aggregated, bounds.other_nodes, bounds.unexpanded) == (3, 1, 0)
    note = bounds.note()
    assert note is not None
    assert "node budget of 3 nodes" in note


def test_depth_limit_makes_leaves_that_carry_the_rest() -> None:
    """At depth 1 the root's children are leaves: ``a`` (1.125) and direct (1.0)."""
    tree, bounds = build_bounded_tree(
        root=0,
        amount=1.0,
        labels=["root", "a", "b"],
        units=["kg"] * 3,
        intensity=LAMBDA,
        edges=loop_edges,
        cutoff=0.0,
        limits=TreeLimits(max_depth=1, loop_expansions=9),
    )
    assert len(tree.walk()) == 3
    assert bounds.at_depth == 1
    assert bounds.note() is None
    assert_adds_up(tree)


def looped_database(n: int, seed: int) -> tuple[list[float], list[list[Edge]]]:
    """A random database of ``n`` activities, each drawing on 6 others (loops everywhere):
    ``Z`` with column sums 0.6 (so ``I - Z`` is invertible), direct emissions in [0, 1)."""
    rng = np.random.default_rng(seed)
    Z = np.zeros((n, n))
    for j in range(n):
        rows = rng.choice(n, size=6, replace=False)
        Z[rows, j] = rng.dirichlet(np.ones(6)) * 0.6
    e = rng.random(n)
    lam = np.linalg.solve((np.eye(n) - Z).T, e)
    edges = [
        [
            Edge(kind="process", label="", child=int(i), amount=float(Z[i, j]), unit="kg",
                 intensity=float(lam[i]))
            for i in np.flatnonzero(Z[:, j])
        ]
        + [Edge(kind="emission", label="direct", child=None, amount=1.0, unit="",
                intensity=float(e[j]))]
        for j in range(n)
    ]  # fmt: skip
    return [float(x) for x in lam], edges


@pytest.mark.parametrize("budget", [2, 50, 1000])
def test_node_budget_respected_on_a_looped_database(budget: int) -> None:
    """Cut-off 0 on a looped database (the USLCI blow-up in miniature: 6 inputs a level,
    depth 12, would be about 6¹² paths): the tree has at most ``budget`` nodes and still adds
    up at every node to 1e-12 relative."""
    lam, edges = looped_database(60, seed=7)
    tree, bounds = build_bounded_tree(
        root=0,
        amount=2.0,
        labels=[f"p{i}" for i in range(60)],
        units=["kg"] * 60,
        intensity=lam,
        edges=lambda j: edges[j],
        cutoff=0.0,
        limits=TreeLimits(max_nodes=budget, loop_expansions=2),
    )
    assert len(tree.walk()) == bounds.nodes <= budget
    assert bounds.budget_reached
    np.testing.assert_allclose(tree.co2e, 2.0 * lam[0], rtol=1e-15)
    np.testing.assert_allclose(sum(n.co2e for n in leaves(tree)), tree.co2e, rtol=1e-12)
    assert_adds_up(tree)
    folded = [n for _, n in tree.walk() if n.kind == "truncated"]
    assert len(folded) == bounds.other_nodes


def test_defaults_are_documented_constants() -> None:
    assert TreeLimits() == TreeLimits(max_nodes=MAX_TREE_NODES, max_depth=MAX_TREE_DEPTH)
    with pytest.raises(ValueError, match="tree limits"):
        TreeLimits(max_nodes=0)


LINKED_MODEL = """\
openpcf: 1
product:
  name: Widget
  ids: [urn:openpcf:product:widget]
  declared_unit: piece
  mass_per_declared_unit: 1
  reference_period: {start: 2024-01-01, end: 2024-12-31}
boundary: cradle-to-gate
reference_process: boxing
cutoff_percent: 0
background_linking: linked
processes:
  - id: boxing
    name: Boxing
    stage: production
    output: {product: widget, amount: 1, unit: piece}
    inputs:
      - {background: "small:widget assembly", amount: 1, unit: kg}
"""


def test_linked_result_states_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the calculation: a linked model at cut-off 0 with a budget of 4 nodes has 4,
    its notes and JSON say so, and the web tree reads the aggregate node; the total is
    ``jsonld_small``'s 5.503 kg CO2e (``tests/test_linked_background.py``)."""
    from openpcf.io.store import DatabaseStore
    from openpcf.model.result import solve_compiled
    from openpcf.model.result_json import result_to_dict
    from openpcf.services.calculate import calculate
    from openpcf.services.databases import import_database
    from openpcf.services.web_analysis import contribution_tree
    from openpcf.settings import get_settings

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        settings = get_settings()
        fixtures = Path(__file__).parent / "fixtures"
        store = DatabaseStore(settings.databases_dir)
        import_database("jsonld", fixtures / "jsonld_small", name="small", store=store)
        path = tmp_path / "model.yaml"
        path.write_text(LINKED_MODEL, encoding="utf-8")
        full = calculate(path, settings=settings).result
        assert full.total == pytest.approx(5.503, rel=1e-9)
        assert not any("node budget" in n for n in full.notes)
        compiled = calculate(path, settings=settings).compiled
        bounded = solve_compiled(compiled, tree_limits=TreeLimits(max_nodes=4))
    finally:
        get_settings.cache_clear()
    assert len(bounded.tree.walk()) == 4
    assert bounded.total == full.total
    assert any("node budget of 4 nodes" in n for n in bounded.notes)
    data = result_to_dict(bounded)
    view = contribution_tree(data["contribution_tree"], unit="kg CO2e")
    assert view is not None
    assert any(r.kind == "truncated" and NOT_EXPANDED in r.path[-1] for r in view.rows)
    assert_adds_up(bounded.tree)
