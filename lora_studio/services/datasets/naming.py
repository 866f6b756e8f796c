"""Where an imported image goes: its concept folder, a name that collides with nothing,
and whether the same bytes are already in the dataset."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lora_studio.core.layout import ConceptFolder
from lora_studio.core.paths import MAX_NAME_LENGTH, safe_name
from lora_studio.services.datasets.catalog import DEFAULT_REPEATS, DatasetCatalog


class ExistingContent:
    """Finds an existing image with the same bytes; hashes only files of a matching size."""

    def __init__(self, catalog: DatasetCatalog, dataset: Path) -> None:
        self.dataset = dataset
        self.by_size: dict[int, list[Path]] = {}
        for _, folder in catalog.concept_folders(dataset):
            for entry in catalog.folders.listing(folder).images:
                self.by_size.setdefault(entry.size, []).append(folder / entry.name)
        self._digests: dict[Path, str] = {}

    def find(self, size: int, digest: str) -> str | None:
        for path in self.by_size.get(size, ()):
            known = self._digests.get(path)
            if known is None:
                try:
                    known = hashlib.sha256(path.read_bytes()).hexdigest()
                except FileNotFoundError:
                    continue
                self._digests[path] = known
            if known == digest:
                return f"{path.parent.name}/{path.name} (already in the dataset)"
        return None


class NameBook:
    """Hands out file names per concept folder; a stem is taken once, whatever its case or extension
    (sd-scripts pairs ``a.png`` and ``a.jpg`` with the same ``a.txt``)."""

    def __init__(self, catalog: DatasetCatalog, dataset: Path) -> None:
        self.catalog = catalog
        self.dataset = dataset
        self._taken: dict[Path, set[str]] = {}
        self._noted: set[str] = set()
        self._found: dict[str, tuple[ConceptFolder, Path] | None] = {}

    def concept_folder(
        self, concept: str, repeats: int | None, new_concepts: dict[str, int]
    ) -> tuple[Path, str]:
        """The folder for ``concept`` (existing, or to be created at commit) and a note, once."""
        if concept not in self._found:
            self._found[concept] = self.catalog.find_concept(self.dataset, concept)
        found = self._found[concept]
        if found is not None:
            parsed, folder = found
            if repeats is not None and repeats != parsed.repeats and concept not in self._noted:
                self._noted.add(concept)
                return folder, f"concept {concept!r} already has {parsed.repeats} repeats; kept"
            return folder, ""
        wanted = repeats if repeats is not None else DEFAULT_REPEATS
        chosen = new_concepts.setdefault(concept, wanted)
        return self.dataset / ConceptFolder(chosen, concept).folder_name, ""

    def claim(self, folder: Path, stem: str, extension: str) -> tuple[Path, str]:
        taken = self._taken_in(folder)
        room = MAX_NAME_LENGTH - len(extension) - 6
        base = stem[:room]
        candidate, number = base, 0
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{base}_{number}"
        taken.add(candidate.casefold())
        name = safe_name(candidate + extension)
        note = "" if candidate == stem else f"renamed to {name} (the name was taken)"
        return folder / name, note

    def _taken_in(self, folder: Path) -> set[str]:
        taken = self._taken.get(folder)
        if taken is None:
            listing = self.catalog.folders.listing(folder)
            taken = {entry.stem.casefold() for entry in listing.files}
            self._taken[folder] = taken
        return taken
