"""Caption files on disk: scan a dataset, read with encoding checks, write atomically, cache.

Parsed captions are cached by (path, mtime_ns, size), so repeated frequency tables and filters
over 20,000 captions cost one ``stat`` per file instead of a read.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from lora_studio.core.atomic import write_text_atomic
from lora_studio.core.errors import CaptionNotUtf8, ImageNotFound, InvalidInput
from lora_studio.core.layout import CAPTION_EXTENSIONS, IMAGE_EXTENSIONS, parse_concept_folder
from lora_studio.core.paths import relative_inside
from lora_studio.services.captions.models import CaptionState
from lora_studio.services.captions.tags import one_line, split_tags
from lora_studio.services.datasets.scan import RACY_WINDOW_NS

# Temporary and spare files of a bulk write (writer.py): ".<caption name>.<pid>x<n>.tmp".
_STALE_TEMP = re.compile(r"^\.(.+\.(?:txt|caption))\.[A-Za-z0-9_]+\.tmp$")


@dataclass(frozen=True)
class ParsedCaption:
    state: CaptionState
    raw: str | None  # the exact file content; None when there is no file or it is not UTF-8
    text: str  # one line, stripped

    # Split on first use: a bulk edit caches the 20,000 captions it writes, and only a later
    # table or filter needs their tags.
    @cached_property
    def tags(self) -> tuple[str, ...]:
        return tuple(split_tags(self.text)) if self.text else ()

    @cached_property
    def tag_set(self) -> frozenset[str]:
        return frozenset(self.tags)


MISSING = ParsedCaption(CaptionState.MISSING, None, "")
_NOT_UTF8 = ParsedCaption(CaptionState.NOT_UTF8, None, "")


def parse_caption_bytes(data: bytes) -> ParsedCaption:
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_UTF8
    text = one_line(raw)
    return ParsedCaption(CaptionState.OK if text else CaptionState.EMPTY, raw, text)


def caption_content(text: str) -> str:
    """What a caption file holds for ``text``: one line, UTF-8, newline-terminated (as WD14 writes)."""
    return one_line(text) + "\n"


class Entry(NamedTuple):
    """One image of a scan with its (possibly missing) caption (a tuple: 20,000 are built per scan)."""

    image: str  # "10_alice/001.png"
    concept: str  # "10_alice"
    caption: str  # "10_alice/001.txt", whether the file exists or not
    parsed: ParsedCaption


@dataclass(frozen=True)
class Scan:
    entries: tuple[Entry, ...]
    orphans: tuple[str, ...]  # caption files (either extension) without an image
    txt_files: int
    caption_files: int


@dataclass(frozen=True)
class FolderScan:
    """One concept folder's scan. While the folder's mtime is unchanged no file was added,
    removed or renamed in it, so only its captions need a ``stat`` (for in-place edits)."""

    dir_mtime_ns: int
    listed_ns: int
    entries: tuple[Entry, ...]
    orphans: tuple[str, ...]
    txt_files: int
    caption_files: int
    captions: tuple[tuple[int, str, int, int], ...]  # (entry index, caption path, mtime_ns, size)

    def reusable(self, dir_mtime_ns: int) -> bool:
        # Only a listing taken a while after the folder's last change: a second change in the same
        # timestamp tick would not move the mtime (as for the datasets' listings).
        return dir_mtime_ns == self.dir_mtime_ns < self.listed_ns - RACY_WINDOW_NS


class CaptionCache:
    """Parsed captions keyed by path, valid while (mtime_ns, size) match, and the last scan of
    each folder. Thread-safe."""

    def __init__(self, max_entries: int = 500_000) -> None:
        self._items: dict[str, tuple[int, int, ParsedCaption]] = {}
        self._folders: dict[tuple[str, str], FolderScan] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, path: str, stat: os.stat_result) -> ParsedCaption:
        hit = self._items.get(path)
        if hit is not None and hit[0] == stat.st_mtime_ns and hit[1] == stat.st_size:
            return hit[2]
        with open(path, "rb") as handle:
            parsed = parse_caption_bytes(handle.read())
        self.put(path, stat, parsed)
        return parsed

    def put(self, path: str, stat: os.stat_result, parsed: ParsedCaption) -> None:
        with self._lock:
            if len(self._items) >= self._max:
                self._items.clear()
            self._items[path] = (stat.st_mtime_ns, stat.st_size, parsed)

    def folder(self, key: tuple[str, str]) -> FolderScan | None:
        return self._folders.get(key)

    def put_folder(self, key: tuple[str, str], scan: FolderScan) -> None:
        with self._lock:
            if len(self._folders) >= 10_000:
                self._folders.clear()
            self._folders[key] = scan


def concept_folders(dataset_dir: Path) -> list[str]:
    """Names of the ``<repeats>_<concept>`` folders of a dataset, sorted."""
    with os.scandir(dataset_dir) as entries:
        return sorted(
            entry.name
            for entry in entries
            if entry.is_dir() and not entry.name.startswith(".") and parse_concept_folder(entry.name)
        )


def scan_dataset(dataset_dir: Path, folders: list[str], extension: str, cache: CaptionCache) -> Scan:
    """Every image of ``folders`` with its caption for ``extension``, plus orphans and counts."""
    parts = [_folder_scan(dataset_dir / folder, folder, extension, cache) for folder in folders]
    return Scan(
        tuple(entry for part in parts for entry in part.entries),
        tuple(orphan for part in parts for orphan in part.orphans),
        sum(part.txt_files for part in parts),
        sum(part.caption_files for part in parts),
    )


def _folder_scan(path: Path, folder: str, extension: str, cache: CaptionCache) -> FolderScan:
    key = (str(path), extension)
    dir_mtime_ns = os.stat(path).st_mtime_ns  # read before the listing: a later change differs
    previous = cache.folder(key)
    if previous is not None and previous.reusable(dir_mtime_ns):
        current = _revalidate(previous, cache)
        if current is not None:
            if current is not previous:
                cache.put_folder(key, current)
            return current
    current = _list_folder(path, folder, extension, cache, dir_mtime_ns, time.time_ns())
    cache.put_folder(key, current)
    return current


def _revalidate(previous: FolderScan, cache: CaptionCache) -> FolderScan | None:
    """``previous`` with captions edited in place re-read; None when one has vanished meanwhile."""
    changed: list[tuple[int, os.stat_result]] = []
    stat = os.stat
    try:
        for position, (_, path, mtime_ns, size) in enumerate(previous.captions):
            info = stat(path)
            if info.st_mtime_ns != mtime_ns or info.st_size != size:
                changed.append((position, info))
    except FileNotFoundError:
        return None
    if not changed:
        return previous
    entries, captions = list(previous.entries), list(previous.captions)
    for position, info in changed:
        index, path, _, _ = captions[position]
        entries[index] = entries[index]._replace(parsed=cache.get(path, info))
        captions[position] = (index, path, info.st_mtime_ns, info.st_size)
    return replace(previous, entries=tuple(entries), captions=tuple(captions))


def _list_folder(
    path: Path, folder: str, extension: str, cache: CaptionCache, dir_mtime_ns: int, listed_ns: int
) -> FolderScan:
    # One scandir per folder; the image rule is layout.is_image's (suffix in IMAGE_EXTENSIONS),
    # applied on strings: Path objects or os.path.splitext per file would dominate the budget
    # of a 300 ms filter over 20,000 images.
    images: list[tuple[str, str]] = []
    found: dict[str, os.DirEntry[str]] = {}
    counts = {".txt": 0, ".caption": 0}
    with os.scandir(path) as scan:
        for item in scan:
            name = item.name
            dot = name.rfind(".")
            if dot <= 0 or name[0] == ".":
                continue
            suffix = name[dot:].lower()
            if suffix in IMAGE_EXTENSIONS and item.is_file():
                images.append((name, name[:dot]))
            elif suffix in CAPTION_EXTENSIONS and item.is_file():
                found[name] = item
                counts[suffix] += 1
    images.sort()
    stems = {stem for _, stem in images}
    entries: list[Entry] = []
    captions: list[tuple[int, str, int, int]] = []
    for name, stem in images:
        caption_name = stem + extension
        caption = found.get(caption_name)
        parsed = MISSING
        if caption is not None:
            info = caption.stat()
            parsed = cache.get(caption.path, info)
            captions.append((len(entries), caption.path, info.st_mtime_ns, info.st_size))
        entries.append(Entry(f"{folder}/{name}", folder, f"{folder}/{caption_name}", parsed))
    orphans = tuple(f"{folder}/{name}" for name in sorted(found) if name[: name.rfind(".")] not in stems)
    return FolderScan(
        dir_mtime_ns, listed_ns, tuple(entries), orphans, counts[".txt"], counts[".caption"], tuple(captions)
    )


def image_path(dataset_dir: Path, image: str) -> Path:
    """Check a relative image path from the UI/CLI and return it.

    Raises:
        InvalidName, PathEscape: a hostile path.
        InvalidInput: not ``<repeats>_<concept>/<image file>``.
        ImageNotFound: the image does not exist (any more).
    """
    path = relative_inside(dataset_dir, image)
    parts = path.relative_to(dataset_dir).parts
    if len(parts) != 2 or parse_concept_folder(parts[0]) is None:
        raise InvalidInput(f"{image!r} is not '<repeats>_<concept>/<image>' inside the dataset.")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise InvalidInput(f"{image!r} is not an image ({', '.join(sorted(IMAGE_EXTENSIONS))}).")
    if not path.is_file():
        raise ImageNotFound(
            image, hint="It may have been deleted or renamed; refresh the list. Its caption was not changed."
        )
    return path


def read_caption(path: Path) -> ParsedCaption:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return MISSING
    return parse_caption_bytes(data)


def require_utf8(parsed: ParsedCaption, caption: str) -> None:
    if parsed.state is CaptionState.NOT_UTF8:
        raise CaptionNotUtf8(
            f"{caption} is not valid UTF-8, so it was not changed.",
            hint="Re-save it as UTF-8 in an editor, or confirm overwriting it (overwrite_non_utf8).",
        )


def write_caption_durable(path: Path, content: str) -> None:
    """Single edits: temp file + fsync + rename (core.atomic)."""
    write_text_atomic(path, content)


def remove_stale_temps(folder: Path) -> int:
    """Delete temporary caption files a killed bulk write left behind; returns how many."""
    removed = 0
    with os.scandir(folder) as scan:
        for item in scan:
            if _STALE_TEMP.match(item.name) and item.is_file():
                Path(item.path).unlink(missing_ok=True)
                removed += 1
    return removed
