"""What building and reproducing a package tell the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpcf.model.calculation import Calculation


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSummary:
    path: str
    files: tuple[str, ...]
    kg_co2e: float
    certificate_id: str | None
    signed: bool
    omitted: tuple[str, ...]  # "report.html: openpcf.reports is not installed", ...
    calculation: Calculation = field(repr=False, compare=False)
    background_rows: tuple[str, ...] = ()  # ids of the rows in background/rows.json
    supplier_footprints: tuple[str, ...] = ()  # the files under suppliers/
    #: ``name@version`` of each linked database whose subset is under background/databases/
    background_databases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    where: str  # "kg_co2e", "by_stage_kg_co2e.production", "exchanges[2].kg_co2e", ...
    packaged: Any
    recomputed: Any

    def __str__(self) -> str:
        return f"{self.where}: {self.packaged!r} in the package vs {self.recomputed!r} recomputed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproductionReport:
    """What :func:`openpcf.services.packaging.reproduce_package` found.

    ``identical`` is the verdict. ``signature`` says who signed, in words: with trusted keys
    given, "signature valid, signed by trusted key <kid>" or why not (then ``trusted`` is False
    and ``identical`` too); without them "signature valid, signer not authenticated (no trusted
    keys given)", since the keys inside a package prove integrity, not origin.
    """

    package: str
    identical: bool
    kg_co2e_packaged: float | None
    kg_co2e_recomputed: float | None
    problems: tuple[str, ...]  # integrity failures: digests, signature, missing rows
    differences: tuple[Difference, ...]  # numbers that differ
    causes: tuple[str, ...]  # why the numbers differ
    notes: tuple[str, ...]  # checks passed and caveats
    signature: str = ""
    trusted: bool | None = None  # None: no trusted keys given

    def summary(self) -> str:
        if self.identical:
            head = (
                f"{self.package}: reproduced, identical result ({self.kg_co2e_recomputed!r} kg "
                "CO2e per declared unit)"
            )
            return f"{head}\n  {self.signature}" if self.signature else head
        lines = [f"{self.package}: NOT reproduced"]
        if self.kg_co2e_packaged != self.kg_co2e_recomputed:
            lines.append(
                f"  total: {self.kg_co2e_packaged!r} in the package vs "
                f"{self.kg_co2e_recomputed!r} recomputed (kg CO2e per declared unit)"
            )
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  differs: {d}" for d in self.differences[:20]]
        if len(self.differences) > 20:
            lines.append(f"  ... and {len(self.differences) - 20} more numbers differ")
        lines += [f"  because: {c}" for c in self.causes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "identical": self.identical,
            "kg_co2e_packaged": self.kg_co2e_packaged,
            "kg_co2e_recomputed": self.kg_co2e_recomputed,
            "problems": list(self.problems),
            "differences": [
                {"where": d.where, "packaged": d.packaged, "recomputed": d.recomputed}
                for d in self.differences
            ],
            "causes": list(self.causes),
            "notes": list(self.notes),
            "signature": self.signature,
            "trusted": self.trusted,
        }


class Findings:
    """What the checks of a reproduction found so far, in the order they found it.

    ``signature`` is the verdict on the manifest signature; ``trusted`` whether its signer is
    one of the trusted keys (None: no trusted keys were given, so nobody was authenticated).
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.causes: list[str] = []
        self.notes: list[str] = []
        self.signature = ""
        self.trusted: bool | None = None
