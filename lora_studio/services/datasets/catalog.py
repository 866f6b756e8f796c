"""Datasets and their concepts on disk: list, create, rename, delete, repeats.

A dataset is ``datasets/<dataset>/``; each concept is a ``<repeats>_<concept>`` folder inside
it (core/layout.py). Folders copied in by hand that follow the convention are recognised as is.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from lora_studio.core.errors import AlreadyExists, ConceptNotFound, DatasetNotFound, InvalidInput
from lora_studio.core.layout import ConceptFolder, parse_concept_folder
from lora_studio.core.paths import child_path, safe_name
from lora_studio.services.datasets.models import ConceptSummary, DatasetSummary
from lora_studio.services.datasets.scan import FolderCache

MIN_REPEATS = 1
MAX_REPEATS = 10_000
DEFAULT_REPEATS = 10


def check_repeats(repeats: int) -> int:
    """Raise InvalidInput unless ``repeats`` is a whole number sd-scripts will use."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not MIN_REPEATS <= repeats <= MAX_REPEATS:
        raise InvalidInput(
            f"Repeats must be a whole number from {MIN_REPEATS} to {MAX_REPEATS}, not {repeats!r}.",
            hint="sd-scripts skips a concept folder whose repeats are below 1.",
        )
    return repeats


def check_concept(concept: str) -> str:
    """The concept as a safe folder-name part; raises InvalidName."""
    return safe_name(concept, max_length=90)


class DatasetCatalog:
    """Reads and changes the dataset folders below ``datasets_dir``."""

    def __init__(self, datasets_dir: Path, folders: FolderCache) -> None:
        self.root = datasets_dir
        self.folders = folders

    # -- lookups ------------------------------------------------------------------------------
    def dataset_dir(self, name: str) -> Path:
        """The folder of an existing dataset; raises InvalidName, PathEscape or DatasetNotFound."""
        path = child_path(self.root, name)
        if not path.is_dir():
            raise DatasetNotFound(name, hint="Create it first, or pick one from the list.")
        return path

    def concept_folders(self, dataset: Path) -> list[tuple[ConceptFolder, Path]]:
        listing = self.folders.listing(dataset)
        found = []
        for folder in listing.folders:
            parsed = parse_concept_folder(folder)
            if parsed is not None:
                found.append((parsed, dataset / folder))
        return found

    def find_concept(self, dataset: Path, concept: str) -> tuple[ConceptFolder, Path] | None:
        """The folder of ``concept``; InvalidInput when two folders share it (``5_cat``, ``10_cat``)."""
        matches = [item for item in self.concept_folders(dataset) if item[0].concept == concept]
        if len(matches) > 1:
            names = ", ".join(path.name for _, path in matches)
            raise InvalidInput(
                f"Concept {concept!r} has several folders ({names}).",
                hint="Merge or rename them by hand so that each concept has one folder.",
            )
        return matches[0] if matches else None

    def require_concept(self, dataset: Path, concept: str) -> tuple[ConceptFolder, Path]:
        found = self.find_concept(dataset, concept)
        if found is None:
            raise ConceptNotFound(concept, hint=f"Dataset {dataset.name!r} has no such concept.")
        return found

    # -- listing ------------------------------------------------------------------------------
    def list_datasets(self) -> list[DatasetSummary]:
        listing = self.folders.listing(self.root)
        return [self.summary(self.root / name) for name in listing.folders]

    def summary(self, dataset: Path) -> DatasetSummary:
        concepts = []
        for parsed, folder in self.concept_folders(dataset):
            listing = self.folders.listing(folder)
            concepts.append(
                ConceptSummary(
                    concept=parsed.concept,
                    repeats=parsed.repeats,
                    folder=folder.name,
                    image_count=len(listing.images),
                    captioned_count=listing.captioned_count,
                    size_bytes=listing.size_bytes,
                )
            )
        root = self.folders.listing(dataset)
        other = tuple(name for name in root.folders if parse_concept_folder(name) is None)
        return DatasetSummary(
            name=dataset.name,
            path=dataset,
            concepts=tuple(concepts),
            image_count=sum(item.image_count for item in concepts),
            captioned_count=sum(item.captioned_count for item in concepts),
            size_bytes=sum(item.size_bytes for item in concepts) + root.size_bytes,
            loose_images=len(root.images),
            other_folders=other,
        )

    # -- changes ------------------------------------------------------------------------------
    def create(self, name: str, *, concept: str | None, repeats: int) -> Path:
        path = child_path(self.root, name)
        folder = (
            ConceptFolder(check_repeats(repeats), check_concept(concept)) if concept is not None else None
        )
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise AlreadyExists("dataset", name) from None
        if folder is not None:
            (path / folder.folder_name).mkdir()
        self.folders.invalidate(self.root)
        return path

    def rename(self, name: str, new_name: str) -> Path:
        source = self.dataset_dir(name)
        target = child_path(self.root, new_name)
        if target.exists() and not _same_entry(source, target):
            raise AlreadyExists("dataset", new_name)
        os.rename(source, target)
        self.folders.invalidate(source)
        self.folders.invalidate(self.root)
        return target

    def delete(self, name: str) -> None:
        """Move the dataset out of sight atomically, then remove it."""
        source = self.dataset_dir(name)
        trash = self.root / f".deleting-{uuid.uuid4().hex}"
        os.rename(source, trash)
        self.folders.invalidate(source)
        self.folders.invalidate(self.root)
        shutil.rmtree(trash)

    def add_concept(self, dataset: Path, concept: str, repeats: int) -> Path:
        name = check_concept(concept)
        folder = ConceptFolder(check_repeats(repeats), name)
        if self.find_concept(dataset, name) is not None:
            raise AlreadyExists("concept", name)
        path = child_path(dataset, folder.folder_name)
        path.mkdir()
        self.folders.invalidate(dataset)
        return path

    def ensure_concept(self, dataset: Path, concept: str, repeats: int) -> Path:
        """The concept's folder, created with ``repeats`` when missing (repeats of an existing one stay)."""
        found = self.find_concept(dataset, check_concept(concept))
        return found[1] if found else self.add_concept(dataset, concept, repeats)

    def set_repeats(self, dataset: Path, concept: str, repeats: int) -> Path:
        parsed, source = self.require_concept(dataset, concept)
        target = child_path(dataset, ConceptFolder(check_repeats(repeats), parsed.concept).folder_name)
        return self._move_folder(dataset, source, target)

    def rename_concept(self, dataset: Path, concept: str, new_concept: str) -> Path:
        parsed, source = self.require_concept(dataset, concept)
        name = check_concept(new_concept)
        if name != parsed.concept and self.find_concept(dataset, name) is not None:
            raise AlreadyExists("concept", name)
        target = child_path(dataset, ConceptFolder(parsed.repeats, name).folder_name)
        return self._move_folder(dataset, source, target)

    def _move_folder(self, dataset: Path, source: Path, target: Path) -> Path:
        if source == target:
            return target
        if target.exists() and not _same_entry(source, target):
            raise AlreadyExists("folder", target.name)
        os.rename(source, target)
        self.folders.invalidate(source)
        self.folders.invalidate(dataset)
        return target


def _same_entry(first: Path, second: Path) -> bool:
    """True when two names are one entry (a case-only rename on a case-insensitive disk)."""
    try:
        return os.path.samefile(first, second)
    except FileNotFoundError:
        return False
