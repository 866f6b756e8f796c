"""Linux's ``renameat2``: swap two paths, or move one without ever replacing what is there, each in
one atomic system call. Elsewhere (not Linux, or a file system without it) callers fall back.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

_AT_FDCWD = -100
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
# What renameat2 answers where the kernel, the C library or the file system lacks the flag.
UNSUPPORTED = frozenset(
    {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EPERM}
)

Exchange = Callable[[str, str], None]
_Rename = Callable[[str, str, int], None]


def _load_renameat2() -> _Rename | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int

    def rename(source: str, target: str, flags: int) -> None:
        if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags):
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), source, None, target)  # EEXIST: FileExistsError

    return rename


_RENAMEAT2 = _load_renameat2()


def _exchange(first: str, second: str) -> None:
    assert _RENAMEAT2 is not None
    _RENAMEAT2(first, second, _RENAME_EXCHANGE)


# Swaps two existing paths atomically (OSError with an UNSUPPORTED errno where it cannot); None off Linux.
EXCHANGE: Exchange | None = _exchange if _RENAMEAT2 is not None else None


def move_no_replace(source: str | Path, target: str | Path) -> None:
    """Move ``source`` to ``target`` on one file system; FileExistsError instead of replacing ``target``.

    One ``renameat2(RENAME_NOREPLACE)`` where the system has it, else a hard link and an unlink
    (both refuse an existing target too), else a checked rename.
    """
    if _RENAMEAT2 is not None:
        try:
            _RENAMEAT2(str(source), str(target), _RENAME_NOREPLACE)
            return
        except OSError as error:
            if error.errno not in UNSUPPORTED or error.errno == errno.EXDEV:
                raise
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # hard links unsupported here: fall back to a checked rename
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.rename(source, target)
        return
    os.unlink(source)
