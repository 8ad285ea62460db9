"""SLURM jobs as the workers of a batch: ``openpcf batch SOURCE --slurm N``.

:func:`run_batch_on_slurm` starts a Dask scheduler in this process and ``N`` SLURM jobs through
dask-jobqueue's ``SLURMCluster`` (each job runs ``cores`` Dask worker processes of one thread),
waits up to ``timeout`` seconds for every worker to connect, calculates the batch on them by
the one Dask path (:func:`openpcf.services.batch.run_on_client`) and closes the cluster, which
cancels the jobs (``scancel``), on success, on error and on Ctrl-C.

The jobs are described by :class:`SlurmConfig`, read by :func:`read_slurm_config` from a small
YAML file (``--slurm-config``): partition, account, walltime, cores and memory per job, lines
run before the worker starts (``module load``, ``source venv/bin/activate``) and where the
scheduler listens. dask-jobqueue's own settings (``~/.config/dask/jobqueue.yaml``) fill in what
the file does not set.

Design notes
------------
* **The scheduler listens on loopback unless told otherwise.** A Dask scheduler has no
  authentication and runs the pickled functions it is sent, so it is not opened to the network
  by default: it listens on 127.0.0.1, which serves jobs that run on this node. Workers on
  other nodes need ``interface`` (the network the nodes share, e.g. ``ib0``) or ``host``.
  The dashboard is turned off and its HTTP server kept on loopback.
* **One thread per worker process**, ``cores`` processes per job, as the local executor runs
  one process per CPU: the Python parts of a calculation (loading and compiling the model)
  hold the GIL.
* **sbatch's own message, at once.** ``SpecCluster.scale`` submits the jobs in a task of the
  cluster's event loop that nobody awaits: an ``sbatch`` error (an unknown partition, an
  account without an allocation) would only be logged, as a traceback, and the batch would
  wait out its timeout. :func:`_submit` does what ``scale`` does (adds one worker spec per
  job) and awaits the submission itself (``_correct_state``; dask-jobqueue 0.9, distributed
  2026.8), so the error reaches the user in sbatch's words and nothing else is printed. The
  submission is shielded from Ctrl-C: interrupted while sbatch runs, it still records the job
  ids, and closing the cluster waits for it and cancels every job that was queued (tested by
  interrupting as soon as the stand-in sbatch has started a job).
* **Ctrl-C stays Ctrl-C.** Importing dask-jobqueue 0.9 (its ``runner`` module) replaces the
  process's SIGINT handler with ``sys.exit()``, so Ctrl-C ended a batch with exit code 0 and
  no word. :func:`_import_slurm_cluster` puts the previous handler back: Ctrl-C raises
  ``KeyboardInterrupt``, the cluster is closed (the jobs cancelled) on the way out and the
  command ends with exit code 130 (tested).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from openpcf.files.schema import Strict
from openpcf.files.yamlfile import load_validated
from openpcf.services.batch import (
    BatchError,
    BatchItem,
    BatchOptions,
    BatchResult,
    Progress,
    run_on_client,
)

if TYPE_CHECKING:
    from dask_jobqueue.slurm import SLURMCluster
    from distributed import Client

#: Most jobs one batch may start.
MAX_JOBS = 1000
#: Seconds to wait for every worker when none is given: a job may wait in the queue a while.
DEFAULT_TIMEOUT = 300.0
#: Where the scheduler listens when ``host`` and ``interface`` are not set (see the notes).
LOOPBACK = "127.0.0.1"
#: The SLURM job name (``squeue -n openpcf-batch``).
JOB_NAME = "openpcf-batch"
#: The commands a SLURM cluster must offer on PATH.
SLURM_COMMANDS = ("sbatch", "scancel")


def _matching(pattern: str, hint: str) -> AfterValidator:
    """A check that the whole value matches ``pattern``; ``hint`` says what to write."""

    def check(value: str) -> str:
        if re.fullmatch(pattern, value) is None:
            raise ValueError(f"{value!r} is not {hint}")
        return value

    return AfterValidator(check)


#: A partition, account, interface or host: one word, nothing the job script could misread.
Word = Annotated[
    str,
    Field(max_length=200),
    _matching(r"[A-Za-z0-9_.:,+-]+", "one word (letters, digits and _ . : , + -)"),
]
#: A line of shell in the job script.
Line = Annotated[str, Field(max_length=1000)]


class SlurmConfig(Strict):
    """What each SLURM job asks for (the keys of a ``--slurm-config`` file)."""

    partition: Word | None = None
    """``sbatch -p``: the partition (queue); the cluster's default when unset."""
    account: Word | None = None
    """``sbatch -A``: the account charged."""
    walltime: Annotated[
        str, _matching(r"(\d+-)?\d+(:\d{1,2}){0,2}", "minutes, HH:MM:SS or D-HH:MM:SS")
    ] = "00:30:00"
    """``sbatch -t``: minutes, ``HH:MM:SS`` or ``D-HH:MM:SS``."""
    cores: Annotated[int, Field(ge=1, le=1024)] = 1
    """CPUs per job (``--cpus-per-task``): one worker process of one thread on each."""
    memory: Annotated[
        str, _matching(r"\d+(\.\d+)?\s*[kKMGT]i?B", "an amount with a unit, e.g. 4GiB or 8GB")
    ] = "2GiB"
    """``sbatch --mem``: memory per job (``4GiB``, ``8GB``), shared by its worker processes."""
    prologue: Annotated[tuple[Line, ...], Field(max_length=100)] = ()
    """Shell lines run in the job before the worker starts (``module load python``)."""
    interface: Word | None = None
    """The network interface of the scheduler and the workers (``ib0``, ``eth0``)."""
    host: Word | None = None
    """The scheduler's address, if not the ``interface``'s; 127.0.0.1 when neither is set."""

    @field_validator("prologue")
    @classmethod
    def _one_line_each(cls, lines: tuple[str, ...]) -> tuple[str, ...]:
        for k, line in enumerate(lines):
            if "\n" in line or "\r" in line:
                raise ValueError(f"line {k + 1} holds a line break; give one line per item")
        return lines


