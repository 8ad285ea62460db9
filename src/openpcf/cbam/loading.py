"""Read an installation file: YAML -> validated :class:`Installation`, errors with lines.

Reuses the user-file machinery: :func:`openpcf.files.yamlfile.load` keeps the line of each
value, and :func:`openpcf.files.yamlfile.schema_errors` turns pydantic errors into
``file:line: path: message``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from openpcf.cbam.schema import Installation
from openpcf.files.yamlfile import PathKey, YamlDocument, dotted, load_validated


@dataclass(frozen=True, slots=True)
class Locator:
    """Says where a value of the installation is, for error messages.

    With a document: ``"plant.yaml:42: processes[1].precursors[0].from"``; without (an
    :class:`Installation` built in Python): ``"installation: processes[1]..."``.
    """

    doc: YamlDocument | None = None

    def __call__(self, *loc: str | int) -> str:
        key: PathKey = tuple(loc)
        head = self.doc.where(key) if self.doc is not None else "installation"
        return f"{head}: {dotted(key)}" if key else head


@dataclass(frozen=True, slots=True)
class LoadedInstallation:
    installation: Installation
    locate: Locator
    sha256: str | None = None

    @property
    def path(self) -> Path | None:
        return self.locate.doc.path if self.locate.doc is not None else None


def load_installation(path: Path | str, text: str | None = None) -> LoadedInstallation:
    """Read and validate an installation file (schema only; see :mod:`validation`).

    Raises
    ------
    ModelFileError
        Unreadable file, YAML syntax error, or schema violations, each with file:line.
    """
    doc, model = load_validated(
        Path(path),
        Installation,
        text=text,
        what="the installation",
        mapping="an installation file is a YAML mapping starting with 'openpcf_cbam: 1'",
    )
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return LoadedInstallation(installation=model, locate=Locator(doc), sha256=digest)
