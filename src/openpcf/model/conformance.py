"""How a calculation stands against its product's rule set, as a frozen record.

The rule sets and their checks live in :mod:`openpcf.rules`; this is only the record a
:class:`~openpcf.model.calculation.Calculation` carries when it was made under a rule set, so
that every deliverable (report, PACT document, certificate, package) can state conformance
clause by clause without knowing how it was checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["conforms", "violated", "warning", "to-confirm", "not-applicable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One way the model breaks a clause."""

    clause: str
    severity: Literal["error", "warning"]
    message: str
    hint: str
    where: str  # file:line of the model value at fault
    source: str  # "document, clause (year)" of the clause broken
    process: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseStatus:
    """One clause of the rule set and the model's status against it."""

    clause: str
    kind: str
    requirement: str
    requirement_zh: str
    source: str  # "document, clause (year)", with "text not public" and the note where so
    short_source: str  # "document, clause (year)"
    status: Status
    findings: tuple[Finding, ...] = ()
    #: the modelling choice the clause made under ``calc --rules`` (None: it only checks)
    applied: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conformance:
    """A model checked against one rule set (``openpcf check``, ``calc --rules``)."""

    rules: str  # id
    version: str
    title: str
    title_zh: str
    sha256: str  # of the rule-set file as read
    documents: tuple[str, ...]
    clauses: tuple[ClauseStatus, ...]
    #: the modelling choices the rule set made (each "clause: what")
    choices: tuple[str, ...] = field(default=())

    @property
    def ref(self) -> str:
        return f"{self.rules}@{self.version}"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for c in self.clauses for f in c.findings)

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @property
    def conforms(self) -> bool:
        """No clause violated (warnings and clauses to confirm allowed)."""
        return self.errors == 0
