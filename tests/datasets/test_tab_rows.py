"""The Datasets tab's pure formatting: folder names never show, sizes read well, pages say where they are."""

from __future__ import annotations

from pathlib import Path

from lora_studio.services.datasets import DatasetService, GalleryItem, GalleryPage, ImportStatus
from lora_studio.ui.tabs.datasets_rows import (
    dataset_notes,
    dataset_rows,
    display_path,
    gallery_view,
    human_size,
    report_rows,
    report_summary,
    stats_view,
)
from tests.datasets.corpus import distinct_png, write


def test_display_path_hides_the_folder_convention() -> None:
    assert display_path("10_cat/a.png") == "cat / a.png"
    assert display_path("misc/a.png") == "misc/a.png"
    assert display_path(None) == ""


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 1023, 1536, 5 * 1024**3)] == ["0 B", "1023 B", "1.5 KB", "5.0 GB"]


def test_rows_from_a_real_dataset(service: DatasetService, tmp_path: Path) -> None:
    service.create_dataset("set", concept="cat", repeats=3)
    paths = [write(tmp_path / "a.png", distinct_png(1)), write(tmp_path / "a.txt", "cat")]
    paths.append(write(tmp_path / "bad.png", b"nope"))
    report = service.import_files("set", paths)
    assert sorted(row[:2] for row in report_rows(report)) == [["a.png", "accepted"], ["bad.png", "rejected"]]
    assert [row[3] for row in report_rows(report) if row[0] == "a.png"] == ["cat / a.png"]
    assert "1 accepted" in report_summary(report) and "why" in report_summary(report)
    summary = service.get_dataset("set")
    assert dataset_rows([summary]) == [["set", 1, 1, human_size(summary.size_bytes), "cat (3)"]]
    (summary.path / "stray").mkdir()
    assert "stray" in dataset_notes(service.get_dataset("set"))
    stats = stats_view(service.stats("set"))
    assert stats.small == [["cat / a.png", 64, 48]] and stats.uncaptioned == []
    assert report.count(ImportStatus.DUPLICATE) == 0


def test_gallery_view_keeps_unreadable_images_in_the_details() -> None:
    good = GalleryItem("3_cat/a.png", "cat", "a.png", 10, 64, 48, True, 6, Path("/t/a.jpg"))
    bad = GalleryItem("3_cat/b.png", "cat", "b.png", 5, 0, 0, False, 1, None, "not an image")
    view = gallery_view(GalleryPage((good, bad), page=2, page_size=2, total=5))
    assert view.images == [("/t/a.jpg", "a.png")] and view.image_paths == ["3_cat/a.png"]
    assert view.choices == [("cat / a.png", "3_cat/a.png"), ("cat / b.png", "3_cat/b.png")]
    assert view.details[0][3:] == ["64x48", "yes", "EXIF-rotated: trains as stored"]
    assert view.details[1][3:] == ["?", "no", "not an image"]
    assert view.page_text == "Page 2 of 3 · images 3–4 of 5"
    assert gallery_view(GalleryPage((), page=1, page_size=2, total=0)).page_text == "No images yet."
