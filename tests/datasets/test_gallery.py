"""Gallery pages, thumbnails (lazy, cached, EXIF-upright, invalidated on change), deleting images."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from lora_studio.core.errors import InvalidInput, InvalidName, LoraStudioError
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService
from tests.datasets.corpus import distinct_png, image_bytes, write


@pytest.fixture
def filled(service: DatasetService, settings: Settings) -> DatasetService:
    service.create_dataset("set", concept="cat", repeats=2)
    service.add_concept("set", concept="dog", repeats=3)
    root = settings.datasets_dir / "set"
    for index in range(7):
        write(root / "2_cat" / f"c{index}.png", distinct_png(index, (80 + index, 60)))
    write(root / "2_cat" / "c0.txt", "a cat")
    write(root / "3_dog" / "d0.jpg", image_bytes((40, 20), fmt="JPEG", orientation=6))
    write(root / "3_dog" / "d0.caption", "a dog")
    return service


def test_pages_cover_every_image_once(filled: DatasetService) -> None:
    first = filled.gallery_page("set", page=1, page_size=3)
    assert (first.total, first.pages) == (8, 3)
    seen = []
    for page in range(1, first.pages + 1):
        seen.extend(item.path for item in filled.gallery_page("set", page=page, page_size=3).items)
    assert seen == [*(f"2_cat/c{index}.png" for index in range(7)), "3_dog/d0.jpg"]
    assert filled.gallery_page("set", page=9, page_size=3).items == ()
    with pytest.raises(InvalidInput):
        filled.gallery_page("set", page=0)


def test_item_fields_and_concept_filter(filled: DatasetService) -> None:
    page = filled.gallery_page("set", page=1, page_size=2)
    item = page.items[0]
    assert (item.concept, item.filename, item.width, item.height, item.has_caption) == (
        "cat",
        "c0.png",
        80,
        60,
        True,
    )
    assert item.size_bytes == len(distinct_png(0, (80, 60)))
    assert page.items[1].has_caption is False
    [dog] = filled.gallery_page("set", concept="dog").items
    assert dog.has_caption is True  # a .caption file counts
    assert dog.orientation == 6


def test_thumbnails_are_upright_small_and_cached(filled: DatasetService, settings: Settings) -> None:
    [dog] = filled.gallery_page("set", concept="dog").items
    assert dog.thumbnail is not None
    assert dog.thumbnail.is_relative_to(settings.cache_dir / "thumbs")
    with Image.open(dog.thumbnail) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.height > thumb.width, "orientation 6 turns a 40x20 landscape into portrait"
    stamp = dog.thumbnail.stat().st_mtime_ns
    [again] = filled.gallery_page("set", concept="dog").items
    assert again.thumbnail == dog.thumbnail
    assert again.thumbnail is not None and again.thumbnail.stat().st_mtime_ns == stamp, "not made twice"
    big = filled.gallery_page("set", page=1, page_size=1).items[0]
    assert big.thumbnail is not None
    with Image.open(big.thumbnail) as thumb:
        assert max(thumb.size) <= 256


def test_changed_image_gets_a_new_thumbnail(filled: DatasetService, settings: Settings) -> None:
    [before] = filled.gallery_page("set", page=1, page_size=1).items
    image = settings.datasets_dir / "set" / "2_cat" / "c0.png"
    write(image, distinct_png(200, (30, 90)))  # replaced in place: the folder's mtime does not move
    stat = image.stat()
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    [after] = filled.gallery_page("set", page=1, page_size=1).items
    assert after.thumbnail != before.thumbnail
    assert (after.width, after.height) == (30, 90)
    assert after.thumbnail is not None
    with Image.open(after.thumbnail) as thumb:
        assert thumb.height > thumb.width


def test_unreadable_image_has_a_problem_not_a_crash(filled: DatasetService, settings: Settings) -> None:
    write(settings.datasets_dir / "set" / "3_dog" / "broken.png", b"<html>nope</html>")
    items = {item.filename: item for item in filled.gallery_page("set", concept="dog").items}
    assert items["broken.png"].thumbnail is None
    assert items["broken.png"].problem


def test_delete_selected_images_with_captions(filled: DatasetService, settings: Settings) -> None:
    report = filled.delete_images("set", images=["2_cat/c0.png", "3_dog/d0.jpg", "2_cat/gone.png"])
    assert report.deleted == ("2_cat/c0.png", "3_dog/d0.jpg")
    assert sorted(report.captions_deleted) == ["2_cat/c0.txt", "3_dog/d0.caption"]
    assert report.missing == ("2_cat/gone.png",)
    root = settings.datasets_dir / "set"
    assert not (root / "2_cat" / "c0.txt").exists()
    assert not (root / "3_dog" / "d0.caption").exists()
    assert filled.get_dataset("set").image_count == 6


@pytest.mark.parametrize(
    "path",
    [
        "../other/x.png",
        "/etc/passwd",
        "2_cat/../../x.png",
        "2_cat/c1.txt",
        "c1.png",
        "notes/c1.png",
        "2_cat/sub/c1.png",
        "C:/x.png",
    ],
)
def test_delete_refuses_hostile_paths_and_deletes_nothing(
    filled: DatasetService, settings: Settings, path: str
) -> None:
    before = sorted(p for p in settings.workspace.rglob("*") if ".cache" not in p.parts)
    with pytest.raises(LoraStudioError) as caught:
        filled.delete_images("set", images=["2_cat/c1.png", path])
    assert isinstance(caught.value, InvalidInput | InvalidName)
    assert sorted(p for p in settings.workspace.rglob("*") if ".cache" not in p.parts) == before
