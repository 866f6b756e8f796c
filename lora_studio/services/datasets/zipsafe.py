"""Decide which entries of an uploaded zip may be unpacked, before anything is read.

Refused per entry: ``..`` parts, absolute paths, drive letters, NUL and other hostile names,
symlinks, encrypted entries and nested archives. Refused for the whole archive (a zip bomb):
too many entries, too much uncompressed data, or an extreme compression ratio. ``zipfile``
stops reading an entry at its declared size and checks the CRC, so a lying header cannot
unpack more than was declared.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass

from lora_studio.core.errors import InvalidName, UnsafeArchive
from lora_studio.core.paths import safe_name

MAX_ENTRIES = 100_000
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 200
# Below this size a high ratio is harmless (a caption of repeated tags compresses very well).
RATIO_FLOOR_BYTES = 1024**2
_DRIVE = re.compile(r"^[A-Za-z]:")
_IGNORED_PARTS = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})
_ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int = MAX_ENTRIES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: int = MAX_RATIO


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """A file entry that passed the checks; ``parts`` are its safe path components."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RefusedEntry:
    name: str
    reason: str


def check_archive(archive: zipfile.ZipFile, limits: ZipLimits = ZipLimits()) -> None:
    """Raise UnsafeArchive when the archive as a whole looks like a zip bomb."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(
            f"The archive has {len(infos)} entries; at most {limits.max_entries} are unpacked."
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        raise UnsafeArchive(
            f"The archive would unpack to {total:,} bytes, more than the limit of {limits.max_total_bytes:,}.",
            hint="Split it into smaller archives.",
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(
            1, info.compress_size
        ):
            raise UnsafeArchive(
                f"Entry {info.filename!r} expands {info.file_size // max(1, info.compress_size)}x "
                f"(limit {limits.max_ratio}x): refused as a zip bomb."
            )


def classify_entries(archive: zipfile.ZipFile) -> tuple[list[ZipEntry], list[RefusedEntry]]:
    """Split the archive's file entries into safe ones and refused ones (with reasons)."""
    accepted: list[ZipEntry] = []
    refused: list[RefusedEntry] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        reason, parts = entry_problem(info)
        if reason is None and parts:
            accepted.append(ZipEntry(info, parts))
        elif reason is not None:
            refused.append(RefusedEntry(info.filename, reason))
    return accepted, refused


def entry_problem(info: zipfile.ZipInfo) -> tuple[str | None, tuple[str, ...]]:
    """(reason to refuse, ()) or (None, parts); (None, ()) means "skip silently" (macOS litter)."""
    name = info.filename
    if "\x00" in name:
        return "the name contains a NUL character", ()
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute paths are not allowed in archives", ()
    raw_parts = [part for part in name.replace("\\", "/").split("/") if part]
    if ".." in raw_parts:
        return "the path contains '..' (it would leave the dataset)", ()
    if any(part in _IGNORED_PARTS or part.startswith("._") for part in raw_parts):
        return None, ()
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic links are not unpacked", ()
    if info.flag_bits & 0x1:
        return "the entry is encrypted", ()
    if raw_parts and raw_parts[-1].lower().endswith(_ARCHIVE_SUFFIXES):
        return "archives inside archives are not unpacked", ()
    try:
        parts = tuple(safe_name(part) for part in raw_parts)
    except InvalidName as error:
        return f"unusable name: {error.reason}", ()
    return None, parts
