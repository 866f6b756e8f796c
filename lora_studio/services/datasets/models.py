"""Result types of the datasets service: small frozen dataclasses the UI shows in tables."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ConceptSummary:
    """One Kohya subset folder ``<repeats>_<concept>`` and what it holds."""

    concept: str
    repeats: int
    folder: str
    image_count: int
    captioned_count: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset folder: its concepts, counts, and anything sd-scripts would not read."""

    name: str
    path: Path
    concepts: tuple[ConceptSummary, ...]
    image_count: int
    captioned_count: int
    size_bytes: int
    # Images lying directly in the dataset folder: sd-scripts ignores them (they need a concept folder).
    loose_images: int = 0
    # Sub-folders that do not follow ``N_name``: sd-scripts skips them.
    other_folders: tuple[str, ...] = ()


class ImportStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """What happened to one input file."""

    source: str
    status: ImportStatus
    reason: str = ""
    # Relative to the dataset folder (``10_cat/a.png``); None unless accepted.
    final_path: str | None = None
    caption_path: str | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    dataset: str
    rows: tuple[ImportRow, ...]

    def count(self, status: ImportStatus) -> int:
        return sum(1 for row in self.rows if row.status is status)

    @property
    def accepted(self) -> int:
        return self.count(ImportStatus.ACCEPTED)

    @property
    def rejected(self) -> int:
        return self.count(ImportStatus.REJECTED)

    @property
    def duplicates(self) -> int:
        return self.count(ImportStatus.DUPLICATE)


@dataclass(frozen=True, slots=True)
class GalleryItem:
    """One image of the gallery; ``path`` is relative to the dataset (``10_cat/a.png``)."""

    path: str
    concept: str
    filename: str
    size_bytes: int
    width: int
    height: int
    has_caption: bool
    # EXIF orientation (1 = upright); sd-scripts ignores it, so anything else trains rotated.
    orientation: int
    thumbnail: Path | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class GalleryPage:
    items: tuple[GalleryItem, ...]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class DeleteReport:
    deleted: tuple[str, ...]
    # Caption files removed together with their images.
    captions_deleted: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BucketSettings:
    """sd-scripts' dataset bucketing options (``[[datasets]]`` keys), with its defaults."""

    resolution: tuple[int, int] = (1024, 1024)
    enable_bucket: bool = True
    min_bucket_reso: int = 256
    max_bucket_reso: int = 1024
    bucket_reso_steps: int = 64
    bucket_no_upscale: bool = False


@dataclass(frozen=True, slots=True)
class BucketRow:
    resolution: tuple[int, int]
    images: int
    # Counting every repeat, as sd-scripts' "number of images (including repeats)" does.
    with_repeats: int


@dataclass(frozen=True, slots=True)
class BucketPreview:
    settings: BucketSettings
    buckets: tuple[BucketRow, ...]
    mean_ar_error: float
    # With bucketing and random crop off, sd-scripts fails on images larger than the resolution.
    too_large: tuple[str, ...] = ()
    # Unreadable, or smaller than one bucket step with bucket_no_upscale: sd-scripts cannot bucket them.
    unassigned: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CountRow:
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class SmallImage:
    path: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class DatasetStats:
    dataset: str
    image_count: int
    captioned_count: int
    resolutions: tuple[CountRow, ...]
    aspect_ratios: tuple[CountRow, ...]
    smaller_than_resolution: tuple[SmallImage, ...]
    uncaptioned: tuple[str, ...]
    rotated: tuple[str, ...]
    unreadable: tuple[str, ...]
    buckets: BucketPreview
