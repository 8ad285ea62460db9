"""Verification packages: everything a verifier needs to recompute a footprint, in one zip.

The pure parts of a package: its format and file names (:mod:`~openpcf.package.format`), where
the model and its side files go (:mod:`~openpcf.package.layout`), the factor rows
(:mod:`~openpcf.package.rows`), the rows of imported LCI databases
(:mod:`~openpcf.package.background`), the part of each linked database a model with linked
backgrounds reaches (:mod:`~openpcf.package.background_subset`), the supplier footprints named
by id or URN (:mod:`~openpcf.package.suppliers`), the zip (:mod:`~openpcf.package.archive`),
the manifest and its signature (:mod:`~openpcf.package.manifest`,
:mod:`~openpcf.package.signature`), and the comparison of a recomputed result with the packaged
one (:mod:`~openpcf.package.compare`, :mod:`~openpcf.package.results`). Building and
reproducing a package, which calculate, are the use cases in :mod:`openpcf.services.packaging`.

Design note: rows derived from side files (supplier footprints, shipments, electricity claims)
and from packed supplier footprints are recomputed from those files by the compiler, which uses
OpenPCF's bundled logistics library and residual mixes for them; they are then compared with the
packaged rows, so a change in that bundled data is reported rather than silently absorbed.
Background rows are not recomputed from a database: the verifier usually has none, so the
packed rows are the data (checked against the manifest, and against the verifier's own copy of
the same database version when there is one). A linked model is solved on the packed subsets of
its databases, so those are the data in the same way.
"""

from __future__ import annotations

from openpcf.package.format import (
    BACKGROUND,
    CERTIFICATE,
    FORMAT,
    JWKS,
    LOCATION_KEYS,
    MANIFEST,
    PACT,
    REPORT,
    RESULT,
    ROWS,
    RULES,
    SIGNATURE,
    SUPPLIERS,
    PackageError,
    ReproductionError,
    UntrustedPackageError,
    sha256,
)
from openpcf.package.results import Difference, PackageSummary, ReproductionReport
from openpcf.package.rows import row_digest, rows_csv

__all__ = [
    "BACKGROUND",
    "CERTIFICATE",
    "FORMAT",
    "JWKS",
    "LOCATION_KEYS",
    "MANIFEST",
    "PACT",
    "REPORT",
    "RESULT",
    "ROWS",
    "RULES",
    "SIGNATURE",
    "SUPPLIERS",
    "Difference",
    "PackageError",
    "PackageSummary",
    "ReproductionError",
    "ReproductionReport",
    "UntrustedPackageError",
    "row_digest",
    "rows_csv",
    "sha256",
]
