"""Read an installation file: YAML -> validated :class:`Installation`, errors with lines.

Reuses the product-model machinery: :func:`openpcf.model.yamlfile.load` keeps the line of each
value, and :mod:`openpcf.model.loading` turns pydantic errors into ``file:line: path: message``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from openpcf.cbam.schema import Installation
from openpcf.errors import ModelFileError
from openpcf.model.yamlfile import PathKey, YamlDocument, dotted, load, schema_errors


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
    doc = load(Path(path), text)
    if not isinstance(doc.data, dict):
        raise ModelFileError(
            f"{doc.path}: an installation file is a YAML mapping starting with 'openpcf_cbam: 1'"
        )
    try:
        model = Installation.model_validate(doc.data)
    except ValidationError as e:
        raise ModelFileError(schema_errors(doc, e, what="the installation")) from None
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return LoadedInstallation(installation=model, locate=Locator(doc), sha256=digest)
