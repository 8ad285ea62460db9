"""Load a product model file: YAML → validated :class:`ProductModel`, errors with lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpcf.files.yamlfile import YamlDocument, load_validated
from openpcf.model.schema import ProductModel


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: ProductModel
    doc: YamlDocument

    @property
    def path(self) -> Path:
        return self.doc.path

    def where(self, *loc: str | int) -> str:
        """``file:line`` of a value in the model, for error messages."""
        return self.doc.where(tuple(loc))


def load_model(path: Path | str, text: str | None = None) -> LoadedModel:
    """Read and validate a model file.

    Raises
    ------
    ModelFileError
        Unreadable file, YAML syntax error, or schema violations (each with file:line and
        the path of the value, e.g. ``processes[2].inputs[0].unit``).
    """
    doc, model = load_validated(
        Path(path),
        ProductModel,
        text=text,
        what="the model",
        mapping="a model file is a YAML mapping with 'product', ...",
    )
    return LoadedModel(model=model, doc=doc)
