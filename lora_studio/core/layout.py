"""The on-disk layout of a dataset, as sd-scripts reads it.

``datasets/<dataset>/<repeats>_<concept>/`` holds images with their caption files beside
them (``image.png`` + ``image.txt``). Every feature that walks a dataset uses these helpers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# What sd-scripts' train_util.IMAGE_EXTENSIONS accepts (lower case; matching is case-insensitive).
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif", ".jxl"})
CAPTION_EXTENSIONS = (".txt", ".caption")

_CONCEPT_FOLDER = re.compile(r"^(\d+)_(.+)$")


@dataclass(frozen=True)
class ConceptFolder:
    """One Kohya subset folder: ``<repeats>_<concept>``."""

    repeats: int
    concept: str

    @property
    def folder_name(self) -> str:
        return f"{self.repeats}_{self.concept}"


def parse_concept_folder(name: str) -> ConceptFolder | None:
    """``"10_mychar"`` → ConceptFolder(10, "mychar"); None when the name does not follow ``N_name``."""
    match = _CONCEPT_FOLDER.match(name)
    if not match:
        return None
    return ConceptFolder(int(match.group(1)), match.group(2))


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def iter_images(folder: Path) -> Iterator[Path]:
    """Image files directly inside ``folder``, sorted by name; hidden files are skipped."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file():
            continue
        path = Path(entry.path)
        if is_image(path):
            yield path


def caption_path(image: Path, extension: str = ".txt") -> Path:
    """The caption file that belongs to ``image`` for the given extension."""
    return image.with_suffix(extension)
