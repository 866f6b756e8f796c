"""Character tag names from the taggers on this machine (category 4 of WD14's ``selected_tags.csv``).

Only taggers already downloaded into ``<models_dir>/taggers/<name>/`` are read; with none, there
are no character tags and the "character tags in a style set" suggestion is simply not made.
Parsed files are cached by (path, mtime, size): the CSVs are large and rarely change.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

from lora_studio.services.tagging import TAGGERS_FOLDER

CHARACTER_CATEGORY = "4"
LABELS_FILE = "selected_tags.csv"


class CharacterTags:
    def __init__(self, models_dir: Path) -> None:
        self._folder = models_dir / TAGGERS_FOLDER
        self._cache: dict[Path, tuple[int, int, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def known(self) -> frozenset[str]:
        """Every character tag of every downloaded tagger (empty when none is downloaded)."""
        if not self._folder.is_dir():
            return frozenset()
        found: set[str] = set()
        for labels in sorted(self._folder.glob(f"*/{LABELS_FILE}")):
            found |= self._read(labels)
        return frozenset(found)

    def _read(self, path: Path) -> frozenset[str]:
        stat = path.stat()
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None and hit[:2] == (stat.st_mtime_ns, stat.st_size):
            return hit[2]
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            names = frozenset(
                row["name"] for row in csv.DictReader(handle) if row.get("category") == CHARACTER_CATEGORY
            )
        with self._lock:
            self._cache[path] = (stat.st_mtime_ns, stat.st_size, names)
        return names
