"""Durable file writes: an exclusive lock, atomic replace and fsync'd appends.

The audit trail, the key store, the status list, the verification package, the certificate
registry, the PACT peers file and inboxes, reports and the database store all write files that
must never be seen half-written: a reader either sees the old content or the new one. This
module is the one place that knows how; nothing else calls ``os.replace`` or ``os.fsync``.

- :func:`exclusive_lock` holds an OS advisory lock on a ``.lock`` file beside the target, so two
  ``openpcf`` processes appending to the same trail queue up instead of interleaving lines.
- :func:`atomic_write` writes a temporary file in the same folder, fsyncs it, renames it over
  the target (atomic on POSIX and Windows) and fsyncs the folder so the rename survives a crash.
- :func:`atomic_replace_dir` moves a finished temporary folder into place the same way: its
  files and itself are fsynced first, the rename is atomic, the parent folder is fsynced after.
- :func:`append_line` appends one line and fsyncs before returning.
- :func:`write_line_at` writes one line at a given byte offset, cuts what followed and fsyncs:
  the audit trail's append, which must know exactly where its record starts and ends, and which
  overwrites the torn bytes of an interrupted append in the same write (a process killed
  between two system calls never leaves them gone with no record naming them yet).
  :func:`truncate_file` undoes it.

Design note: advisory locks only exclude cooperating writers (other ``openpcf`` processes). The
audit trail does not rely on the lock for integrity: the hash chain detects any change made
behind its back.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (via ``target.lock``) for the ``with`` block."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _lock(fd)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` survive a crash (a no-op on Windows)."""
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    # Windows' fsync (_commit) needs a handle open for writing.
    fd = os.open(path, os.O_RDWR if sys.platform == "win32" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(target: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``target`` with ``data`` atomically (temp file + fsync + rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)


def atomic_replace_dir(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target`` in the same parent folder, atomically.

    Every file under ``tmp`` and ``tmp`` itself are fsynced before the rename, and the parent
    after it, so after a crash ``target`` is either absent or complete.
    """
    for path in sorted(tmp.rglob("*"), reverse=True):
        if path.is_dir():
            fsync_dir(path)
        elif path.is_file():
            _fsync_file(path)
    fsync_dir(tmp)
    os.replace(tmp, target)
    fsync_dir(target.parent)


def append_line(target: Path, line: str) -> None:
    """Append ``line`` plus a newline to ``target`` and fsync it (create the file if needed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    with open(target, "ab") as handle:
        handle.write(line.encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        fsync_dir(target.parent)


def write_line_at(target: Path, offset: int, line: str, *, mode: int = 0o600) -> int:
    """Write ``line`` plus a newline at byte ``offset`` of ``target``, drop what followed, fsync.

    Returns the offset after the newline (the file's new size). ``offset`` is normally the
    file's size (an append). If the write fails (a full disk), the file is cut back to
    ``offset`` before the error is raised, so no partial line stays behind. A new file is
    created with ``mode`` (default owner-only: the audit trail names who calculated what).
    """
    data = line.encode("utf-8") + b"\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), mode)
    try:
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.ftruncate(fd, offset + len(data))
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise
    finally:
        os.close(fd)
    if created:
        fsync_dir(target.parent)
    return offset + len(data)


def truncate_file(target: Path, size: int) -> None:
    """Cut ``target`` to ``size`` bytes and fsync it (undoing :func:`write_line_at`)."""
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(folder: Path) -> Path:
    """Create ``folder`` readable by its owner only (0700), whatever the umask.

    For OpenPCF's home: it holds signing keys, the token secret, client-secret hashes and
    supplier data. An existing folder keeps its mode (a shared folder chosen on purpose stays
    as it is).
    """
    if not folder.exists():
        try:
            folder.mkdir(parents=True, mode=0o700)
        except FileExistsError:  # another process made it between the check and here
            return folder
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    return folder
