"""Find and read rule sets: the bundled ones (``rules/data``) and the user's own folders.

A rule set is asked for by id (``steel.hot-rolled-coil``) or by ``id@version``; a user's file
with the id of a bundled one replaces it (a newer version, or the company's stricter reading),
and the rule book says which file each rule set came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from openpcf.errors import RuleSetError
from openpcf.files.yamlfile import YamlDocument, load_validated
from openpcf.rules.schema import CLAUSE_KINDS, RuleSet

#: Clause kinds are union tags: they are dropped from the data paths of schema errors.
_TAGS = frozenset(CLAUSE_KINDS)
RULE_SUFFIXES = frozenset({".yaml", ".yml"})


@dataclass(frozen=True, slots=True)
class LoadedRuleSet:
    rules: RuleSet
    doc: YamlDocument
    bundled: bool

    @property
    def ref(self) -> str:
        """``id@version``."""
        return f"{self.rules.id}@{self.rules.version}"

    @property
    def sha256(self) -> str:
        """The content hash of the file as read (recorded with every result under the rules)."""
        return hashlib.sha256(self.doc.text.encode()).hexdigest()

    def where(self, *loc: str | int) -> str:
        return self.doc.where(tuple(loc))


def load_rule_set(
    path: Path | str, text: str | None = None, *, bundled: bool = False
) -> LoadedRuleSet:
    """Read and validate one rule-set file.

    Raises
    ------
    RuleSetError
        Unreadable file, YAML error, an unknown clause kind, a clause without its source,
        each with file:line.
    """
    doc, rules = load_validated(
        Path(path),
        RuleSet,
        text=text,
        what="the rule set",
        mapping="a rule-set file is a YAML mapping with 'id', 'version', 'clauses', ...",
        error=RuleSetError,
        union_tags=_TAGS,
    )
    return LoadedRuleSet(rules=rules, doc=doc, bundled=bundled)


@cache
def bundled_rule_sets() -> tuple[LoadedRuleSet, ...]:
    """The rule sets shipped in the package, sorted by id."""
    folder = files("openpcf.rules") / "data"
    out = []
    for entry in folder.iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            out.append(load_rule_set(Path(str(entry)), entry.read_text("utf-8"), bundled=True))
    return tuple(sorted(out, key=lambda r: r.rules.id))


class RuleBook:
    """The rule sets a user can name: bundled ones, then files in ``folders`` (each file a
    rule set; a user's id replaces the bundled one of that id)."""

    def __init__(self, folders: Iterable[Path] = (), paths: Sequence[Path] = ()) -> None:
        by_id: dict[str, LoadedRuleSet] = {r.rules.id: r for r in bundled_rule_sets()}
        user_files = [
            p
            for folder in folders
            if folder.is_dir()
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in RULE_SUFFIXES
        ]
        seen: dict[str, Path] = {}
        for path in [*user_files, *paths]:
            loaded = load_rule_set(path)
            rid = loaded.rules.id
            if rid in seen:
                raise RuleSetError(
                    f"{path}: rule set {rid!r} is also defined in {seen[rid]}; keep one file per "
                    "rule set"
                )
            seen[rid] = path
            by_id[rid] = loaded
        self._by_id = dict(sorted(by_id.items()))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, ref: str, *, where: str = "") -> LoadedRuleSet:
        """The rule set ``id`` or ``id@version``.

        Raises
        ------
        RuleSetError
            Unknown id (with the closest ids), or a version other than the one held.
        """
        prefix = f"{where}: " if where else ""
        rid, _, version = ref.strip().partition("@")
        found = self._by_id.get(rid)
        if found is None:
            close = [r for r in self._by_id if rid.split(".")[0] in r][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise RuleSetError(
                f"{prefix}unknown rule set {rid!r}{hint} (openpcf rules list shows them all)"
            )
        if version and version != found.rules.version:
            raise RuleSetError(
                f"{prefix}rule set {rid!r} is held in version {found.rules.version}, not "
                f"{version}; name it without @version to use the one held"
            )
        return found
