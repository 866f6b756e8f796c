"""Replace thousands of caption files, each one atomically, without per-file inode churn.

Why not a fresh temp file + rename per caption: each rename frees the caption's old inode and
each temp file allocates a new one. On ext4 without a journal (as on the machines this project is
tested on) the inode allocator walks past every inode freed in the last minute before it picks one, so
20,000 renames cost O(n²) kernel time: 5.7 s, against 0.1 s in memory. Here one *spare* file per
folder is written and then swapped with the caption in one atomic step (``renameat2`` with
``RENAME_EXCHANGE``); the spare then holds the caption's old inode and is overwritten in place for
the next caption, so no inode is created or freed and no block allocated per caption. Where the
exchange is not available (not Linux, or a file system without it) each caption falls back to
a fresh temp file + ``os.replace``: the same atomicity, the old speed.

Either way a reader, or a process killed at any instant, sees every caption old or new, never
torn. Durability (power loss) is the caller's concern: see ``changes.apply_plan``.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import stat
import sys
from collections.abc import Callable
from types import TracebackType

from lora_studio.core.renames import EXCHANGE, UNSUPPORTED, Exchange

# Temporary and spare files: ".<caption name>.<pid>x<n>.tmp" beside the caption (hidden from the
# scan, and matched by store.remove_stale_temps after a crash).
_COUNTER = itertools.count()
# O_NOFOLLOW: never write through a link put where a spare was; O_BINARY: no "\r\n" on Windows.
_FLAGS = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def temp_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}x{next(_COUNTER)}.tmp")


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.ftruncate(fd, len(data))  # the spare may have held a longer caption


class CaptionWriter:
    """Write caption files atomically, fast; use as a context manager (it removes its spares).

    ``exchange`` is injectable so tests can exercise the fallback; None disables exchanging.
    Not thread-safe: one writer per bulk operation.
    """

    def __init__(self, *, exchange: Exchange | None = EXCHANGE) -> None:
        self._exchange = exchange
        self._spares: dict[str, str] = {}  # folder -> its spare file

    def __enter__(self) -> CaptionWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def write(self, path: str, data: bytes) -> os.stat_result:
        """Replace (or create) ``path`` with ``data``; returns the new file's stat."""
        folder = os.path.dirname(path)
        spare, fd = self._open_spare(folder, path)
        try:
            _write_fd(fd, data)
            written = os.fstat(fd)
        finally:
            os.close(fd)
        if self._exchange is not None:
            try:
                self._exchange(spare, path)
                return written  # the spare now holds the old caption, ready for the next one
            except FileNotFoundError:
                pass  # no caption yet: a plain rename creates it
            except OSError as error:
                if error.errno not in UNSUPPORTED:
                    raise
                self._exchange = None  # this file system cannot exchange: fall back for good
        del self._spares[folder]
        os.replace(spare, path)
        return written

    def close(self) -> None:
        """Delete the spares (they hold old captions, already saved in the undo record)."""
        for spare in self._spares.values():
            try:
                os.unlink(spare)
            except FileNotFoundError:
                pass
        self._spares.clear()

    def _open_spare(self, folder: str, path: str) -> tuple[str, int]:
        spare = self._spares.get(folder)
        if spare is not None:
            try:
                fd = os.open(spare, _FLAGS)
            except OSError:  # read-only, or replaced by a link or a folder: take a new one
                del self._spares[folder]
                with contextlib.suppress(OSError):
                    os.unlink(spare)  # a folder stays (unlink refuses it)
            else:
                info = os.fstat(fd)
                # A caption hard-linked elsewhere must not be overwritten in place: drop our name.
                if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                    return spare, fd
                os.close(fd)
                os.unlink(spare)
        spare = temp_name(path)
        fd = os.open(spare, _FLAGS | os.O_CREAT | os.O_EXCL, 0o644)
        self._spares[folder] = spare
        return spare, fd


def flush_file_system(folder: str) -> None:
    """Make everything written under ``folder`` durable in one call (syncfs), not one per file."""
    if _SYNCFS is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    if hasattr(os, "sync"):
        os.sync()


def _load_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        syncfs: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return syncfs


_SYNCFS = _load_syncfs()
