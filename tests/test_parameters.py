"""Safe parameter expressions."""

from __future__ import annotations

import pytest

from openpcf.errors import ParameterError
from openpcf.model.parameters import evaluate, parse_overrides, resolve


def test_resolve_in_dependency_order():
    """c = max(a, b) + sqrt(4) with a = 2 b, b = 3 -> a = 6, c = 6 + 2 = 8."""
    values = resolve({"c": "max(a, b) + sqrt(4)", "a": "b * 2", "b": 3})
    assert values == {"b": 3.0, "a": 6.0, "c": 8.0}


def test_overrides_replace_definitions():
    assert resolve({"a": 1, "b": "a + 1"}, {"a": "10"})["b"] == 11.0


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        ({"a": "b *"}, "syntax error in expression 'b \\*'"),
        ({"a": "zz + 1"}, "unknown name 'zz'"),
        ({"a": "b", "b": "a"}, "cycle: a -> b -> a"),
        ({"a": "__import__('os').system('true')"}, "is not allowed"),
        ({"a": "(1).real"}, "is not allowed"),
        ({"a": "1 / 0"}, "division by zero"),
        ({"a": "10 ** 400"}, "not a finite number|Numerical result out of range"),
        ({"a": "[1, 2]"}, "is not allowed"),
        ({"a": "True"}, "booleans are not allowed"),
        ({"a": "open('x')"}, "is not allowed"),
    ],
)
def test_bad_expressions(definitions, message):
    with pytest.raises(ParameterError, match=message):
        resolve(definitions)


def test_unknown_override():
    with pytest.raises(ParameterError, match="--param nope: the model has no such parameter"):
        resolve({"a": 1}, {"nope": 2})


def test_parse_overrides():
    assert parse_overrides(["a=1", " b = c*2 "]) == {"a": "1", "b": "c*2"}
    with pytest.raises(ParameterError, match="name=value"):
        parse_overrides(["a"])


def test_evaluate_numbers_and_nan():
    assert evaluate(2, {}, where="x") == 2.0
    with pytest.raises(ParameterError, match="not a finite number"):
        evaluate(float("nan"), {}, where="x")
