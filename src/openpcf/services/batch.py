"""Many models or parameter sets calculated at once: the use case behind ``openpcf batch``.

A batch is a list of :class:`BatchItem` (an id, a model file and parameter overrides), read by
:func:`read_batch` from

* a **folder**: every ``*.yaml``/``*.yml`` model in it, sorted by file name, at the model's own
  parameters (the id is the file name without its suffix);
* a **CSV file** with a header row: a ``model`` column (the model file, relative to the CSV
  file), an optional id column (``sku``, ``name`` or ``id``; the row number otherwise) and one
  column per parameter to set; an empty cell keeps the model's value. A SKU list and a table of
  scenarios are the same file; without a ``model`` column every row uses ``default_model``
  (``openpcf batch params.csv --model widget.yaml``).

:func:`run_batch` calculates each item with :func:`openpcf.services.calculate.calculate` on an
executor: a :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes on this
machine (the default), or a Dask cluster (``scheduler="tcp://host:port"``, needs the ``dask``
extra; SLURM jobs started for the batch are :mod:`openpcf.services.batch_slurm`).
Factorisations do not pickle, so none is sent: the items go to the workers in contiguous
chunks, and each worker process keeps the factorisations it made in the engine's process-wide
cache (``openpcf.core.solver.DEFAULT_CACHE``, keyed by the matrix's content), so a worker
factorises each distinct system once and reuses it for every later chunk. Every item is
calculated on its own from its own inputs, so the results are identical whatever the number of
workers or the chunking; they come back in input order.

An item that fails (a missing model, a bad parameter, a singular system) is reported with its
message and the others are calculated; :attr:`BatchResult.failed` counts them.
"""

from __future__ import annotations

import csv
import math
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpcf.core.solver import Backend
from openpcf.errors import InputError, OpenPCFError
from openpcf.model.loading import LoadedModel
from openpcf.model.parameters import Value
from openpcf.settings import Settings

if TYPE_CHECKING:
    from distributed import Client

#: Model file types a folder batch reads.
MODEL_SUFFIXES = frozenset({".yaml", ".yml"})
#: Columns that name a row of a batch CSV, in order of preference.
ID_COLUMNS = ("sku", "name", "id")
#: Chunks per worker: enough to balance uneven items, few enough to keep the overhead small.
CHUNKS_PER_WORKER = 4

Progress = Callable[[int, int], None]


class BatchError(InputError):
    """The batch cannot start: an unreadable batch file, a bad option, no scheduler."""


@dataclass(frozen=True)
class BatchItem:
    """One calculation of a batch: ``model`` with ``parameters`` set (strings, as ``--param``)."""

    id: str
    model: Path
    parameters: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOptions:
    """What every item is calculated with (sent to the workers; it pickles)."""

    gwp: str | None = None
    factor_files: tuple[Path, ...] = ()
    backend: Backend = "auto"
    settings: Settings | None = None


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one item: its figures, or the message of its error."""

    id: str
    model: str
    parameters: dict[str, Value]
    kg_co2e: float | None = None
    declared_unit: str | None = None
    by_stage: dict[str, float] = field(default_factory=dict)
    footprint_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "parameters": dict(self.parameters),
            "kg_co2e": self.kg_co2e,
            "declared_unit": self.declared_unit,
            "by_stage": dict(self.by_stage),
            "footprint_id": self.footprint_id,
            "error": self.error,
        }


@dataclass(frozen=True)
class BatchResult:
    """Every item's result, in input order, and where they were calculated."""

    items: list[ItemResult]
    executor: str
    workers: int

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.items)


# -- reading a batch ----------------------------------------------------------------------


def read_batch(source: Path, *, default_model: Path | None = None) -> list[BatchItem]:
    """The items of a folder of models or of a batch CSV (see the module docstring)."""
    if source.is_dir():
        if default_model is not None:
            raise BatchError(f"{source}: a folder batch reads its own models; drop --model")
        models = sorted(p for p in source.iterdir() if p.suffix.lower() in MODEL_SUFFIXES)
        if not models:
            raise BatchError(f"{source}: no model files (*.yaml, *.yml) in this folder")
        return [BatchItem(id=p.stem, model=p.resolve()) for p in models]
    if not source.is_file():
        raise BatchError(f"{source}: no such batch file or folder")
    if source.suffix.lower() != ".csv":
        raise BatchError(f"{source}: a batch is a folder of models or a CSV file (.csv)")
    return _read_csv(source, default_model)


