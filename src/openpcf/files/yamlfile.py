"""Read YAML while remembering where each value came from.

Error messages must name the file and line of the offending value. PyYAML's node tree has
that information; :func:`load` builds plain Python data from the nodes and a map from each
value's path (``("processes", 2, "inputs", 0, "amount")``) to its 1-based line.
:func:`load_validated` is the one way a user's YAML file (a product model, a shipment, an
electricity claim, a CBAM installation) becomes a validated pydantic object.

What one file can cost is bounded (issue 11, item 6): at most :data:`MAX_YAML_BYTES` are read
(so ``/dev/zero`` or a huge file given by mistake is refused, not read until memory runs out),
nesting deeper than :data:`MAX_DEPTH` levels is refused while composing (PyYAML's composer is
recursive: 5,000 nested ``[`` crashed it), and aliases (``*name``) may repeat at most
:data:`ALIAS_BUDGET` nodes in all. Design note: aliases are kept, within that budget, because
a shared block of quality scores is a reasonable use; what is refused is the "billion laughs"
file (a 272-byte model whose nine levels of nine aliases expanded to 1.3 GB) and the recursive
alias (``a: &a [*a]``, which made the data infinitely deep).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from openpcf.errors import InputError, ModelFileError
from openpcf.files.bounded import read_bounded, size_text

PathKey = tuple[str | int, ...]
_Schema = TypeVar("_Schema", bound=BaseModel)

#: Largest YAML file read: 8 MiB (product models are a few kB; the largest bundled file 60 kB).
MAX_YAML_BYTES = 8 * 1024 * 1024
#: Deepest nesting of mappings and sequences: models use 5 levels.
MAX_DEPTH = 64
#: Most nodes that aliases may repeat in one file, counted over every use of every alias.
ALIAS_BUDGET = 10_000


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
    """Parse a YAML file into data plus a line map; syntax errors name file, line, column.

    Raises
    ------
    ModelFileError
        If the file cannot be read, is larger than :data:`MAX_YAML_BYTES`, is not UTF-8 or
        not YAML, nests deeper than :data:`MAX_DEPTH` levels, or uses aliases recursively or
        beyond :data:`ALIAS_BUDGET` repeated nodes.
    """
    if text is None:
        raw = read_bounded(path, limit=MAX_YAML_BYTES, error=ModelFileError)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ModelFileError(f"{path}: cannot read: {e}") from None
    elif len(text) > MAX_YAML_BYTES:
        raise ModelFileError(f"{path}: larger than {size_text(MAX_YAML_BYTES)}")
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ModelFileError(f"{path}{at}: YAML syntax error: {problem}") from None
    lines: dict[PathKey, int] = {}
    data = _Builder(path, lines).build(node, ()) if node is not None else None
    return YamlDocument(path=path, data=data, lines=lines, text=text)


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than :data:`MAX_DEPTH` while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_validated(
    path: Path,
    schema: type[_Schema],
    *,
    what: str,
    mapping: str,
    text: str | None = None,
    error: type[InputError] = ModelFileError,
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


class _Builder:
    """Plain data from a composed node graph, with the line of every value.

    Composing resolves an alias to the very node its anchor names, so the graph may share
    nodes (each use is built again: the data has no shared objects) or hold a cycle (a
    recursive alias). Both are bounded here: a node met again on its own path is a recursive
    alias, and building a node a second time counts against :data:`ALIAS_BUDGET`.
    """

    def __init__(self, path: Path, lines: dict[PathKey, int]) -> None:
        self.path = path
        self.lines = lines
        self.built: set[int] = set()
        self.active: set[int] = set()
        self.repeated = 0

    def build(self, node: yaml.Node, loc: PathKey) -> Any:
        key = id(node)
        line = node.start_mark.line + 1
        if key in self.active:
            raise ModelFileError(
                f"{self.path}:{line}: recursive alias: the value refers to itself, which would "
                "make it infinitely deep; write it out instead"
            )
        if key in self.built:
            self.repeated += 1
            if self.repeated > ALIAS_BUDGET:
                raise ModelFileError(
                    f"{self.path}:{line}: aliases (*name) repeat more than {ALIAS_BUDGET:,} "
                    "values in this file; write the values out or use fewer aliases"
                )
        if len(loc) > MAX_DEPTH:
            raise ModelFileError(
                f"{self.path}:{line}: nested deeper than {MAX_DEPTH} levels through aliases"
            )
        self.built.add(key)
        self.lines[loc] = line
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.active.add(key)
            try:
                return self._collection(node, loc)
            finally:
                self.active.discard(key)
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        """A scalar (or a mapping key, which must be one) with its construction errors located.

        PyYAML raises plain ``ValueError`` for values its resolver recognised but cannot build
        (``2024-13-45`` as a date) and ``ConstructorError`` for tags the safe loader refuses.
        """
        if not isinstance(node, yaml.ScalarNode):
            raise ModelFileError(
                f"{self.path}:{node.start_mark.line + 1}: a mapping key must be a plain value, "
                "not a list or mapping"
            )
        try:
            return _scalar(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
            problem = getattr(e, "problem", None) or str(e)
            raise ModelFileError(
                f"{self.path}:{node.start_mark.line + 1}: cannot read the value "
                f"{node.value!r}: {problem}"
            ) from None

    def _collection(self, node: yaml.MappingNode | yaml.SequenceNode, loc: PathKey) -> Any:
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node)
            out[key] = self.build(value_node, (*loc, str(key)))
            self.lines[(*loc, str(key))] = key_node.start_mark.line + 1
        return out


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
