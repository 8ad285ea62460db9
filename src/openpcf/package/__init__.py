"""Verification packages: everything a verifier needs to recompute a footprint, in one zip.

The pure parts of a package: its format and file names (:mod:`~openpcf.package.format`), where
the model and its side files go (:mod:`~openpcf.package.layout`), the factor rows
(:mod:`~openpcf.package.rows`), the zip (:mod:`~openpcf.package.archive`), the manifest and its
signature (:mod:`~openpcf.package.manifest`, :mod:`~openpcf.package.signature`), and the
comparison of a recomputed result with the packaged one (:mod:`~openpcf.package.compare`,
:mod:`~openpcf.package.results`). Building and reproducing a package, which calculate, are the
use cases in :mod:`openpcf.services.packaging`.

Design note: rows derived from side files (supplier footprints, shipments, electricity claims)
are recomputed from those files by the compiler, which uses OpenPCF's bundled logistics library
and residual mixes for them; they are then compared with the packaged rows, so a change in that
bundled data is reported rather than silently absorbed.
"""

from __future__ import annotations

from openpcf.package.format import (
    CERTIFICATE,
    FORMAT,
    JWKS,
    LOCATION_KEYS,
    MANIFEST,
    PACT,
    REPORT,
    RESULT,
    ROWS,
    SIGNATURE,
    PackageError,
    ReproductionError,
    UntrustedPackageError,
    sha256,
)
from openpcf.package.results import Difference, PackageSummary, ReproductionReport
from openpcf.package.rows import row_digest, rows_csv

__all__ = [
    "CERTIFICATE",
    "FORMAT",
    "JWKS",
    "LOCATION_KEYS",
    "MANIFEST",
    "PACT",
    "REPORT",
    "RESULT",
    "ROWS",
    "SIGNATURE",
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
