"""The gallery: a paged list of a dataset's images with thumbnails, and deleting images.

Paging reads the cached folder listings (no rescan per click); only the files on the page are
stat'ed again, so an image replaced in place still gets a fresh thumbnail and size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lora_studio.core.errors import InvalidInput
from lora_studio.core.layout import CAPTION_EXTENSIONS, is_image, parse_concept_folder
from lora_studio.core.paths import relative_inside
from lora_studio.services.datasets.catalog import DatasetCatalog
from lora_studio.services.datasets.imageinfo import ImageInfoCache
from lora_studio.services.datasets.models import DeleteReport, GalleryItem, GalleryPage
from lora_studio.services.datasets.scan import FileEntry
from lora_studio.services.datasets.thumbnails import ThumbnailCache

MAX_PAGE_SIZE = 500


class Gallery:
    def __init__(self, catalog: DatasetCatalog, infos: ImageInfoCache, thumbnails: ThumbnailCache) -> None:
        self.catalog = catalog
        self.infos = infos
        self.thumbnails = thumbnails

    def page(
        self,
        dataset: Path,
        *,
        page: int,
        page_size: int,
        concept: str | None = None,
        with_thumbnails: bool = True,
    ) -> GalleryPage:
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"Page must be >= 1 and page size 1..{MAX_PAGE_SIZE} (got {page}, {page_size})."
            )
        everything = self._all_images(dataset, concept)
        start = (page - 1) * page_size
        chosen = everything[start : start + page_size]
        items = self._items(dataset, chosen, with_thumbnails)
        return GalleryPage(items=tuple(items), page=page, page_size=page_size, total=len(everything))

    def _all_images(self, dataset: Path, concept: str | None) -> list[tuple[str, Path, bool, FileEntry]]:
        """(concept, folder, has caption, entry) for every image, in folder then name order."""
        folders = self.catalog.concept_folders(dataset)
        if concept is not None:
            folders = [self.catalog.require_concept(dataset, concept)]
        result: list[tuple[str, Path, bool, FileEntry]] = []
        for parsed, folder in folders:
            listing = self.catalog.folders.listing(folder)
            stems = listing.caption_stems
            result.extend((parsed.concept, folder, image.stem in stems, image) for image in listing.images)
        return result

    def _items(
        self, dataset: Path, chosen: Sequence[tuple[str, Path, bool, FileEntry]], with_thumbnails: bool
    ) -> list[GalleryItem]:
        fresh: list[FileEntry] = []
        for _, folder, _, entry in chosen:
            try:
                stat = os.stat(folder / entry.name)
                fresh.append(FileEntry.of(entry.name, stat.st_size, stat.st_mtime_ns))
            except FileNotFoundError:
                fresh.append(entry)
        infos: dict[tuple[Path, str], tuple[int, int, int, str | None]] = {}
        for folder in {item[1] for item in chosen}:
            entries = [entry for item, entry in zip(chosen, fresh, strict=True) if item[1] == folder]
            for name, info in self.infos.infos(folder, entries).items():
                infos[(folder, name)] = (info.width, info.height, info.orientation, info.problem)
        paths = [folder / entry.name for _, folder, _, entry in chosen]
        thumbs = self.thumbnails.ensure_many(paths) if with_thumbnails else [(None, None)] * len(paths)
        items = []
        for (concept, folder, captioned, _), entry, (thumb, thumb_problem) in zip(
            chosen, fresh, thumbs, strict=True
        ):
            width, height, orientation, problem = infos[(folder, entry.name)]
            items.append(
                GalleryItem(
                    path=f"{folder.name}/{entry.name}",
                    concept=concept,
                    filename=entry.name,
                    size_bytes=entry.size,
                    width=width,
                    height=height,
                    has_caption=captioned,
                    orientation=orientation,
                    thumbnail=thumb,
                    problem=problem or thumb_problem,
                )
            )
        return items

    def delete(self, dataset: Path, images: Sequence[str]) -> DeleteReport:
        """Delete images (``10_cat/a.png``) with their caption files and thumbnails.

        Every path is checked before anything is deleted: one hostile or non-image path and
        nothing is touched.
        """
        targets = [_checked_image_path(dataset, relative) for relative in images]
        deleted: list[str] = []
        captions: list[str] = []
        missing: list[str] = []
        for relative, path in zip(images, targets, strict=True):
            try:
                stat = path.stat()
            except FileNotFoundError:
                missing.append(relative)
                continue
            path.unlink()
            deleted.append(relative)
            self.thumbnails.discard(path, size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
            for extension in CAPTION_EXTENSIONS:
                caption = path.with_suffix(extension)
                if caption.is_file():
                    caption.unlink()
                    captions.append(f"{path.parent.name}/{caption.name}")
        for folder in {path.parent for path in targets}:
            self.infos.forget(folder, [path.name for path in targets if path.parent == folder])
            self.catalog.folders.invalidate(folder)
        return DeleteReport(deleted=tuple(deleted), captions_deleted=tuple(captions), missing=tuple(missing))


def _checked_image_path(dataset: Path, relative: str) -> Path:
    path = relative_inside(dataset, relative)
    parts = path.relative_to(dataset).parts
    if len(parts) != 2 or parse_concept_folder(parts[0]) is None or not is_image(path):
        raise InvalidInput(
            f"{relative!r} is not an image inside a concept folder.",
            hint="Give paths as shown in the gallery, like '10_cat/a.png'.",
        )
    return path
