"""The imported databases a compiled model's ``background:`` inputs draw on, with their stored
distributions, as inputs of the analytic propagation and of the Sobol indices of a model on
its own (the report, the web analysis page), and readable names of their entries.

A database the model is linked into (``background_linking: linked``, re-pointed electricity
included) comes with the compiled model (:func:`~openpcf.model.database_uncertainty.
linked_samplers`). A precomputed ``background:`` row (``"<name>@<version>:<activity>"``) names a
stored version that the model does not hold: it is read through the compiled model's own
``background_database`` resolver, the one the calculation was given
(:func:`openpcf.services.calculate.user_resolvers`: the user's database store, read once per
process), so nothing here knows where the store is. Without such a resolver, or when a
database cannot be read, its distributions are left out and :class:`DatabaseUse` says why.

An entry's key is ``db:<name>@<version>:<A|B>:<row>:<col>`` (the stored matrices' row and
column, :mod:`openpcf.model.database_uncertainty`); :func:`input_label` names it as
``database › process › flow``: the activity of column ``col``, and the product of row ``row``
(an entry of ``A``: the activity's own output on the diagonal, an input elsewhere) or the gas
of row ``row`` (an entry of ``B``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpcf.core.solver import Backend
from openpcf.core.uncertainty import NO_UNCERTAINTY
from openpcf.errors import OpenPCFError
from openpcf.methods.gwp import characterisation_vector
from openpcf.model.background import BackgroundDatabase
from openpcf.model.compiler import CompiledModel
from openpcf.model.database_uncertainty import DatabaseSampler, database_rows, linked_samplers

#: How the key of a database entry begins (``db:<ref>:<A|B>:<row>:<col>``).
DATABASE_KEY = "db:"
#: Fewest characters of a process name that :func:`input_label` keeps when it cuts one.
MIN_NAME_CHARS = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseUse:
    """One imported database with stored distributions that the model draws on."""

    ref: str  # "<name>@<version>"
    distributions: int  # entries of its A and B with a stored distribution (0: unknown)
    included: bool  # whether they are propagated
    note: str = ""  # why not, when not


@dataclass(frozen=True, slots=True)
class DatabaseInputs:
    """The samplers of the databases whose distributions are included, and a line for each
    database with distributions (included or not)."""

    samplers: tuple[DatabaseSampler, ...]
    uses: tuple[DatabaseUse, ...]

    @property
    def left_out(self) -> dict[str, int]:
        """Database ref -> its distributions that are not included."""
        return {u.ref: u.distributions for u in self.uses if not u.included}


def is_database_key(key: str) -> bool:
    """Whether ``key`` names an entry of an imported database (module docstring)."""
    return key.startswith(DATABASE_KEY)


def database_inputs(compiled: CompiledModel) -> DatabaseInputs:
    """The databases ``compiled`` draws on that store distributions (module docstring): linked
    ones as linked, precomputed ones read through the calculation's resolver."""
    return shared_database_inputs([compiled])[0]


def shared_database_inputs(
    models: Sequence[CompiledModel], *, leave_out: str = "", backend: Backend = "iterative"
) -> tuple[DatabaseInputs, ...]:
    """:func:`database_inputs` of each of ``models``, compared with the same draws (``openpcf
    uncertainty --compare``): a precomputed database has one sampler for all the models that
    use it under one GWP set, made for the activities they use together and read through the
    first one's resolver, so that each draw of it is solved once. A linked database is each
    model's own (linking and re-pointing are the model's); the same ref still draws the same
    values (one stream per ref, :func:`openpcf.model.montecarlo.run`).

    ``leave_out``: why every database's distributions are left out (``--no-background``):
    they are counted, nothing is placed or sampled. ``backend``: how the samplers solve their
    draws (:class:`~openpcf.model.database_uncertainty.DatabaseSampler`)."""
    rows = [_precomputed_rows(compiled) for compiled in models]
    wanted: dict[tuple[str, str], tuple[CompiledModel, dict[str, None]]] = {}
    for compiled, mine in zip(models, rows, strict=True):
        for ref, activity in mine:
            wanted.setdefault((ref, compiled.gwp.id), (compiled, {}))[1][activity] = None
    made = {
        key: _precomputed(c, key[0], list(used), leave_out=leave_out, backend=backend)
        for key, (c, used) in wanted.items()
    }
    out = []
    for compiled, mine in zip(models, rows, strict=True):
        samplers, uses = _linked(compiled, leave_out=leave_out, backend=backend)
        for key in dict.fromkeys((ref, compiled.gwp.id) for ref, _ in mine):
            sampler, use = made[key]
            if sampler is not None:
                samplers.append(sampler)
            if use is not None:
                uses.append(use)
        out.append(DatabaseInputs(samplers=tuple(samplers), uses=tuple(uses)))
    return tuple(out)