def read_slurm_config(path: Path) -> SlurmConfig:
    """The :class:`SlurmConfig` in the YAML file ``path``; errors name the file and line."""
    _, config = load_validated(
        path,
        SlurmConfig,
        what="the SLURM settings file",
        mapping="a SLURM settings file is a YAML mapping (partition, account, walltime, ...)",
        error=BatchError,
    )
    return config


def run_batch_on_slurm(
    items: Sequence[BatchItem],
    options: BatchOptions,
    *,
    jobs: int,
    config: SlurmConfig | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> BatchResult:
    """Calculate ``items`` on ``jobs`` SLURM jobs started for this batch, then cancel them.

    Raises
    ------
    BatchError
        A bad number of jobs or timeout, no dask-jobqueue, no ``sbatch``/``scancel`` on PATH,
        a job that sbatch refused, or workers that did not all connect within ``timeout``
        seconds (the jobs are cancelled before the error is raised).
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise BatchError(f"--slurm {jobs}: give a number of jobs from 1 to {MAX_JOBS}")
    if timeout <= 0:
        raise BatchError(f"--timeout {timeout:g}: give a number of seconds above 0")
    config = config or SlurmConfig()
    missing = [c for c in SLURM_COMMANDS if shutil.which(c) is None]
    if missing:
        raise BatchError(
            f"--slurm: no {' or '.join(missing)} on PATH; run on a node of the SLURM cluster "
            "(a login node), or load its module (module load slurm)"
        )
    workers = jobs * config.cores
    with _cluster(config) as cluster:
        _submit(cluster, jobs)
        from distributed import Client

        client = Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        try:
            _wait(client, workers, timeout)
            executor = f"{jobs} SLURM job{'s' if jobs != 1 else ''}"
            return run_on_client(client, items, options, executor=executor, progress=progress)
        finally:
            client.close()  # type: ignore[no-untyped-call]


@contextmanager
def _cluster(config: SlurmConfig) -> Iterator[SLURMCluster]:
    """A ``SLURMCluster`` with no jobs yet; closing it cancels every job it started."""
    cluster_class = _import_slurm_cluster()
    scheduler: dict[str, Any] = {"port": 0, "dashboard": False, "dashboard_address": LOOPBACK}
    if config.host is not None or config.interface is None:
        scheduler["host"] = config.host or LOOPBACK
    try:
        cluster = cluster_class(
            queue=config.partition,
            account=config.account,
            walltime=config.walltime,
            cores=config.cores,
            processes=config.cores,
            memory=config.memory,
            job_script_prologue=list(config.prologue),
            interface=config.interface,
            job_name=JOB_NAME,
            scheduler_options=scheduler,
        )
    except (OSError, ValueError) as e:  # an interface that does not exist, a busy address
        raise BatchError(f"--slurm: the Dask scheduler cannot start: {e}") from None
    try:
        yield cluster
    finally:
        cluster.close()


def _import_slurm_cluster() -> type[SLURMCluster]:
    """dask-jobqueue's ``SLURMCluster``, leaving Ctrl-C as it was (see the design notes)."""
    before = signal.getsignal(signal.SIGINT)
    try:
        from dask_jobqueue.slurm import SLURMCluster
    except ImportError:
        raise BatchError(
            "--slurm needs dask-jobqueue: install OpenPCF with the dask extra "
            "(pip install 'openpcf[dask]')"
        ) from None
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, before)
    return SLURMCluster


