"""An immutable mapping that pickles: the frozen ``dict`` of results.

:class:`FrozenMap` replaces :class:`types.MappingProxyType` in frozen results. A mapping proxy
cannot be pickled, and results (and compiled models) go to worker processes for Monte Carlo
runs and batch calculations. A :class:`FrozenMap` owns a private copy of its items, has no
mutation methods, compares equal to any mapping with the same items (plain dicts included, so
``result.by_stage == {"A1-A3": 1.0}`` holds), and is hashable when its values are.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_NO_HASH = -1  # hash() never returns -1, so it can mark "not computed yet"


class FrozenMap(Mapping[K, V]):
    """A read-only, picklable mapping, in the order its items were given.

    >>> m = FrozenMap({"b": 1.0, "a": 2.0})
    >>> m == {"a": 2.0, "b": 1.0}, list(m), m["a"]
    (True, ['b', 'a'], 2.0)
    >>> m["c"] = 3.0
    Traceback (most recent call last):
    ...
    TypeError: 'FrozenMap' object does not support item assignment
    """

    __slots__ = ("_data", "_hash")
    _data: dict[K, V]
    _hash: int

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = (), /) -> None:
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_hash", _NO_HASH)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        """Hash of the items (order-independent, as equality); TypeError for unhashable values."""
        if self._hash == _NO_HASH:
            object.__setattr__(self, "_hash", hash(frozenset(self._data.items())))
        return self._hash

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __or__(self, other: Mapping[K, V]) -> dict[K, V]:
        """A new ``dict`` with the items of both, as for a mapping proxy."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self._data, **other}

    def __ror__(self, other: Mapping[K, V]) -> dict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self._data}

    def copy(self) -> dict[K, V]:
        """A shallow, mutable ``dict`` copy (as :meth:`types.MappingProxyType.copy`)."""
        return dict(self._data)
