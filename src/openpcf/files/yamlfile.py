"""Read YAML while remembering where each value came from.

Error messages must name the file and line of the offending value. PyYAML's node tree has
that information; :func:`load` builds plain Python data from the nodes and a map from each
value's path (``("processes", 2, "inputs", 0, "amount")``) to its 1-based line.
:func:`load_validated` is the one way a user's YAML file (a product model, a shipment, an
electricity claim, a CBAM installation) becomes a validated pydantic object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from openpcf.errors import ModelFileError

PathKey = tuple[str | int, ...]
_Schema = TypeVar("_Schema", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    path: Path
    data: Any
    lines: dict[PathKey, int]
    text: str

    def line_of(self, loc: PathKey) -> int | None:
        """Line of the deepest known prefix of ``loc``."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def where(self, loc: PathKey) -> str:
        line = self.line_of(loc)
        return f"{self.path}:{line}" if line else str(self.path)


def load(path: Path, text: str | None = None) -> YamlDocument:
    """Parse a YAML file into data plus a line map; syntax errors name file, line, column."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ModelFileError(f"{path}: cannot read: {e}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ModelFileError(f"{path}{at}: YAML syntax error: {problem}") from None
    lines: dict[PathKey, int] = {}
    data = _build(node, (), lines) if node is not None else None
    return YamlDocument(path=path, data=data, lines=lines, text=text)


def load_validated(
    path: Path,
    schema: type[_Schema],
    *,
    what: str,
    mapping: str,
    text: str | None = None,
    error: type[ModelFileError] = ModelFileError,
    union_tags: frozenset[str] = frozenset(),
) -> tuple[YamlDocument, _Schema]:
    """Read ``path`` (or ``text``) and validate it against ``schema``; errors name file:line.

    ``what`` names the document in schema errors ("the model"); ``mapping`` says what the file
    must be when its top level is not a mapping ("a model file is a YAML mapping with ...");
    ``union_tags`` as in :func:`schema_errors`.

    Raises
    ------
    ModelFileError
        If the file cannot be read or is not YAML; ``error`` (a :class:`ModelFileError`) if the
        top level is not a mapping or the data breaks the schema.
    """
    doc = load(path, text)
    if not isinstance(doc.data, dict):
        raise error(f"{doc.path}: {mapping}")
    try:
        return doc, schema.model_validate(doc.data)
    except ValidationError as e:
        raise error(schema_errors(doc, e, what=what, union_tags=union_tags)) from None


def _build(node: yaml.Node, loc: PathKey, lines: dict[PathKey, int]) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            out[key] = _build(value_node, (*loc, str(key)), lines)
            lines[(*loc, str(key))] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """Construct a scalar with the safe loader's type resolution (ints, floats, dates...)."""
    constructor = yaml.constructor.SafeConstructor()
    return constructor.construct_object(node, deep=True)


#: Names pydantic adds to error locations for union members; not part of the data path.
_UNION_TAGS = frozenset({"float", "str", "int", "bool", "function-after", "function-before"})
_MAX_REPORTED = 8


def dotted(loc: PathKey) -> str:
    """``("processes", 2, "inputs", 0)`` as ``processes[2].inputs[0]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def schema_errors(
    doc: YamlDocument,
    error: ValidationError,
    *,
    what: str,
    union_tags: frozenset[str] = frozenset(),
) -> str:
    """Pydantic errors as ``file:line: data.path: message`` lines, one per problem.

    ``what`` names the document in the heading, e.g. "the model" or "the shipment";
    ``union_tags`` are the schema's discriminator tags, dropped from data paths like the
    built-in union member names.
    """
    tags = _UNION_TAGS | union_tags
    problems = []
    for item in error.errors()[:_MAX_REPORTED]:
        loc: list[str | int] = []
        for part in item["loc"]:
            if isinstance(part, str) and part in tags and (*loc, part) not in doc.lines:
                continue
            loc.append(part)
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{doc.where(tuple(loc))}: {dotted(tuple(loc))}: {message}")
    more = len(error.errors()) - _MAX_REPORTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    return f"{doc.path}: {what} does not follow the schema:\n  " + "\n  ".join(problems) + tail
