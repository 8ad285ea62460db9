"""Load a product model file: YAML → validated :class:`ProductModel`, errors with lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from openpcf.errors import ModelFileError
from openpcf.model.schema import ProductModel
from openpcf.model.yamlfile import PathKey, YamlDocument, load

_MAX_REPORTED = 8


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
    doc = load(Path(path), text)
    if not isinstance(doc.data, dict):
        raise ModelFileError(f"{doc.path}: a model file is a YAML mapping with 'product', ...")
    try:
        model = ProductModel.model_validate(doc.data)
    except ValidationError as e:
        raise ModelFileError(_describe(doc, e)) from None
    return LoadedModel(model=model, doc=doc)


def _describe(doc: YamlDocument, error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:_MAX_REPORTED]:
        loc: PathKey = tuple(x for x in item["loc"] if isinstance(x, str | int))
        # pydantic adds union branch names ("float", "str") to loc; keep the data path only
        data_loc = _data_path(doc, loc)
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{doc.where(data_loc)}: {dotted(data_loc)}: {message}")
    more = len(error.errors()) - _MAX_REPORTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    return f"{doc.path}: the model does not follow the schema:\n  " + "\n  ".join(problems) + tail


def _data_path(doc: YamlDocument, loc: PathKey) -> PathKey:
    out: list[str | int] = []
    for part in loc:
        candidate = (*out, part)
        if candidate in doc.lines or not doc.lines:
            out.append(part)
        elif isinstance(part, str) and part in {"float", "str", "int", "function-after"}:
            continue
        else:
            out.append(part)
    return tuple(out)


def dotted(loc: PathKey) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
