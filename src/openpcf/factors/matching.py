"""Ranked fuzzy matching of a material name (中文 or English) against a factor set.

:meth:`FactorSet.search` finds factors that contain every word of a query; a bill of
materials needs the opposite question: which factors are *closest* to "热轧钢卷" or
"hot-rolled steel coil", best first. :func:`rank` answers it from each factor's English and
Chinese names and from the curated aliases of the bundled derived factors
(``_derived_selection.csv``: "HRC; hot rolled strip", "热轧带钢; 热卷").

How a factor is scored
----------------------
The query and each name or alias are cut into *grams*: lower-case Latin words (US spellings
folded into British ones: "aluminum" = "aluminium") and, for Chinese, single characters and
character bigrams of each run of Han characters ("热轧钢卷" → 热 轧 钢 卷 热轧 轧钢 钢卷). A query
word also matches a text word that is close in spelling (character-trigram Dice ≥ 0.6, so
"galvanised" finds "galvanized"). For one text::

    text score = 0.7 × coverage + 0.3 × Dice

where coverage is the share of the query's grams found in the text (every word of the query
counts) and Dice = 2 |Q ∩ T| / (|Q| + |T|) prefers a text that says little else. A factor's
text score is the best over its names and aliases. Its **score** is that times a geography
weight: 1 where the factor's geography is the one asked for,
0.97 for a region inside it (``CN-HE`` for ``CN``),
0.9 for a global (``GLO``) factor, 0.8 for any other. Design note: the weight is a factor, not
a bonus, so a foreign factor whose alias matches word for word ("热轧卷板" on a US sheet data
set, 1.0 × 0.8) still ranks below the Chinese hot-rolled coil data set (0.88) for a Chinese
bill of materials, while a foreign factor remains a candidate where it is all there is.

Only factors whose unit converts into the line's unit are candidates (a kWh factor is never
proposed for kilograms of steel). A candidate needs a score of at least :data:`THRESHOLD`;
below it nothing is proposed, and the line is left for a person to match: a guessed factor
would be worse than none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from openpcf.core.units import same_dimension
from openpcf.errors import OpenPCFError
from openpcf.factors.derive import read_selection
from openpcf.factors.schema import Factor
from openpcf.factors.store import FactorSet

#: The lowest score a factor needs to be proposed (see the module docstring). 0.45 keeps
#: "steel" → steel data sets (about 0.6 and up) and drops texts that share one short word
#: with the query ("plate" in "steel plate" for "plastic plate": about 0.35).
THRESHOLD = 0.45
#: Weight of a factor by geography: asked for, global, other.
GEOGRAPHY_WEIGHTS = (1.0, 0.9, 0.8)

#: Weight of a region inside the asked geography ("CN-HE" for "CN"), times the first weight.
SUBREGION = 0.97

_ALIASES_FILE = Path(__file__).parent / "data" / "_derived_selection.csv"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
#: US spellings folded into the British ones the factor sets mostly use.
_FOLD = {"aluminum": "aluminium", "galvanized": "galvanised", "sulfur": "sulphur"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A factor proposed for a query, with its score (0 to 1) and the text that matched."""

    factor: Factor
    score: float
    matched: str


def grams(text: str) -> frozenset[str]:
    """The words and Chinese characters/bigrams of ``text`` (see the module docstring).

    >>> sorted(grams("热轧钢卷"))
    ['卷', '热', '热轧', '轧', '轧钢', '钢', '钢卷']
    >>> sorted(grams("Hot-rolled Aluminum"))
    ['aluminium', 'hot', 'rolled']
    """
    low = text.lower()
    out: set[str] = set()
    for run in _HAN.findall(low):
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    latin = _HAN.sub(" ", low)
    out.update(_FOLD.get(w, w) for w in _WORD.findall(latin))
    return frozenset(out)


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _close(word: str, text: frozenset[str]) -> bool:
    """A Latin query word of 5+ letters also matches a text word of close spelling."""
    if word in text:
        return True
    if len(word) < 5 or not word.isascii():
        return False
    mine = _trigrams(word)
    for other in text:
        if len(other) >= 5 and other.isascii():
            theirs = _trigrams(other)
            if 2 * len(mine & theirs) / (len(mine) + len(theirs)) >= 0.6:
                return True
    return False


def text_score(query: frozenset[str], text: frozenset[str]) -> float:
    """0.7 × coverage + 0.3 × Dice of ``query`` in ``text`` (both from :func:`grams`).

    >>> text_score(grams("aluminium ingot"), grams("aluminium ingot"))
    1.0
    >>> text_score(grams("steel"), grams("copper wire"))
    0.0
    """
    if not query or not text:
        return 0.0
    found = sum(1 for g in query if _close(g, text))
    coverage = found / len(query)
    dice = 2 * found / (len(query) + len(text))
    return round(0.7 * coverage + 0.3 * min(dice, 1.0), 6)


@cache
def bundled_aliases() -> Mapping[str, tuple[str, ...]]:
    """Factor id → the curated English and Chinese aliases of the bundled derived factors."""
    try:
        rows = read_selection(_ALIASES_FILE)
    except OpenPCFError:  # pragma: no cover - the bundled file is checked by its own tests
        return {}
    return {r.id: (*r.aliases_en, *r.aliases_zh) for r in rows}


def _geography_weight(factor: Factor, geography: str | None) -> float:
    asked, world, other = GEOGRAPHY_WEIGHTS
    geo = factor.geography.upper()
    if geography is None:
        return asked
    want = geography.upper()
    if geo == want:
        return asked
    if geo.startswith(want + "-") or geo.endswith("-" + want):
        return asked * SUBREGION  # a province's data set for a country's line: close, not it

    return world if geo == "GLO" else other


def rank(
    factors: FactorSet,
    query: str,
    *,
    unit: str = "kg",
    geography: str | None = None,
    limit: int = 5,
    threshold: float = THRESHOLD,
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> list[Candidate]:
    """The factors of ``factors`` closest to ``query``, best first (at most ``limit``).

    Only factors whose unit converts into ``unit`` and whose score reaches ``threshold`` are
    returned. Ties are broken by: not illustrative first, then the shorter name, then the id,
    so the order is the same on every run.
    """
    wanted = grams(query)
    if not wanted:
        return []
    aliases = bundled_aliases() if aliases is None else aliases
    found: list[tuple[float, bool, int, str, Candidate]] = []
    for factor in factors.factors.values():
        if not _converts(factor.unit, unit):
            continue
        texts = [factor.name, factor.name_zh, *aliases.get(factor.id, ())]
        best, matched = 0.0, ""
        for text in texts:
            score = text_score(wanted, grams(text)) if text else 0.0
            if score > best:
                best, matched = score, text
        score = round(best * _geography_weight(factor, geography), 4)
        if score >= threshold and math.isfinite(score):
            candidate = Candidate(factor=factor, score=score, matched=matched)
            found.append((-score, factor.illustrative, len(factor.name), factor.id, candidate))
    found.sort(key=lambda item: item[:4])
    return [item[4] for item in found[:limit]]


@cache
def _converts(factor_unit: str, unit: str) -> bool:
    try:
        return same_dimension(factor_unit, unit)
    except OpenPCFError:
        return False