def _precomputed_rows(compiled: CompiledModel) -> list[tuple[str, str]]:
    """(ref, activity) of the entries that draw on a database the model is not linked into."""
    linked = {db.ref for db in (compiled.linked.databases if compiled.linked else ())}
    return [(ref, a) for ref, a in database_rows(compiled).values() if ref not in linked]


def _linked(
    compiled: CompiledModel, *, leave_out: str = "", backend: Backend = "iterative"
) -> tuple[list[DatabaseSampler], list[DatabaseUse]]:
    """The samplers of the linked databases the model draws on, and their lines."""
    linked = {db.ref: db for db in (compiled.linked.databases if compiled.linked else ())}
    drawn = dict.fromkeys(ref for ref, _ in database_rows(compiled).values() if ref in linked)
    why, samplers = leave_out, list[DatabaseSampler]()
    if not why:
        try:
            samplers = linked_samplers(compiled, backend=backend)
        except OpenPCFError as e:
            why = str(e)
    if why:
        return [], [_left_out(ref, why, linked[ref]) for ref in drawn if linked[ref].uncertainty]
    uses = [DatabaseUse(ref=s.ref, distributions=s.entries, included=True) for s in samplers]
    return samplers, uses


def _precomputed(
    compiled: CompiledModel,
    ref: str,
    activities: list[str],
    *,
    leave_out: str = "",
    backend: Backend = "iterative",
) -> tuple[DatabaseSampler | None, DatabaseUse | None]:
    """The sampler of the stored version ``ref`` that precomputed rows come from, read through
    the calculation's resolver, and its line (None: it stores no distributions)."""
    resolve = compiled.resolvers.background_database
    if resolve is None:
        note = "the calculation was given no database store to read it from"
        return None, DatabaseUse(ref=ref, distributions=0, included=False, note=note)
    try:
        db = resolve(ref)
    except OpenPCFError as e:  # e.g. deleted from the store since the calculation
        return None, DatabaseUse(ref=ref, distributions=0, included=False, note=str(e))
    if db.uncertainty is None:
        return None, None
    if leave_out:
        return None, _left_out(ref, leave_out, db)
    try:
        sampler = DatabaseSampler(
            db.ref,
            db.system,
            db.uncertainty.params,
            characterisation_vector(compiled.gwp, db.system.flows),
            activities,
            stored_flows=db.uncertainty.flows,
            backend=backend,
        )
    except OpenPCFError as e:
        return None, _left_out(ref, str(e), db)
    return sampler, DatabaseUse(ref=ref, distributions=sampler.entries, included=True)


def _left_out(ref: str, note: str, db: BackgroundDatabase) -> DatabaseUse:
    params = db.uncertainty.params if db.uncertainty is not None else None
    count = 0
    if params is not None:
        count = sum(
            int((p["uncertainty_type"] > NO_UNCERTAINTY).sum()) for p in (params.A, params.B)
        )
    return DatabaseUse(ref=ref, distributions=count, included=False, note=note)


def input_label(compiled: CompiledModel, key: str, *, width: int | None = None) -> str:
    """``database › process › flow`` for a database entry's key (module docstring); any other
    key, or one whose database cannot be read, unchanged. ``width``: the process name is cut
    (``…``) so that the label fits, the database and the flow kept whole."""
    if not is_database_key(key):
        return key
    try:
        ref, matrix, row, col = key[len(DATABASE_KEY) :].rsplit(":", 3)
        i, j = int(row), int(col)
    except ValueError:
        return key
    db = _database(compiled, ref)
    if db is None or not 0 <= j < len(db.names):
        return key
    if matrix == "A":
        flows: tuple[str, ...] = db.products
    else:
        flows = db.uncertainty.flows if db.uncertainty is not None else db.system.flows
    flow = flows[i] if 0 <= i < len(flows) else f"row {i}"
    head, name, tail = f"{ref} › ", db.names[j], f" › {flow}"
    if width is not None and len(head) + len(name) + len(tail) > width:
        room = max(width - len(head) - len(tail) - 1, MIN_NAME_CHARS)
        name = name[:room].rstrip(" ,;:") + "…"
    return f"{head}{name}{tail}"


def _database(compiled: CompiledModel, ref: str) -> BackgroundDatabase | None:
    """The database ``ref`` as the model links it, else through the calculation's resolver."""
    if compiled.linked is not None:
        for db in compiled.linked.databases:
            if db.ref == ref:
                return db
    resolve = compiled.resolvers.background_database
    if resolve is None:
        return None
    try:
        return resolve(ref)
    except OpenPCFError:
        return None