def _read_csv(path: Path, default_model: Path | None) -> list[BatchItem]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise BatchError(f"{path}: not a UTF-8 text file") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise BatchError(f"{path}: empty; the first row names the columns (model, sku, ...)")
    header = [h.strip() for h in rows[0]]
    for k, name in enumerate(header):
        if not name:
            raise BatchError(f"{path}: column {k + 1} of the header has no name")
        if name in header[:k]:
            raise BatchError(f"{path}: column {name!r} appears twice in the header")
    lower = [h.lower() for h in header]
    model_col = lower.index("model") if "model" in lower else None
    if model_col is None and default_model is None:
        raise BatchError(f"{path}: no 'model' column; add one or give the model with --model")
    if model_col is not None and default_model is not None:
        raise BatchError(f"{path}: has a 'model' column; drop --model")
    id_col = next((lower.index(c) for c in ID_COLUMNS if c in lower), None)
    params = [k for k in range(len(header)) if k not in (model_col, id_col)]
    if len(rows) == 1:
        raise BatchError(f"{path}: no rows after the header")

    items: list[BatchItem] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise BatchError(f"{path}, row {line}: {len(row)} cells for {len(header)} columns")
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        item_id = cells[id_col] if id_col is not None and cells[id_col] else f"row {line}"
        if item_id in seen:
            raise BatchError(f"{path}, row {line}: id {item_id!r} appears twice")
        seen.add(item_id)
        if model_col is not None:
            if not cells[model_col]:
                raise BatchError(f"{path}, row {line}: the 'model' cell is empty")
            model = (path.parent / cells[model_col]).resolve()
        else:
            assert default_model is not None
            model = default_model.resolve()
        overrides: dict[str, Value] = {header[k]: cells[k] for k in params if cells[k]}
        items.append(BatchItem(id=item_id, model=model, parameters=overrides))
    return items


# -- calculating ----------------------------------------------------------------------------


def calculate_item(
    item: BatchItem, options: BatchOptions, loaded: dict[Path, LoadedModel] | None = None
) -> ItemResult:
    """One item, calculated here; its error, if any, becomes its message.

    ``loaded`` keeps the models read so far (a chunk reads each model file once; the
    parameters are applied when compiling, so a loaded model serves every parameter set).
    """
    from openpcf.model.loading import load_model
    from openpcf.services.calculate import calculate

    base = ItemResult(id=item.id, model=str(item.model), parameters=dict(item.parameters))
    try:
        if not item.model.is_file():
            raise BatchError(f"model file {item.model} not found")
        cache = {} if loaded is None else loaded
        if item.model not in cache:
            cache[item.model] = load_model(item.model)
        calculation = calculate(
            cache[item.model],
            overrides=item.parameters,
            gwp=options.gwp,
            factor_files=options.factor_files,
            backend=options.backend,
            settings=options.settings,
        )
    except (OpenPCFError, OSError) as e:
        return _failed(base, str(e))
    except Exception as e:  # a bug in one item must not lose the others' results
        return _failed(base, f"internal error ({type(e).__name__}: {e})")
    result = calculation.result
    return ItemResult(
        id=base.id,
        model=base.model,
        parameters=base.parameters,
        kg_co2e=float(result.total),
        declared_unit=f"{result.declared_amount:g} {result.declared_unit}",
        by_stage={k: float(v) for k, v in result.by_stage.items()},
        footprint_id=str(calculation.footprint_id),
    )


def _failed(base: ItemResult, message: str) -> ItemResult:
    return ItemResult(
        id=base.id, model=base.model, parameters=base.parameters, error=message or "failed"
    )


def calculate_chunk(items: Sequence[BatchItem], options: BatchOptions) -> list[ItemResult]:
    """A worker's task: a run of items, sharing the worker's factorisation cache and, for
    items on the same background, its intensities (:mod:`openpcf.model.recalculation`)."""
    from openpcf.model.recalculation import recalculating

    loaded: dict[Path, LoadedModel] = {}
    with recalculating():
        return [calculate_item(item, options, loaded) for item in items]