def _submit(cluster: SLURMCluster, jobs: int) -> None:
    """Submit ``jobs`` jobs and wait for sbatch's answers (see the design notes)."""
    from distributed.core import Status

    async def submit() -> None:
        try:
            await cluster._correct_state()  # type: ignore[no-untyped-call]
        except Exception:
            for job in cluster.workers.values():
                if job.job_id is None:  # never submitted: closing the cluster has none to cancel
                    job.status = Status.failed
            raise

    async def scale_and_wait() -> None:
        while len(cluster.worker_spec) < jobs:  # what SpecCluster.scale does, without its task
            cluster.worker_spec.update(cluster.new_worker_spec())  # type: ignore[no-untyped-call]
        # Shielded: Ctrl-C while sbatch runs must not lose the job id of a job it queues,
        # or closing the cluster could not cancel that job.
        await asyncio.shield(submit())

    try:
        cluster.sync(scale_and_wait)  # type: ignore[no-untyped-call]
    except RuntimeError as e:  # dask-jobqueue: "Command exited with non-zero exit code ..."
        said = str(e).partition("stderr:")[2].strip() or str(e).strip()
        raise BatchError(f"--slurm: sbatch refused the job: {said}") from None
    except ValueError as e:  # no job id in sbatch's answer
        raise BatchError(
            f"--slurm: sbatch's answer has no job id ({e}); is this SLURM's sbatch?"
        ) from None


def _wait(client: Client, workers: int, timeout: float) -> None:
    """Wait for ``workers`` workers; a clear error after ``timeout`` seconds."""
    try:
        client.wait_for_workers(workers, timeout=timeout)
    except TimeoutError:
        got = len(client.scheduler_info().get("workers", {}))
        raise BatchError(
            f"--slurm: {got} of {workers} Dask worker{'s' if workers != 1 else ''} connected "
            f"within {timeout:g} s, so the jobs were cancelled. A job still waiting in the "
            "queue needs a longer --timeout (see squeue); a job that failed shows why in its "
            "output file (slurm-JOBID.out)"
        ) from None
