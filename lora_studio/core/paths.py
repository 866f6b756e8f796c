"""The one place where a user-given name becomes a path inside the workspace.

Every feature that turns a name into a file or folder goes through ``safe_name`` and
``child_path``; containment is checked on resolved paths with ``Path.is_relative_to``
(never a string prefix), so ``..``, absolute paths and symlinks that leave the root are
refused alike.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from lora_studio.core.errors import InvalidName, PathEscape

MAX_NAME_LENGTH = 100

# Windows device names are refused everywhere: a dataset copied to a Windows box must still work.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.I)
_FORBIDDEN_CHARS = set('/\\:*?"<>|')
# Control, format (zero-width, bidi overrides), surrogate, private-use, unassigned, line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# ASCII without control characters or separators: the common name, cleared without the per-character
# Unicode checks below (nothing in it is in those categories, and NFKC leaves it as it is).
_PLAIN_ASCII = re.compile(r'[^\x00-\x1f\x7f/\\:*?"<>|]*')


def safe_name(name: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``name`` (NFC-normalised) if it can be one path component, else raise.

    Raises:
        InvalidName: empty, ``.``/``..``, hidden, separators, NUL or other control or
            invisible characters, look-alike separators, reserved device names, or too long.
    """
    if not isinstance(name, str):
        raise InvalidName(repr(name), "a name must be text")
    normal = unicodedata.normalize("NFC", name)
    if not normal or not normal.strip():
        raise InvalidName(name, "it is empty")
    if normal in (".", ".."):
        raise InvalidName(name, "it names a folder link")
    if normal != normal.strip():
        raise InvalidName(name, "it starts or ends with white space")
    if not (normal.isascii() and _PLAIN_ASCII.fullmatch(normal)):
        _check_characters(name, normal)
    if normal.startswith("."):
        raise InvalidName(name, "it starts with a dot (a hidden file)")
    if normal.endswith("."):
        raise InvalidName(name, "it ends with a dot")
    if len(normal) > max_length or len(normal.encode()) > 255:
        raise InvalidName(name, f"it is longer than {max_length} characters")
    if _RESERVED.match(normal):
        raise InvalidName(name, "it is a reserved device name")
    return normal


def _check_characters(name: str, normal: str) -> None:
    for char in normal:
        if char in _FORBIDDEN_CHARS:
            raise InvalidName(name, f"it contains {char!r}, which is not allowed in names")
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidName(name, f"it contains the invisible or control character U+{ord(char):04X}")
    # Full-width and other look-alike separators fold to real ones under NFKC.
    if any(char in _FORBIDDEN_CHARS for char in unicodedata.normalize("NFKC", normal)):
        raise InvalidName(name, "it contains a character that looks like a path separator")


def ensure_inside(root: Path, path: Path) -> Path:
    """Resolve ``path`` (following symlinks) and check that it stays inside ``root``.

    Raises:
        PathEscape: the resolved path is not ``root`` or below it.
    """
    real_root = root.resolve()
    real = (real_root / path).resolve() if not path.is_absolute() else path.resolve()
    if not real.is_relative_to(real_root):
        raise PathEscape(str(path), str(root))
    return real


def child_path(root: Path, *names: str) -> Path:
    """Join checked names below ``root`` and verify the result stays inside it.

    Returns the unresolved join (so the caller sees the name it asked for) once the
    resolved form has been checked.

    Raises:
        InvalidName: a name is not a usable path component.
        PathEscape: a symlink on the way leads out of ``root``.
    """
    joined = root.joinpath(*(safe_name(name) for name in names))
    ensure_inside(root, joined)
    return joined


def relative_inside(root: Path, relative: str) -> Path:
    """Turn a relative path with ``/`` separators (from an archive or a gallery) into a checked path.

    Raises:
        InvalidName: empty parts, ``..``, absolute paths or drive letters.
        PathEscape: the result leaves ``root`` through a symlink.
    """
    if relative.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", relative):
        raise InvalidName(relative, "absolute paths are not allowed")
    parts = [part for part in relative.replace("\\", "/").split("/") if part not in ("",)]
    if not parts:
        raise InvalidName(relative, "it is empty")
    return child_path(root, *parts)
