"""Choose a renderer and write its output atomically: all of the report or nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from openpcf.files.durable import atomic_write
from openpcf.reports.data import ReportData
from openpcf.reports.errors import ReportOutputError, UnknownReportFormatError

FORMATS: tuple[str, ...] = ("html", "pdf")


def check_format(fmt: str) -> str:
    """Return ``fmt`` if a renderer writes it, else raise :class:`UnknownReportFormatError`."""
    if fmt not in FORMATS:
        raise UnknownReportFormatError(
            f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}"
        )
    return fmt


def render(data: ReportData, fmt: str, *, fallback_fonts: Sequence[Path] | None = None) -> bytes:
    """The report in ``fmt`` as bytes (HTML is UTF-8); ``fallback_fonts`` as for
    :func:`~openpcf.reports.pdf.render_pdf` (the HTML leaves fonts to the browser)."""
    if check_format(fmt) == "html":
        from openpcf.reports.html import render_html

        return render_html(data).encode("utf-8")
    from openpcf.reports.pdf import render_pdf

    return render_pdf(data, fallback_fonts=fallback_fonts)


def check_writable(path: Path) -> None:
    """Raise :class:`ReportOutputError` early if ``path`` cannot be written (before any work)."""
    folder = path.parent
    if path.is_dir():
        raise ReportOutputError(f"cannot write the report to {path}: it is a folder; give a file")
    if not folder.is_dir():
        raise ReportOutputError(
            f"cannot write the report to {path}: folder {folder} does not exist; create it first"
        )
    if not os.access(folder, os.W_OK):
        raise ReportOutputError(
            f"cannot write the report to {path}: folder {folder} is not writable; choose another"
        )


def write_report(path: Path | str, content: bytes) -> Path:
    """Write ``content`` to ``path`` through a temporary file in the same folder and rename.

    A reader never sees a half-written report, and a failure leaves any earlier file as it was.

    Raises
    ------
    ReportOutputError
        If the folder is missing or not writable, or writing fails (disk full, permissions).
    """
    path = Path(path)
    check_writable(path)
    try:
        atomic_write(path, content, mode=0o600)
    except OSError as e:
        raise ReportOutputError(f"cannot write the report to {path}: {e.strerror or e}") from e
    return path
