"""Dataset statistics: size and aspect-ratio distributions, small and uncaptioned images,
and a bucket preview computed the way sd-scripts assigns buckets."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lora_studio.services.datasets.buckets import BucketAssigner
from lora_studio.services.datasets.catalog import DatasetCatalog
from lora_studio.services.datasets.imageinfo import ImageInfo, ImageInfoCache
from lora_studio.services.datasets.models import (
    BucketPreview,
    BucketRow,
    BucketSettings,
    CountRow,
    DatasetStats,
    SmallImage,
)

TOP_RESOLUTIONS = 15
# Common aspect ratios; each image is counted under the nearest one (on a log scale).
NAMED_RATIOS = (
    (1, 2), (9, 16), (2, 3), (3, 4), (4, 5), (1, 1), (5, 4), (4, 3), (3, 2), (16, 9), (2, 1), (21, 9), (9, 21),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageRecord:
    path: str
    width: int
    height: int
    repeats: int
    captioned: bool
    info: ImageInfo


def collect(catalog: DatasetCatalog, infos: ImageInfoCache, dataset: Path) -> list[ImageRecord]:
    records = []
    for parsed, folder in catalog.concept_folders(dataset):
        listing = catalog.folders.listing(folder)
        images = listing.images
        stems = listing.caption_stems
        by_name = infos.infos(folder, images)
        for image in images:
            info = by_name[image.name]
            records.append(
                ImageRecord(
                    f"{folder.name}/{image.name}",
                    info.width,
                    info.height,
                    parsed.repeats,
                    image.stem in stems,
                    info,
                )
            )
    return records


def dataset_stats(records: list[ImageRecord], *, dataset: str, settings: BucketSettings) -> DatasetStats:
    readable = [record for record in records if record.width > 0 and record.height > 0]
    area = settings.resolution[0] * settings.resolution[1]
    sizes = Counter((record.width, record.height) for record in readable)
    size_rows = [
        CountRow(f"{width}x{height}", count) for (width, height), count in sizes.most_common(TOP_RESOLUTIONS)
    ]
    rest = sum(sizes.values()) - sum(row.count for row in size_rows)
    if rest:
        size_rows.append(CountRow("other sizes", rest))
    ratios = Counter(ratio_label(record.width, record.height) for record in readable)
    return DatasetStats(
        dataset=dataset,
        image_count=len(records),
        captioned_count=sum(1 for record in records if record.captioned),
        resolutions=tuple(size_rows),
        aspect_ratios=tuple(
            CountRow(label, count) for label, count in sorted(ratios.items(), key=_ratio_order)
        ),
        smaller_than_resolution=tuple(
            SmallImage(record.path, record.width, record.height)
            for record in readable
            if record.width * record.height < area
        ),
        uncaptioned=tuple(record.path for record in records if not record.captioned),
        rotated=tuple(record.path for record in records if record.info.orientation != 1),
        unreadable=tuple(record.path for record in records if record.info.problem),
        buckets=bucket_preview(records, settings),
    )


def bucket_preview(records: list[ImageRecord], settings: BucketSettings) -> BucketPreview:
    """Where each image lands, as sd-scripts' ``make_buckets`` would log it."""
    assigner = BucketAssigner(settings)
    images: Counter[tuple[int, int]] = Counter()
    repeated: Counter[tuple[int, int]] = Counter()
    errors: list[float] = []
    unassigned: list[str] = []
    for record in records:
        if record.width <= 0 or record.height <= 0:
            unassigned.append(record.path)
            continue
        selected = assigner.select(record.width, record.height)
        if selected is None:  # smaller than one bucket step with bucket_no_upscale
            unassigned.append(record.path)
            continue
        reso, error = selected
        images[reso] += 1
        repeated[reso] += record.repeats
        errors.append(abs(error))
    width, height = assigner.settings.resolution
    too_large: tuple[str, ...] = ()
    if not assigner.settings.enable_bucket:
        too_large = tuple(r.path for r in records if r.width > width or r.height > height)
    rows = tuple(BucketRow(reso, images[reso], repeated[reso]) for reso in sorted(images))
    mean = sum(errors) / len(errors) if errors else 0.0
    return BucketPreview(assigner.settings, rows, mean, too_large, tuple(unassigned))


@functools.lru_cache(maxsize=4096)
def ratio_label(width: int, height: int) -> str:
    ratio = math.log(width / height)
    wide, tall = min(NAMED_RATIOS, key=lambda pair: abs(math.log(pair[0] / pair[1]) - ratio))
    return f"{wide}:{tall}"


def _ratio_order(item: tuple[str, int]) -> float:
    wide, tall = item[0].split(":")
    return int(wide) / int(tall)
