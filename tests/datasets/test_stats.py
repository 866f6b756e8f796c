"""Statistics and the bucket preview, checked against buckets worked out by hand from sd-scripts' code."""

from __future__ import annotations

import pytest

from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import BucketSettings, DatasetService
from lora_studio.services.datasets.buckets import BucketAssigner, make_bucket_resolutions
from tests.datasets.corpus import distinct_png, image_bytes, write

# make_bucket_resolutions((512, 512), 256, 1024, 64), by hand: max_area 262144; for each width w from
# 256 to 1024 step 64, h = min(1024, (262144 // w) // 64 * 64), kept when h >= 256, both orientations.
BUCKETS_512 = sorted(
    {
        (512, 512),
        (256, 1024), (1024, 256),
        (320, 768), (768, 320),
        (384, 640), (640, 384),
        (448, 576), (576, 448),
        (704, 320), (320, 704),
        (832, 256), (256, 832),
        (896, 256), (256, 896),
        (960, 256), (256, 960),
    }
)  # fmt: skip


def test_bucket_resolutions_match_hand_computation() -> None:
    assert make_bucket_resolutions((512, 512), 256, 1024, 64) == BUCKETS_512


@pytest.mark.parametrize(
    ("size", "bucket"),
    [
        ((640, 480), (576, 448)),  # ar 1.333: 576/448 = 1.286 is nearest
        ((704, 480), (576, 448)),  # ar 1.467: 1.286 (err .181) beats 1.667 (err .200)
        ((768, 480), (640, 384)),  # ar 1.6: 1.667
        ((512, 768), (384, 640)),  # ar 0.667: 0.6 (err .067) beats 0.778 (err .111)
        ((300, 1000), (256, 832)),  # ar 0.3: 0.3077 (err .0077)
        ((448, 576), (448, 576)),  # an exact bucket size is kept
        ((2000, 2000), (512, 512)),
    ],
)
def test_select_bucket_with_upscale(size: tuple[int, int], bucket: tuple[int, int]) -> None:
    selected = BucketAssigner(BucketSettings(resolution=(512, 512))).select(*size)
    assert selected is not None and selected[0] == bucket


@pytest.mark.parametrize(
    ("size", "bucket"),
    [
        # area 500000 > 262144: width-rounded gives 704x320 (ar 2.2), height-rounded 640x320 (ar 2.0) wins.
        ((1000, 500), (640, 320)),
        ((300, 200), (256, 192)),  # small enough: cropped down to multiples of 64, never upscaled
    ],
)
def test_select_bucket_without_upscale(size: tuple[int, int], bucket: tuple[int, int]) -> None:
    selected = BucketAssigner(BucketSettings(resolution=(512, 512), bucket_no_upscale=True)).select(*size)
    assert selected is not None and selected[0] == bucket


def test_bucket_settings_are_checked_like_sd_scripts() -> None:
    with pytest.raises(InvalidInput, match="min_bucket_reso"):
        BucketAssigner(BucketSettings(resolution=(512, 512), min_bucket_reso=640))
    with pytest.raises(InvalidInput, match="max_bucket_reso"):
        BucketAssigner(BucketSettings(resolution=(1024, 1024), max_bucket_reso=768))
    rounded = BucketAssigner(BucketSettings(resolution=(512, 512), min_bucket_reso=300, max_bucket_reso=1000))
    assert (rounded.settings.min_bucket_reso, rounded.settings.max_bucket_reso) == (256, 1024)


@pytest.fixture
def measured(service: DatasetService, settings: Settings) -> DatasetService:
    service.create_dataset("set", concept="cat", repeats=2)
    service.add_concept("set", concept="dog", repeats=5)
    root = settings.datasets_dir / "set"
    write(root / "2_cat" / "a.png", distinct_png(1, (640, 480)))
    write(root / "2_cat" / "a.txt", "cat")
    write(root / "2_cat" / "b.png", distinct_png(2, (640, 480)))
    write(root / "2_cat" / "c.png", distinct_png(3, (300, 1000)))
    write(root / "5_dog" / "d.jpg", image_bytes((768, 480), fmt="JPEG", orientation=8))
    write(root / "5_dog" / "d.txt", "dog")
    write(root / "5_dog" / "e.png", b"broken")
    return service


def test_stats(measured: DatasetService) -> None:
    stats = measured.stats("set", buckets=BucketSettings(resolution=(512, 512)))
    assert (stats.image_count, stats.captioned_count) == (5, 2)
    assert [(row.label, row.count) for row in stats.resolutions] == [
        ("640x480", 2),
        ("300x1000", 1),
        ("768x480", 1),
    ]
    assert {row.label: row.count for row in stats.aspect_ratios} == {"4:3": 2, "9:21": 1, "3:2": 1}
    assert [small.path for small in stats.smaller_than_resolution] == []
    assert stats.uncaptioned == ("2_cat/b.png", "2_cat/c.png", "5_dog/e.png")
    assert stats.rotated == ("5_dog/d.jpg",)
    assert stats.unreadable == ("5_dog/e.png",)
    preview = stats.buckets
    assert [(row.resolution, row.images, row.with_repeats) for row in preview.buckets] == [
        ((256, 832), 1, 2),
        ((576, 448), 2, 4),
        ((640, 384), 1, 5),
    ]
    assert preview.unassigned == ("5_dog/e.png",)


def test_stats_small_images_and_bucketing_off(measured: DatasetService) -> None:
    stats = measured.stats("set", buckets=BucketSettings(resolution=(1024, 1024), enable_bucket=False))
    assert len(stats.smaller_than_resolution) == 4
    assert [row.resolution for row in stats.buckets.buckets] == [(1024, 1024)]
    assert stats.buckets.too_large == ()
    small = measured.bucket_preview("set", buckets=BucketSettings(resolution=(512, 512), enable_bucket=False))
    assert set(small.too_large) == {"2_cat/a.png", "2_cat/b.png", "2_cat/c.png", "5_dog/d.jpg"}
