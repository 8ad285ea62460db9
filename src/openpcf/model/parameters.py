"""Named parameters with arithmetic expressions, evaluated safely.

Expressions are parsed with :mod:`ast` and evaluated by walking the tree: numbers, names of
other parameters, ``+ - * / // % **``, unary minus, parentheses and a few functions
(``min, max, abs, round, sqrt, exp, log``). Nothing else is accepted, and nothing is ever
passed to ``eval``. Parameters may refer to each other in any order; a cycle is an error that
names it.

An expression is at most :data:`MAX_LENGTH` characters and :data:`MAX_DEPTH` levels deep
(issue 11, item 6): Python's parser ran out of memory on 100,000 unary minus signs (a
``MemoryError`` traceback), and the evaluator recurses once per level.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Any

from openpcf.errors import ParameterError

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
}

Value = float | int | str

#: Longest expression accepted, in characters (real ones are a few dozen).
MAX_LENGTH = 1000
#: Deepest expression tree accepted (``-(-(-x))`` is 4 levels).
MAX_DEPTH = 50


def parse(expression: str, *, where: str) -> ast.expr:
    """Parse ``expression`` or raise :class:`ParameterError` pointing at the column.

    Expressions longer than :data:`MAX_LENGTH` characters or deeper than :data:`MAX_DEPTH`
    levels are refused before and after parsing.
    """
    text = expression.strip()
    if len(text) > MAX_LENGTH:
        raise ParameterError(
            f"{where}: the expression is {len(text):,} characters long; at most {MAX_LENGTH} "
            "are accepted (split it into several parameters)"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise ParameterError(
            f"{where}: syntax error in expression {_short(expression)}{col}: {e.msg}"
        ) from None
    except (RecursionError, MemoryError):
        raise ParameterError(f"{where}: the expression is nested too deeply") from None
    if _depth(tree.body) > MAX_DEPTH:
        raise ParameterError(
            f"{where}: the expression is nested deeper than {MAX_DEPTH} levels; split it into "
            "several parameters"
        )
    return tree.body


def _depth(node: ast.AST) -> int:
    """Depth of an expression tree, walked without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(item))
    return deepest


def _short(expression: str) -> str:
    """``repr`` of an expression for a message, cut to 80 characters."""
    return repr(expression) if len(expression) <= 80 else repr(expression[:77] + "...")


def names_in(node: ast.expr) -> set[str]:
    """Parameter names an expression uses (function names excluded)."""
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in called}


def evaluate(expression: Value, scope: Mapping[str, float], *, where: str) -> float:
    """Value of a number or an expression over the names in ``scope``."""
    if isinstance(expression, bool):
        raise ParameterError(f"{where}: {expression!r} is not a number")
    if isinstance(expression, int | float):
        return _finite(float(expression), where, str(expression))
    node = parse(str(expression), where=where)
    return _finite(_eval(node, scope, where, str(expression)), where, str(expression))


def _finite(value: float, where: str, text: str) -> float:
    if not math.isfinite(value):
        raise ParameterError(f"{where}: {text!r} evaluates to {value}, not a finite number")
    return value


def _eval(node: ast.AST, scope: Mapping[str, float], where: str, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ParameterError(f"{where}: booleans are not allowed in {text!r}")
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in scope:
            known = ", ".join(sorted(scope)) or "none defined"
            raise ParameterError(
                f"{where}: unknown name {node.id!r} in {text!r} (parameters: {known})"
            )
        return scope[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, scope, where, text), _eval(node.right, scope, where, text)
        try:
            value = _BINARY[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError) as e:
            raise ParameterError(f"{where}: {text!r}: {e}") from None
        if isinstance(value, complex):  # (-8) ** 0.5: Python answers with a complex number
            raise ParameterError(
                f"{where}: {text!r}: a negative number to a fractional power is not a real number"
            )
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, scope, where, text))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_eval(a, scope, where, text) for a in node.args]
        try:
            return float(_FUNCTIONS[node.func.id](*args))
        except (ValueError, TypeError, OverflowError) as e:
            raise ParameterError(f"{where}: {text!r}: {e}") from None
    raise ParameterError(
        f"{where}: {ast.unparse(node)!r} is not allowed in {text!r}; use numbers, parameter "
        f"names, + - * / ** % and {', '.join(sorted(_FUNCTIONS))}"
    )


def resolve(
    definitions: Mapping[str, Value],
    overrides: Mapping[str, Value] | None = None,
    *,
    where: Callable[[str], str] = lambda name: f"parameter {name!r}",
) -> dict[str, float]:
    """Evaluate all parameters, in dependency order, after applying ``overrides``.

    The order comes from :class:`graphlib.TopologicalSorter`; the values are returned in the
    order the parameters are defined.

    Raises
    ------
    ParameterError
        Unknown override name, syntax error, unknown name, or a cycle (named).
    """
    defs = dict(definitions)
    for name, value in (overrides or {}).items():
        if name not in defs:
            known = ", ".join(sorted(defs)) or "none"
            raise ParameterError(f"--param {name}: the model has no such parameter ({known})")
        defs[name] = value
    deps = {
        name: (set() if isinstance(v, int | float) else names_in(parse(str(v), where=where(name))))
        for name, v in defs.items()
    }
    for name, names in deps.items():
        for dep in sorted(names):
            if dep not in defs:
                known = ", ".join(sorted(defs)) or "none defined"
                raise ParameterError(
                    f"{where(name)}: unknown name {dep!r} in {defs[name]!r} (parameters: {known})"
                )
    # Edges run from a parameter to the names it refers to, so the order is reversed below and
    # the cycle graphlib names reads "a -> b -> a" (a refers to b); nodes and edges go in in
    # definition order and sorted names, so the cycle named is the first one met that way.
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in defs:
        sorter.add(name)
    for name, names in deps.items():
        for dep in sorted(names):
            sorter.add(dep, name)
    try:
        order = list(sorter.static_order())[::-1]
    except CycleError as e:
        cycle: list[str] = e.args[1]
        raise ParameterError(
            f"{where(cycle[0])}: parameters refer to each other in a cycle: {' -> '.join(cycle)}"
        ) from None
    values: dict[str, float] = {}
    for name in order:
        values[name] = evaluate(defs[name], values, where=where(name))
    return {name: values[name] for name in defs}


def parse_overrides(pairs: list[str]) -> dict[str, Value]:
    """``["k=v", ...]`` from the command line into a mapping (values stay expressions)."""
    out: dict[str, Value] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ParameterError(f"--param {pair!r}: write it as name=value, e.g. scrap_share=0.3")
        out[name.strip()] = value.strip()
    return out
