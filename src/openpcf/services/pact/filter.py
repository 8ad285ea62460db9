"""PACT v2.3 ``$filter`` on the host's list route: the OData v4 subset of §"ListFootprints".

The filter is evaluated on the v2.3 view of each footprint (:func:`openpcf.exchange.v2.v2_view`);
:meth:`V2Filter.prefilter` narrows the database query first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpcf.errors import InputError
from openpcf.exchange.criteria import FootprintFilter, parse_datetime
from openpcf.exchange.errors import BadRequestError, UnsupportedRequestError

#: Fields the v2.3 filter may compare, and how to read them from a v2 document.
_FIELDS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "created": lambda d: d.get("created"),
    "updated": lambda d: d.get("updated"),
    "productCategoryCpc": lambda d: d.get("productCategoryCpc"),
    "pcf/geographyCountry": lambda d: d["pcf"].get("geographyCountry"),
    "pcf/referencePeriodStart": lambda d: d["pcf"].get("referencePeriodStart"),
    "pcf/referencePeriodEnd": lambda d: d["pcf"].get("referencePeriodEnd"),
}
_DATES = frozenset({"created", "updated", "pcf/referencePeriodStart", "pcf/referencePeriodEnd"})
#: ``$filter`` fields stored as columns, compared in SQL by :meth:`V2Filter.prefilter`.
_MOMENT_COLUMNS = {
    "created": "created",
    "pcf/referencePeriodStart": "reference_period_start",
    "pcf/referencePeriodEnd": "reference_period_end",
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
#: Bounds on one ``$filter`` (issue 11, item 6): the parser recursed once per parenthesis,
#: so 5,000 of them were a RecursionError (a 500); real filters are a few clauses long.
MAX_LENGTH = 4096
MAX_NESTING = 32
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[():])|(?P<word>[A-Za-z_$][\w/$.-]*)|(?P<bad>\S))"
)


@dataclass(frozen=True, slots=True)
class V2Filter:
    """A parsed ``$filter``: comparisons and ``any`` clauses, all ANDed."""

    comparisons: tuple[tuple[str, str, str], ...] = ()  # (field, op, literal)
    any_of: tuple[tuple[str, str], ...] = field(default=())  # (productIds|companyIds, value)

    def prefilter(self) -> FootprintFilter:
        """A storage filter that selects a superset of the matches, evaluated in SQL.

        Ids are compared ignoring case, a country as any geography key, and the moments
        ``created`` and the reference period exactly; :meth:`matches` then decides on the v2.3
        documents of what the query returned (``updated``, ``productCategoryCpc``, exact case).
        """
        moments = []
        for name, op, literal in self.comparisons:
            column = _MOMENT_COLUMNS.get(name)
            if column is None:
                continue
            try:
                moments.append((column, op, parse_datetime(literal, name)))
            except InputError:
                continue  # matches() refuses every document for an unreadable date
        return FootprintFilter(
            product_ids=tuple(v for k, v in self.any_of if k == "productIds"),
            company_ids=tuple(v for k, v in self.any_of if k == "companyIds"),
            geographies=tuple(
                v for k, op, v in self.comparisons if k == "pcf/geographyCountry" and op == "eq"
            ),
            moments=tuple(moments),
        )

    def matches(self, doc: Mapping[str, Any]) -> bool:
        for name, value in self.any_of:
            if value not in (doc.get(name) or []):
                return False
        for name, op, literal in self.comparisons:
            actual = _FIELDS[name](doc)
            if actual is None:
                return False
            if name in _DATES:
                try:
                    left, right = parse_datetime(actual, name), parse_datetime(literal, name)
                except InputError:
                    return False
                if not _OPS[op](left, right):
                    return False
            elif not _OPS[op](str(actual), literal):
                return False
        return True


def parse_filter(text: str) -> V2Filter:
    """Parse the v2.3 ``$filter`` subset; :class:`UnsupportedRequestError` beyond it.

    Supported: ``<field> eq|lt|le|gt|ge '<value>'`` on created, updated, productCategoryCpc,
    pcf/geographyCountry, pcf/referencePeriodStart and pcf/referencePeriodEnd;
    ``productIds/any(x:(x eq '<urn>'))`` and the same on companyIds; ``and``; parentheses.
    """
    tokens = _tokens(text)
    comparisons: list[tuple[str, str, str]] = []
    any_of: list[tuple[str, str]] = []
    pos = 0
    depth = 0  # open parentheses: the parser recurses once per level

    def need(expected: str) -> None:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] != expected:
            got = tokens[pos] if pos < len(tokens) else "the end"
            raise BadRequestError(f"$filter: expected {expected!r} but found {got!r}")
        pos += 1

    def term() -> None:
        nonlocal pos, depth
        if pos >= len(tokens):
            raise BadRequestError("$filter ends where a condition was expected")
        tok = tokens[pos]
        if tok == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise BadRequestError(
                    f"$filter: parentheses nested deeper than {MAX_NESTING} levels"
                )
            pos += 1
            expression()
            need(")")
            depth -= 1
            return
        if tok in ("productIds/any", "companyIds/any"):
            pos += 1
            need("(")
            var = _word(tokens, pos)
            pos += 1
            need(":")
            depth = 0
            while pos < len(tokens) and tokens[pos] == "(":
                depth, pos = depth + 1, pos + 1
            if _word(tokens, pos) != var or tokens[pos + 1 : pos + 2] != ["eq"]:
                raise UnsupportedRequestError(
                    f"$filter: only '{tok}({var}:({var} eq <value>))' is supported"
                )
            any_of.append((tok.split("/")[0], _literal(tokens, pos + 2)))
            pos += 3
            for _ in range(depth):
                need(")")
            need(")")
            return
        if tok not in _FIELDS:
            raise UnsupportedRequestError(
                f"$filter on {tok!r} is not supported; supported fields: {', '.join(_FIELDS)}, "
                "productIds/any, companyIds/any"
            )
        op = tokens[pos + 1] if pos + 1 < len(tokens) else ""
        if op not in _OPS:
            raise UnsupportedRequestError(
                f"$filter operator {op!r} is not supported (eq lt le gt ge)"
            )
        comparisons.append((tok, op, _literal(tokens, pos + 2)))
        pos += 3

    def expression() -> None:
        nonlocal pos
        term()
        while pos < len(tokens) and tokens[pos] == "and":
            pos += 1
            term()
        if pos < len(tokens) and tokens[pos] in ("or", "not"):
            raise UnsupportedRequestError(f"$filter operator {tokens[pos]!r} is not supported")

    expression()
    if pos != len(tokens):
        raise BadRequestError(f"$filter: unexpected {tokens[pos]!r}")
    return V2Filter(tuple(comparisons), tuple(any_of))


def _tokens(text: str) -> list[str]:
    if len(text) > MAX_LENGTH:
        raise BadRequestError(f"$filter is longer than {MAX_LENGTH} characters")
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.strip()):
        if match.group("bad"):
            raise BadRequestError(f"$filter: unexpected character {match.group('bad')!r}")
        tokens.append(match.group("str") or match.group("punct") or match.group("word"))
    if not tokens:
        raise BadRequestError("$filter is empty")
    return tokens


def _word(tokens: list[str], pos: int) -> str:
    if pos >= len(tokens) or not re.match(r"^[A-Za-z_]\w*$", tokens[pos]):
        raise BadRequestError("$filter: a lambda variable name was expected")
    return tokens[pos]


def _literal(tokens: list[str], pos: int) -> str:
    if pos >= len(tokens) or not tokens[pos].startswith("'"):
        raise BadRequestError("$filter: a quoted value ('...') was expected")
    return tokens[pos][1:-1].replace("''", "'")
