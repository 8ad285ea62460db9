"""Parse JSON from a user or a peer with bounded cost and only values storage can hold.

:func:`json.loads` accepts more than JSON and more than the rest of OpenPCF can handle:

- ``NaN``, ``Infinity`` and numbers that overflow to infinity (``1e400``), which PostgreSQL's
  ``json`` type refuses (a 500 on an event before this module) and no PACT value means;
- strings with lone surrogates (``"\\ud800"``), which cannot be encoded as UTF-8 and so
  cannot be stored or sent on, and with NUL characters, which PostgreSQL text refuses;
- nesting deep enough to exhaust the interpreter's stack: ``json.loads`` raises
  :class:`RecursionError` at about 1,000 levels, which no handler expected.

:func:`loads` refuses all of them with :class:`JsonTextError`, a :class:`ValueError` like
the :class:`json.JSONDecodeError` it raises for a syntax error (with line and column), so
every ``except ValueError`` written for a syntax error handles these as well. Nesting is
limited to :data:`MAX_DEPTH` levels (PACT documents use 6).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Deepest nesting of arrays and objects accepted (a PACT footprint nests 6 levels).
MAX_DEPTH = 64

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class JsonTextError(ValueError):
    """JSON text is malformed, too deep, or holds a value OpenPCF cannot store."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of the JSON ``text``; a ``ValueError`` if refused.

    Bytes must be UTF-8. Refused: invalid JSON (:class:`json.JSONDecodeError`), and with
    :class:`JsonTextError` ``NaN``/``Infinity`` and numbers beyond the float range, strings
    (values or keys) holding NUL or lone surrogates, and nesting deeper than ``max_depth``.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonTextError(f"not UTF-8 text: {e}") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise JsonTextError(f"nested deeper than {max_depth} levels") from None
    _check(value, max_depth)
    return value


def _no_constant(name: str) -> float:
    raise JsonTextError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonTextError(f"the number {text[:40]} is beyond the range of a double")
    return number


def _check(value: Any, max_depth: int) -> None:
    """Depth and characters of every string, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise JsonTextError(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, inner in item.items():
                    _check_text(key)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


def _check_text(text: str) -> None:
    found = _BAD_CHARACTER.search(text)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        raise JsonTextError(
            f"a string holds {what} (\\u{ord(found.group()):04x}), which cannot be stored"
        )
