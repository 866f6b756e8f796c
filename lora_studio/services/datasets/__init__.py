"""Datasets: folders of images (and captions) grouped into concepts that sd-scripts reads directly.

``DatasetService(settings)`` is what the UI and the CLI call. On disk a dataset is
``<workspace>/datasets/<dataset>/<repeats>_<concept>/``; people only see "concept" and
"repeats". Every user-given name goes through ``core.paths``; every method raises
``LoraStudioError`` subclasses with a message meant for a person.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lora_studio.core.settings import Settings
from lora_studio.services.datasets import check_pool
from lora_studio.services.datasets.catalog import DEFAULT_REPEATS, DatasetCatalog
from lora_studio.services.datasets.gallery import Gallery
from lora_studio.services.datasets.imageinfo import ImageInfoCache
from lora_studio.services.datasets.importer import Importer, ProgressCallback
from lora_studio.services.datasets.models import (
    BucketPreview,
    BucketRow,
    BucketSettings,
    ConceptSummary,
    CountRow,
    DatasetStats,
    DatasetSummary,
    DeleteReport,
    GalleryItem,
    GalleryPage,
    ImportReport,
    ImportRow,
    ImportStatus,
    SmallImage,
)
from lora_studio.services.datasets.scan import FolderCache
from lora_studio.services.datasets.server_folder import resolve_server_folder
from lora_studio.services.datasets.stats import bucket_preview, collect, dataset_stats
from lora_studio.services.datasets.thumbnails import ThumbnailCache
from lora_studio.services.datasets.zipsafe import ZipLimits
from lora_studio.services.quota import ensure_room, input_size

__all__ = [
    "DEFAULT_REPEATS",
    "BucketPreview",
    "BucketRow",
    "BucketSettings",
    "ConceptSummary",
    "CountRow",
    "DatasetService",
    "DatasetStats",
    "DatasetSummary",
    "DeleteReport",
    "GalleryItem",
    "GalleryPage",
    "ImportReport",
    "ImportRow",
    "ImportStatus",
    "SmallImage",
    "ZipLimits",
]


class DatasetService:
    """Create, list, import into, browse and measure datasets. Safe to share between threads."""

    def __init__(self, settings: Settings, *, zip_limits: ZipLimits | None = None) -> None:
        self.settings = settings
        self._folders = FolderCache()
        self._catalog = DatasetCatalog(settings.datasets_dir, self._folders)
        self._infos = ImageInfoCache(settings.cache_dir / "imageinfo")
        self._thumbnails = ThumbnailCache(settings.cache_dir / "thumbs")
        self._gallery = Gallery(self._catalog, self._infos, self._thumbnails)
        self._importer = Importer(self._catalog, limits=zip_limits)
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    # -- datasets -------------------------------------------------------------------------
    def list_datasets(self) -> list[DatasetSummary]:
        """Every dataset with image/caption counts, size on disk, concepts and repeats."""
        return self._catalog.list_datasets()

    def dataset_names(self) -> list[str]:
        """The datasets' names only (cheap: for pickers in other tabs)."""
        return list(self._folders.listing(self.settings.datasets_dir).folders)

    def get_dataset(self, name: str) -> DatasetSummary:
        """Raises: InvalidName, DatasetNotFound."""
        return self._catalog.summary(self._catalog.dataset_dir(name))

    def create_dataset(
        self, name: str, *, concept: str | None = None, repeats: int = DEFAULT_REPEATS
    ) -> DatasetSummary:
        """Create an empty dataset, with a first concept folder when ``concept`` is given.

        Raises: InvalidName (hostile or unusable name), AlreadyExists, InvalidInput (repeats).
        """
        with self._lock(name):
            path = self._catalog.create(name, concept=concept, repeats=repeats)
        return self._catalog.summary(path)

    def rename_dataset(self, name: str, *, new_name: str) -> DatasetSummary:
        """Raises: InvalidName, DatasetNotFound, AlreadyExists."""
        first, second = sorted((name, new_name))  # a fixed order: two crossing renames cannot deadlock
        with self._lock(first), self._lock(second):
            path = self._catalog.rename(name, new_name)
        return self._catalog.summary(path)

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset and everything in it (the UI asks for confirmation first).

        Raises: InvalidName, DatasetNotFound.
        """
        with self._lock(name):
            dataset = self._catalog.dataset_dir(name)
            for _, folder in self._catalog.concept_folders(dataset):
                self._infos.drop(folder)
            self._catalog.delete(name)

    # -- concepts -------------------------------------------------------------------------
    def add_concept(self, name: str, *, concept: str, repeats: int = DEFAULT_REPEATS) -> DatasetSummary:
        """Raises: DatasetNotFound, InvalidName, InvalidInput (repeats), AlreadyExists."""
        with self._lock(name):
            dataset = self._catalog.dataset_dir(name)
            self._catalog.add_concept(dataset, concept, repeats)
        return self._catalog.summary(dataset)

    def set_repeats(self, name: str, *, concept: str, repeats: int) -> DatasetSummary:
        """Change a concept's repeats (renames ``10_x`` to ``5_x``).

        Raises: DatasetNotFound, ConceptNotFound, InvalidInput (repeats, ambiguous concept).
        """
        with self._lock(name):
            dataset = self._catalog.dataset_dir(name)
            self._catalog.set_repeats(dataset, concept, repeats)
        return self._catalog.summary(dataset)

    def rename_concept(self, name: str, *, concept: str, new_concept: str) -> DatasetSummary:
        """Raises: DatasetNotFound, ConceptNotFound, InvalidName, AlreadyExists."""
        with self._lock(name):
            dataset = self._catalog.dataset_dir(name)
            self._catalog.rename_concept(dataset, concept, new_concept)
        return self._catalog.summary(dataset)

    # -- import ---------------------------------------------------------------------------
    def prepare_imports(self) -> None:
        """Start the processes that check imported images, in the background; returns at once. The
        app calls this when a page loads, so an upload does not wait ~0.4 s for them to start."""
        check_pool.warm()

    def import_files(
        self,
        name: str,
        paths: Sequence[Path],
        *,
        concept: str | None = None,
        repeats: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import image files, zip archives and folders; one report row per input file.

        Files inside ``N_name`` folders (in zips or folders) join concept ``name`` with N
        repeats; the rest join ``concept`` (default: the dataset's only concept, else the
        dataset's name). Captions (``.txt``/``.caption``) beside an image come along.
        Nothing is written unless every file has an outcome; duplicates are skipped and
        name collisions get a suffix.

        Raises: DatasetNotFound, InvalidName (concept), InvalidInput (repeats).
        """
        if self.settings.workspace_limit is not None:  # sizing the input costs a stat per file
            ensure_room(self.settings, input_size(paths))
        with self._lock(name):
            dataset = self._catalog.dataset_dir(name)
            target = concept if concept is not None else self._default_concept(dataset)
            return self._importer.run(
                dataset, list(paths), concept=target, repeats=repeats, on_progress=on_progress
            )

    def import_server_folder(
        self,
        name: str,
        folder: str,
        *,
        concept: str | None = None,
        repeats: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import a folder that already lies on this machine (relative paths start at the workspace).

        When the app is public (``settings.is_public``) only folders inside the workspace are allowed.
        Raises: InvalidInput (no such folder, or refused while public), and as ``import_files``.
        """
        path = resolve_server_folder(
            folder, workspace=self.settings.workspace, public=self.settings.is_public
        )
        return self.import_files(name, [path], concept=concept, repeats=repeats, on_progress=on_progress)

    # -- gallery --------------------------------------------------------------------------
    def gallery_page(
        self,
        name: str,
        *,
        page: int = 1,
        page_size: int = 48,
        concept: str | None = None,
        with_thumbnails: bool = True,
    ) -> GalleryPage:
        """One page of images (filename, size, resolution, has-caption, thumbnail path).

        Thumbnails of the page are made in worker threads on first request and cached under
        ``<workspace>/.cache/thumbs``. Raises: DatasetNotFound, ConceptNotFound, InvalidInput.
        """
        dataset = self._catalog.dataset_dir(name)
        return self._gallery.page(
            dataset, page=page, page_size=page_size, concept=concept, with_thumbnails=with_thumbnails
        )

    def delete_images(self, name: str, *, images: Sequence[str]) -> DeleteReport:
        """Delete images given as gallery paths (``10_cat/a.png``) together with their captions.

        Raises: DatasetNotFound, InvalidInput / InvalidName / PathEscape (then nothing is deleted).
        """
        with self._lock(name):
            return self._gallery.delete(self._catalog.dataset_dir(name), list(images))

    # -- statistics -----------------------------------------------------------------------
    def stats(self, name: str, *, buckets: BucketSettings | None = None) -> DatasetStats:
        """Resolution and aspect-ratio distribution, images below the training resolution,
        uncaptioned and EXIF-rotated images, and the bucket preview for ``buckets``.

        Raises: DatasetNotFound, InvalidInput (bucket settings sd-scripts would refuse).
        """
        dataset = self._catalog.dataset_dir(name)
        records = collect(self._catalog, self._infos, dataset)
        return dataset_stats(records, dataset=name, settings=buckets or BucketSettings())

    def bucket_preview(self, name: str, *, buckets: BucketSettings) -> BucketPreview:
        """How many images land in which bucket, as sd-scripts' bucketing assigns them."""
        dataset = self._catalog.dataset_dir(name)
        return bucket_preview(collect(self._catalog, self._infos, dataset), buckets)

    # -- internals ------------------------------------------------------------------------
    def _default_concept(self, dataset: Path) -> str:
        concepts = self._catalog.concept_folders(dataset)
        return concepts[0][0].concept if len(concepts) == 1 else dataset.name

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """Serialise changes to one dataset within this process (imports pick names and move files)."""
        with self._locks_guard:
            lock = self._locks.setdefault(name, threading.RLock())
        with lock:
            yield
