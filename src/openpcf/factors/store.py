"""An immutable, hashed collection of emission factors with look-up and search.

A :class:`FactorSet` is what a product model is compiled against. Its ``content_hash`` goes
into every result so a verifier can tell whether two footprints used the same background
numbers. Sets are combined with :meth:`FactorSet.merged`, which refuses duplicate ids:
silently letting one set shadow another would make a footprint depend on load order.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from openpcf.errors import FactorSetError, UnknownFactorError
from openpcf.factors.schema import Factor


class FactorSet:
    """Factors keyed by id, immutable after construction.

    Parameters
    ----------
    name : str
        Name of the set ("bundled", a file stem, or "a+b" after merging).
    factors : Iterable[Factor]
        The rows. Ids must be unique.
    set_names : tuple[str, ...], optional
        Names of the sets this one was merged from (defaults to ``(name,)``); used in error
        messages so the user knows where OpenPCF looked.

    Raises
    ------
    FactorSetError
        If two rows share an id.
    """

    __slots__ = ("_factors", "_hash", "_name", "_set_names")

    def __init__(
        self, name: str, factors: Iterable[Factor], set_names: tuple[str, ...] = ()
    ) -> None:
        by_id: dict[str, Factor] = {}
        for factor in factors:
            if factor.id in by_id:
                first = by_id[factor.id]
                raise FactorSetError(
                    f"Factor id {factor.id!r} is defined twice: in set "
                    f"{first.set_name or name!r} and in set {factor.set_name or name!r}. "
                    "Rename one of them; a set may not override another."
                )
            by_id[factor.id] = factor
        self._name = name
        self._factors: Mapping[str, Factor] = MappingProxyType(dict(sorted(by_id.items())))
        self._set_names = set_names or (name,)
        self._hash = _content_hash(self._factors.values())

    def __setattr__(self, key: str, value: Any) -> None:
        if hasattr(self, "_hash"):
            raise AttributeError("FactorSet is immutable")
        object.__setattr__(self, key, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FactorSet, (self._name, tuple(self._factors.values()), self._set_names))

    def __repr__(self) -> str:
        return f"FactorSet(name={self._name!r}, factors={len(self)}, hash={self._hash[:12]})"

    def __eq__(self, other: object) -> bool:
        """Same name, same merged sets and the same rows (by content hash), so a pickled copy
        equals its original."""
        if not isinstance(other, FactorSet):
            return NotImplemented
        mine = (self._name, self._set_names, self._hash)
        return mine == (other._name, other._set_names, other._hash)

    def __hash__(self) -> int:
        return hash(self._hash)

    def __len__(self) -> int:
        return len(self._factors)

    def __contains__(self, factor_id: object) -> bool:
        return factor_id in self._factors

    @property
    def name(self) -> str:
        """Name of the set."""
        return self._name

    @property
    def factors(self) -> Mapping[str, Factor]:
        """Read-only mapping id -> :class:`Factor`, sorted by id."""
        return self._factors

    @property
    def set_names(self) -> tuple[str, ...]:
        """Names of the sets merged into this one."""
        return self._set_names

    @property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of all rows, sorted by id."""
        return self._hash

    def get(self, factor_id: str) -> Factor:
        """Return the factor called ``factor_id``.

        Raises
        ------
        UnknownFactorError
            Naming the id, the sets searched and up to three close matches.
        """
        try:
            return self._factors[factor_id]
        except KeyError:
            close = difflib.get_close_matches(factor_id, list(self._factors), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownFactorError(
                f"Unknown factor id {factor_id!r}; searched set(s) "
                f"{', '.join(self._set_names)}.{hint} "
                "Run `openpcf factors search WORDS` to find an id, or load your own set "
                "with --factors."
            ) from None

    def search(
        self,
        query: str,
        *,
        category: str | None = None,
        geography: str | None = None,
        year: int | None = None,
    ) -> list[Factor]:
        """Return factors whose id, names or geography contain every word of ``query``.

        Matching is case-insensitive substring matching, so "hebei grid" and "河北" both
        work. ``category`` and ``geography`` filter by exact (case-insensitive) value, ``year``
        by exact year. An empty query returns every factor that passes the filters.
        """
        words = query.lower().split()
        found = []
        for factor in self._factors.values():
            if category is not None and factor.category.lower() != category.lower():
                continue
            if geography is not None and factor.geography.lower() != geography.lower():
                continue
            if year is not None and factor.year != year:
                continue
            text = " ".join((factor.id, factor.name, factor.name_zh, factor.geography)).lower()
            if all(word in text for word in words):
                found.append(factor)
        return found

    def merged(self, other: FactorSet) -> FactorSet:
        """Return a new set with the rows of both.

        Raises
        ------
        FactorSetError
            If an id occurs in both sets (naming both sets).
        """
        return FactorSet(
            f"{self._name}+{other.name}",
            [*self._factors.values(), *other.factors.values()],
            set_names=(*self._set_names, *other.set_names),
        )


def _content_hash(factors: Iterable[Factor]) -> str:
    """SHA-256 over the canonical JSON of ``factors`` (already sorted by id)."""
    payload = json.dumps(
        [f.canonical() for f in factors], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
