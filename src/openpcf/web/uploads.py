"""Bounds on what the pages' forms send: one body-size check, the form reader, the copy.

* :func:`bounded` (a route dependency) refuses a body from its declared ``Content-Length``
  before a byte of it is read: 411 (``error.length_required``) without a length, 413
  (``error.too_large``) over ``limit``. Every POST route of the pages declares one.
* :func:`form_reader` (a route dependency) parses the multipart form with bounds on its files,
  fields and parts (not Starlette's defaults), before the CSRF check reads the same cached
  form, and closes the uploads' temporary files once the answer is made.
* :func:`copy_upload` copies an uploaded file to disk, stopping one byte past its limit so the
  caller can tell "too large" without reading the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from openpcf.web.auth import PageRefused

__all__ = ["bounded", "copy_upload", "form_reader"]

#: The bytes read at a time by :func:`copy_upload`.
CHUNK = 1024 * 1024


def bounded(limit: int) -> Any:
    """A dependency refusing a request body larger than ``limit`` bytes (413), or of no
    declared length (411), before it is read."""

    def check(request: Request) -> None:
        length = request.headers.get("content-length", "")
        if not length.isdigit():
            raise PageRefused(411, "error.length_required")
        if int(length) > limit:
            raise PageRefused(413, "error.too_large")

    return Depends(check)


def form_reader(max_part: int, *, max_files: int = 4, max_fields: int = 20) -> Any:
    """A dependency parsing the form with these bounds (each part at most ``max_part``
    bytes); the parsed form is cached on the request for the CSRF check and the route."""

    async def read(request: Request) -> AsyncIterator[None]:
        try:
            await request.form(max_files=max_files, max_fields=max_fields, max_part_size=max_part)
            yield
        finally:
            await request.close()

    return Depends(read)


async def copy_upload(upload: UploadFile, target: Path, limit: int) -> int:
    """Copy ``upload`` to ``target``, stopping after ``limit + 1`` bytes; the bytes copied
    (more than ``limit``: the upload is too large)."""
    size = 0
    with target.open("wb") as out:
        while size <= limit:
            chunk = await upload.read(min(CHUNK, limit + 1 - size))
            if not chunk:
                break
            out.write(chunk)
            size += len(chunk)
    return size
