"""Turn what a person hands in (image files, zips, server folders) into import candidates.

Each candidate is one image with its caption files and the concept it should join: folders
named ``N_name`` (in a zip or a server folder) become concepts, anything else goes to the
chosen concept. Captions pair with images by file stem: inside a folder or zip within the
same directory, among loose files across the whole upload (browsers put each uploaded file
in its own temporary folder).
"""

from __future__ import annotations

import os
import stat
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.core.errors import InvalidInput, InvalidName, UnsafeArchive
from lora_studio.core.layout import CAPTION_EXTENSIONS, IMAGE_EXTENSIONS, parse_concept_folder
from lora_studio.core.paths import safe_name
from lora_studio.services.datasets.catalog import check_concept, check_repeats
from lora_studio.services.datasets.models import ImportRow, ImportStatus
from lora_studio.services.datasets.zipsafe import ZipLimits, check_archive, classify_entries

# Extensions handed to verification; Pillow decides from the content, these only pre-select.
CANDIDATE_EXTENSIONS = IMAGE_EXTENSIONS | {".jfif", ".tif", ".tiff", ".gif", ".heic", ".heif"}
MAX_CAPTION_BYTES = 1024**2


@dataclass(frozen=True, slots=True)
class CaptionSource:
    source: str
    extension: str
    load: Callable[[], bytes]


@dataclass(slots=True)
class Candidate:
    source: str
    filename: str
    load: Callable[[], bytes]
    size: int
    # From an ``N_name`` folder; None means the import's chosen concept.
    concept: str | None = None
    repeats: int | None = None
    captions: list[CaptionSource] = field(default_factory=list)
    path: Path | None = None  # the file on disk (None for a zip entry), for a checking process to read


@dataclass(frozen=True, slots=True)
class _Item:
    """A file found somewhere, before images and captions are paired."""

    group: str
    source: str
    name: str
    size: int
    load: Callable[[], bytes]
    folders: tuple[str, ...] = ()
    path: Path | None = None


@dataclass(slots=True)
class Collected:
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[ImportRow] = field(default_factory=list)

    def reject(self, source: str, reason: str) -> None:
        self.rejected.append(ImportRow(source, ImportStatus.REJECTED, reason))


def collect(paths: list[Path], stack: ExitStack, limits: ZipLimits) -> Collected:
    """Candidates from every input path; zips stay open on ``stack`` until the import ends."""
    result = Collected()
    items: list[_Item] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            result.reject(str(path), "no such file or folder")
            continue
        if stat.S_ISDIR(info.st_mode):
            items.extend(_walk_folder(path, result))
        elif not stat.S_ISREG(info.st_mode):
            result.reject(path.name, "not a regular file")
        elif _is_zip(path):
            items.extend(_zip_items(path, stack, limits, result))
        else:
            items.append(_Item("", path.name, path.name, info.st_size, _file_loader(path), path=path))
    _pair(items, result)
    return result


def _is_zip(path: Path) -> bool:
    """By name, or by content for names that are neither images nor captions (an upload without
    its extension); images are not opened twice for this."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return True
    return (
        suffix not in CANDIDATE_EXTENSIONS and suffix not in CAPTION_EXTENSIONS and zipfile.is_zipfile(path)
    )


def _file_loader(path: Path) -> Callable[[], bytes]:
    return path.read_bytes


def _walk_folder(top: Path, result: Collected) -> Iterator[_Item]:
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        relative = Path(folder).relative_to(top).parts
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            source = f"{top.name}/{'/'.join((*relative, name))}"
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                result.reject(source, "symbolic link; not followed")
                continue
            if not stat.S_ISREG(info.st_mode):
                result.reject(source, "not a regular file")
                continue
            yield _Item(f"{top}:{folder}", source, name, info.st_size, _file_loader(path), relative, path)


def _zip_items(path: Path, stack: ExitStack, limits: ZipLimits, result: Collected) -> list[_Item]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
        check_archive(archive, limits)
    except (zipfile.BadZipFile, OSError) as error:
        result.reject(path.name, f"not a readable zip archive ({error})")
        return []
    except UnsafeArchive as error:
        result.reject(path.name, str(error))
        return []
    accepted, refused = classify_entries(archive)
    for refusal in refused:
        result.reject(f"{path.name}:{refusal.name}", refusal.reason)
    lock = threading.Lock()
    items = []
    for entry in accepted:
        folders, name = entry.parts[:-1], entry.parts[-1]
        load = _zip_loader(archive, entry.info, lock)
        items.append(
            _Item(
                f"{path}:{'/'.join(folders)}",
                f"{path.name}:{entry.info.filename}",
                name,
                entry.info.file_size,
                load,
                folders,
            )
        )
    return items


def _zip_loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, lock: threading.Lock) -> Callable[[], bytes]:
    def load() -> bytes:
        # One reader at a time per archive; decoding and checks still run in parallel.
        with lock:
            return archive.read(info)

    return load


def _pair(items: list[_Item], result: Collected) -> None:
    images: dict[tuple[str, str], Candidate] = {}
    ordered: list[Candidate] = []
    captions: list[tuple[_Item, str]] = []
    for item in items:
        stem, extension = os.path.splitext(item.name)
        extension = extension.lower()
        if extension in CAPTION_EXTENSIONS:
            captions.append((item, stem))
        elif extension in CANDIDATE_EXTENSIONS:
            candidate = _candidate(item, result)
            if candidate is not None:
                # "a.png" and "a.jpg" side by side: both are imported, the caption goes to the first.
                images.setdefault((item.group, stem), candidate)
                ordered.append(candidate)
        else:
            result.reject(item.source, f"not an image or caption file ({extension or 'no extension'})")
    for item, stem in captions:
        owner = images.get((item.group, stem))
        if owner is None:
            result.reject(item.source, "caption file without a matching image")
        elif item.size > MAX_CAPTION_BYTES:
            result.reject(item.source, f"caption larger than {MAX_CAPTION_BYTES} bytes")
        else:
            owner.captions.append(
                CaptionSource(item.source, os.path.splitext(item.name)[1].lower(), item.load)
            )
    result.candidates.extend(ordered)


def _candidate(item: _Item, result: Collected) -> Candidate | None:
    try:
        safe_name(item.name)
    except InvalidName as error:
        result.reject(item.source, f"unusable file name: {error.reason}")
        return None
    concept, repeats = None, None
    for folder in reversed(item.folders):
        parsed = parse_concept_folder(folder)
        if parsed is None:
            continue
        try:
            concept, repeats = check_concept(parsed.concept), check_repeats(parsed.repeats)
        except InvalidInput as error:
            reason = error.reason if isinstance(error, InvalidName) else error.message
            result.reject(item.source, f"folder {folder!r} cannot become a concept: {reason}")
            return None
        break
    return Candidate(item.source, item.name, item.load, item.size, concept, repeats, path=item.path)
