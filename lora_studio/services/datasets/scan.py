"""Folder listings cached by the folder's mtime, so a click does not rescan 20,000 files.

Adding, removing or renaming a file changes its folder's mtime, which invalidates the entry.
A listing taken within ``RACY_WINDOW_NS`` of the folder's last change is not cached: a second
change in the same clock tick would not move the mtime (the "racy git" problem).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from lora_studio.core.layout import CAPTION_EXTENSIONS, IMAGE_EXTENSIONS

RACY_WINDOW_NS = 1_000_000_000


class FileEntry(NamedTuple):
    """One file; a NamedTuple because a frozen dataclass is several times slower to build,
    and a 20,000-file folder builds 20,000 of them."""

    name: str
    size: int
    mtime_ns: int
    # Split once at scan time: listings are read on every click.
    stem: str = ""
    suffix: str = ""

    @classmethod
    def of(cls, name: str, size: int, mtime_ns: int) -> FileEntry:
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem:  # "README" or ".hidden": no extension, as os.path.splitext says
            return cls(name, size, mtime_ns, name, "")
        return cls(name, size, mtime_ns, stem, "." + extension.lower())


@dataclass(frozen=True, slots=True)
class FolderListing:
    """The visible entries of one folder (hidden names skipped), sorted by name, with what
    every caller needs computed once."""

    folder: Path
    mtime_ns: int
    files: tuple[FileEntry, ...]
    folders: tuple[str, ...]
    images: tuple[FileEntry, ...] = ()
    caption_stems: frozenset[str] = frozenset()
    captioned_count: int = 0
    size_bytes: int = 0

    @classmethod
    def of(
        cls, folder: Path, mtime_ns: int, files: tuple[FileEntry, ...], folders: tuple[str, ...]
    ) -> FolderListing:
        images = tuple(entry for entry in files if entry.suffix in IMAGE_EXTENSIONS)
        stems = frozenset(entry.stem for entry in files if entry.suffix in CAPTION_EXTENSIONS)
        captioned = sum(1 for image in images if image.stem in stems)
        size = sum(entry.size for entry in files)
        return cls(folder, mtime_ns, files, folders, images, stems, captioned, size)


def read_listing(folder: Path) -> FolderListing:
    """Scan ``folder`` now (no cache). A missing folder reads as empty."""
    files: list[FileEntry] = []
    folders: list[str] = []
    make = FileEntry.of
    try:
        mtime_ns = folder.stat().st_mtime_ns
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(name)
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    files.append(make(name, stat.st_size, stat.st_mtime_ns))
    except FileNotFoundError:
        return FolderListing.of(folder, 0, (), ())
    files.sort(key=lambda item: item.name)
    folders.sort()
    return FolderListing.of(folder, mtime_ns, tuple(files), tuple(folders))


class FolderCache:
    """Thread-safe cache of folder listings, checked by one ``stat`` of the folder per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listings: dict[Path, FolderListing] = {}

    def listing(self, folder: Path) -> FolderListing:
        try:
            mtime_ns = folder.stat().st_mtime_ns
        except FileNotFoundError:
            self.invalidate(folder)
            return FolderListing.of(folder, 0, (), ())
        with self._lock:
            cached = self._listings.get(folder)
        if cached is not None and cached.mtime_ns == mtime_ns:
            return cached
        listing = read_listing(folder)
        if time.time_ns() - listing.mtime_ns > RACY_WINDOW_NS:
            with self._lock:
                self._listings[folder] = listing
        return listing

    def invalidate(self, folder: Path) -> None:
        """Forget ``folder`` and everything below it (after a rename or delete)."""
        with self._lock:
            for key in [key for key in self._listings if key == folder or key.is_relative_to(folder)]:
                del self._listings[key]
