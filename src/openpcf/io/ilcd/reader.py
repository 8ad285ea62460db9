"""Read a whole ILCD collection (folder or zip) into an :class:`Inventory`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpcf.errors import InputError
from openpcf.io.archive import Archive
from openpcf.io.ilcd.dataset import NS_PROCESS as _P
from openpcf.io.ilcd.dataset import parse_xml
from openpcf.io.ilcd.flows import read_flows
from openpcf.io.ilcd.processes import read_process
from openpcf.io.inventory import Inventory, Problem, Process, split_problems

Progress = Callable[[int, int], None]


class IlcdError(InputError):
    """An ILCD collection cannot be read as a whole (not a folder or zip, no processes)."""


def read_ilcd(path: Path, *, progress: Progress | None = None) -> Inventory:
    """Read an ILCD folder or zip (processes, flows, flow properties, unit groups).

    Parameters
    ----------
    path
        The folder or zip; the shallowest folder in it holding ``processes/`` is read.
    progress
        Called as ``progress(done, total)`` while process files are read.

    Raises
    ------
    IlcdError
        If ``path`` is not a folder or zip, holds no ``processes/`` folder, or no process in
        it can be read.
    """
    path = Path(path)
    try:
        archive = Archive(path)
    except InputError as exc:
        raise IlcdError(
            f"{exc} An ILCD collection has the folders processes/ and flows/."
        ) from None
    with archive:
        root = archive.root_of("processes")
        if root is None:
            raise IlcdError(
                f"{path}: no 'processes/' folder found. An ILCD collection has the folders "
                "processes/, flows/, flowproperties/ and unitgroups/ (e.g. an ILCD zip export)."
            )
        problems: list[Problem] = []
        flows, broken = read_flows(archive, root, problems)
        names = archive.members(f"{root}processes/", suffix=".xml")
        processes: list[Process] = []
        for done, name in enumerate(names, start=1):
            where = name[len(root) :]
            doc = parse_xml(archive, name, where, problems)
            if doc is not None:
                if doc.tag != f"{_P}processDataSet":
                    problems.append(
                        Problem(kind="malformed", where=where, detail=f"root element {doc.tag}")
                    )
                else:
                    proc = read_process(doc, where, flows, broken, problems)
                    if proc is not None:
                        processes.append(proc)
            if progress is not None:
                progress(done, len(names))
        if not processes:
            raise IlcdError(
                f"{path}: no readable ILCD process data set in {root}processes/ "
                f"({len(names)} .xml files). Check that this is an ILCD export."
            )
        return Inventory(
            format="ilcd",
            name=path.stem,
            processes=tuple(processes),
            flows=flows,
            **split_problems(problems),
            licence=archive.licence(),
            source=path.name,
        )