def chunks(items: Sequence[BatchItem], workers: int) -> list[list[BatchItem]]:
    """Contiguous runs of ``items``, about :data:`CHUNKS_PER_WORKER` per worker."""
    if not items:
        return []
    size = max(1, math.ceil(len(items) / (max(1, workers) * CHUNKS_PER_WORKER)))
    return [list(items[k : k + size]) for k in range(0, len(items), size)]


def run_batch(
    items: Sequence[BatchItem],
    options: BatchOptions,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    timeout: float = 10.0,
    progress: Progress | None = None,
) -> BatchResult:
    """Calculate ``items`` on processes of this machine, or on the Dask cluster at ``scheduler``.

    ``workers`` is the number of processes (default: the CPU count; ignored with a scheduler,
    whose cluster has its own workers); ``timeout`` bounds the wait for the scheduler to answer.
    ``progress(done, total)`` is called as items finish.
    """
    if workers is not None and workers < 1:
        raise BatchError(f"--workers {workers}: give at least 1")
    if timeout <= 0:
        raise BatchError(f"--timeout {timeout:g}: give a number of seconds above 0")
    if scheduler is not None:
        return _run_dask(items, options, scheduler=scheduler, timeout=timeout, progress=progress)
    n = workers or os.cpu_count() or 1
    results: list[list[ItemResult] | None]
    parts = chunks(items, n)
    results = [None] * len(parts)
    with ProcessPoolExecutor(max_workers=min(n, max(1, len(parts)))) as pool:
        futures = {pool.submit(calculate_chunk, part, options): k for k, part in enumerate(parts)}
        for k, done in _collect(futures, len(items), progress):
            results[k] = done
    return BatchResult(items=_flatten(results), executor="processes", workers=n)


def _collect(
    futures: Mapping[Future[list[ItemResult]], int], total: int, progress: Progress | None
) -> Iterator[tuple[int, list[ItemResult]]]:
    finished = 0
    if progress is not None:
        progress(0, total)
    for future in as_completed(futures):
        part = future.result()
        finished += len(part)
        if progress is not None:
            progress(finished, total)
        yield futures[future], part


def _flatten(results: Sequence[list[ItemResult] | None]) -> list[ItemResult]:
    out: list[ItemResult] = []
    for part in results:
        assert part is not None
        out.extend(part)
    return out


def _run_dask(
    items: Sequence[BatchItem],
    options: BatchOptions,
    *,
    scheduler: str,
    timeout: float,
    progress: Progress | None,
) -> BatchResult:
    try:
        from distributed import Client
    except ImportError:
        raise BatchError(
            "--scheduler needs Dask: install OpenPCF with the dask extra "
            "(pip install 'openpcf[dask]')"
        ) from None
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as e:
        raise BatchError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s "
            f"({type(e).__name__}); check the address and that `dask scheduler` runs there"
        ) from None
    try:
        return run_on_client(
            client, items, options, executor=f"dask {scheduler}", progress=progress
        )
    finally:
        client.close()  # type: ignore[no-untyped-call]


def run_on_client(
    client: Client,
    items: Sequence[BatchItem],
    options: BatchOptions,
    *,
    executor: str,
    progress: Progress | None,
) -> BatchResult:
    """Calculate ``items`` on the workers of a connected ``distributed.Client``.

    The one Dask path, shared by ``--scheduler`` and ``--slurm``
    (:mod:`openpcf.services.batch_slurm`); the caller owns the client and closes it.
    """
    from distributed import as_completed as dask_as_completed

    n = max(1, len(client.scheduler_info().get("workers", {})))
    parts = chunks(items, n)
    batch = uuid.uuid4().hex  # keys of concurrent batches on one cluster must not collide
    futures = [
        client.submit(calculate_chunk, part, options, pure=False, key=f"batch-{batch}-{k}")
        for k, part in enumerate(parts)
    ]
    index = {f.key: k for k, f in enumerate(futures)}
    results: list[list[ItemResult] | None] = [None] * len(parts)
    finished = 0
    if progress is not None:
        progress(0, len(items))
    with client.as_current():  # as_completed looks for the current client
        for future in dask_as_completed(futures):  # type: ignore[no-untyped-call]
            part = future.result()
            results[index[future.key]] = part
            finished += len(part)
            if progress is not None:
                progress(finished, len(items))
    return BatchResult(items=_flatten(results), executor=executor, workers=n)
