"""Image sizes and EXIF orientation, read from headers once and kept under the cache folder.

Keyed per file by name + size + mtime, so a changed file is read again. sd-scripts sizes
buckets from the stored pixel size (``imagesize``), ignoring EXIF, and so do we.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from lora_studio.core.atomic import write_bytes_atomic
from lora_studio.services.datasets.scan import FileEntry
from lora_studio.services.datasets.verify import ORIENTATION_TAG

CACHE_VERSION = 1


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    orientation: int = 1
    problem: str | None = None


# name -> (size, mtime_ns, width, height, orientation, problem)
_Row = tuple[int, int, int, int, int, str | None]


def read_image_info(path: Path) -> ImageInfo:
    """Header-only read: size and orientation, or a problem when Pillow cannot open the file."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            try:
                orientation = image.getexif().get(ORIENTATION_TAG, 1)
            except (OSError, SyntaxError, ValueError):
                orientation = 1
            if not isinstance(orientation, int) or not 1 <= orientation <= 8:
                orientation = 1
            return ImageInfo(width, height, orientation)
    except UnidentifiedImageError:
        return ImageInfo(0, 0, 1, "not an image Pillow can read")
    except Image.DecompressionBombError as error:
        return ImageInfo(0, 0, 1, str(error))
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        return ImageInfo(0, 0, 1, f"cannot be read: {error}")


class ImageInfoCache:
    """Per-folder JSON files under ``cache_dir``; thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._folders: dict[Path, dict[str, _Row]] = {}

    def infos(self, folder: Path, entries: Sequence[FileEntry]) -> dict[str, ImageInfo]:
        """Info for each entry of ``folder``; reads only files that are new or changed."""
        rows = self._rows(folder)
        result: dict[str, ImageInfo] = {}
        fresh: dict[str, _Row] = {}
        for entry in entries:
            row = rows.get(entry.name)
            if row is None or row[0] != entry.size or row[1] != entry.mtime_ns:
                info = read_image_info(folder / entry.name)
                row = (entry.size, entry.mtime_ns, info.width, info.height, info.orientation, info.problem)
                fresh[entry.name] = row
            result[entry.name] = ImageInfo(row[2], row[3], row[4], row[5])
        if fresh:
            with self._lock:
                rows.update(fresh)
                snapshot = dict(rows)
            self._save(folder, snapshot)
        return result

    def forget(self, folder: Path, names: Sequence[str]) -> None:
        rows = self._rows(folder)
        with self._lock:
            for name in names:
                rows.pop(name, None)

    def drop(self, folder: Path) -> None:
        """Forget a folder that is being deleted or renamed, on disk too."""
        with self._lock:
            self._folders.pop(folder, None)
        self._file(folder).unlink(missing_ok=True)

    def _file(self, folder: Path) -> Path:
        key = hashlib.sha1(str(folder.resolve()).encode(), usedforsecurity=False).hexdigest()
        return self.cache_dir / f"{key}.json"

    def _rows(self, folder: Path) -> dict[str, _Row]:
        with self._lock:
            rows = self._folders.get(folder)
            if rows is None:
                rows = self._load(folder)
                self._folders[folder] = rows
            return rows

    def _load(self, folder: Path) -> dict[str, _Row]:
        try:
            data = json.loads(self._file(folder).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries", {})
        rows: dict[str, _Row] = {}
        for name, row in entries.items():
            if isinstance(row, list) and len(row) == 6:
                rows[name] = (row[0], row[1], row[2], row[3], row[4], row[5])
        return rows

    def _save(self, folder: Path, rows: dict[str, _Row]) -> None:
        document = {"version": CACHE_VERSION, "folder": str(folder), "entries": rows}
        write_bytes_atomic(self._file(folder), json.dumps(document, separators=(",", ":")).encode())
