"""Importing files, folders and zips: verification, captions, duplicates, collisions, all-or-report."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, features

from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService, ImportReport, ImportRow, ImportStatus
from lora_studio.services.datasets import file_check as file_check_module
from lora_studio.services.datasets import importer as importer_module
from tests.datasets.corpus import distinct_png, hostile_files, image_bytes, write


def by_source(report: ImportReport) -> dict[str, ImportRow]:
    return {row.source: row for row in report.rows}


def dataset_files(settings: Settings, name: str) -> set[str]:
    root = settings.datasets_dir / name
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def ready(service: DatasetService) -> DatasetService:
    service.create_dataset("set", concept="cat", repeats=4)
    return service


def test_hostile_file_corpus(ready: DatasetService, settings: Settings, tmp_path: Path) -> None:
    corpus = hostile_files()
    paths = [write(tmp_path / "in" / name, data) for name, (data, _) in corpus.items()]
    report = ready.import_files("set", paths)
    rows = by_source(report)
    assert len(rows) == len(corpus)
    for name, (_, expected) in corpus.items():
        row = rows[name]
        if expected is None:
            assert row.status is ImportStatus.ACCEPTED, (name, row.reason)
        else:
            assert row.status is ImportStatus.REJECTED, name
            assert expected.lower() in row.reason.lower(), (name, row.reason)
    assert rows["misnamed.png"].final_path == "4_cat/misnamed.jpg"
    assert rows["anim.gif"].final_path == "4_cat/anim.png"
    assert "EXIF orientation 6" in rows["rotated.jpg"].reason
    assert "transparency" in rows["palette.png"].reason
    assert "animated" in rows["animated.png"].reason
    assert "CMYK" in rows["cmyk.jpg"].reason
    with Image.open(settings.datasets_dir / "set" / "4_cat" / "sixteen.png") as converted:
        assert converted.mode == "L"
        assert converted.getpixel((0, 0)) == 40_000 * 255 // 65_535
    accepted = {row.final_path for row in report.rows if row.status is ImportStatus.ACCEPTED}
    assert dataset_files(settings, "set") == accepted


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bomb_between_warning_and_error_limits_is_refused(
    ready: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # 64x48 = 3072: only Pillow's warning level
    report = ready.import_files("set", [write(tmp_path / "a.png", distinct_png(1))])
    [row] = report.rows
    assert row.status is ImportStatus.REJECTED
    assert "decompression-bomb" in row.reason


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_is_converted_to_png(ready: DatasetService, tmp_path: Path) -> None:
    report = ready.import_files("set", [write(tmp_path / "a.avif", image_bytes((32, 32), fmt="AVIF"))])
    [row] = report.rows
    assert row.status is ImportStatus.ACCEPTED
    assert row.final_path == "4_cat/a.png"


def test_heic_is_converted_to_png_when_the_plugin_is_installed(ready: DatasetService, tmp_path: Path) -> None:
    from lora_studio.services.datasets.verify import HEIF_SUPPORTED

    path = tmp_path / "phone.heic"
    if not HEIF_SUPPORTED:
        write(path, b"\x00\x00\x00\x18ftypheic" + bytes(64))
        [row] = ready.import_files("set", [path]).rows
        assert "pillow-heif" in row.reason
        return
    write(path, image_bytes((32, 32), fmt="HEIF"))
    [row] = ready.import_files("set", [path]).rows
    assert row.status is ImportStatus.ACCEPTED, row.reason
    assert row.final_path == "4_cat/phone.png"


def test_loose_uploads_pair_captions_by_stem(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    # A browser upload puts each file in its own temporary folder.
    image = write(tmp_path / "u1" / "photo.png", distinct_png(1))
    caption = write(tmp_path / "u2" / "photo.txt", "\ufeffa cat, sitting")
    other = write(tmp_path / "u3" / "photo2.jpg", image_bytes(fmt="JPEG"))
    empty = write(tmp_path / "u4" / "photo2.caption", "  \n")
    orphan = write(tmp_path / "u5" / "nobody.txt", "lonely")
    report = ready.import_files("set", [image, caption, other, empty, orphan])
    rows = by_source(report)
    assert rows["photo.png"].caption_path == "4_cat/photo.txt"
    assert (settings.datasets_dir / "set" / "4_cat" / "photo.txt").read_text() == "a cat, sitting"
    assert rows["photo2.jpg"].caption_path is None
    assert "empty" in rows["photo2.jpg"].reason
    assert rows["nobody.txt"].status is ImportStatus.REJECTED
    assert "without a matching image" in rows["nobody.txt"].reason


def test_folder_import_makes_concepts_from_n_name(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "server"
    write(source / "15_dog" / "d.png", distinct_png(1))
    write(source / "15_dog" / "d.txt", "a dog")
    write(source / "misc" / "deep" / "m.png", distinct_png(2))
    write(source / "0_zero" / "z.png", distinct_png(3))
    write(source / "notes.md", "hello")
    (source / "link.png").symlink_to(source / "misc" / "deep" / "m.png")
    report = ready.import_files("set", [source])
    rows = by_source(report)
    assert rows["server/15_dog/d.png"].final_path == "15_dog/d.png"
    assert rows["server/15_dog/d.png"].caption_path == "15_dog/d.txt"
    assert rows["server/misc/deep/m.png"].final_path == "4_cat/m.png"
    assert rows["server/0_zero/z.png"].status is ImportStatus.REJECTED
    assert rows["server/notes.md"].status is ImportStatus.REJECTED
    assert "symbolic link" in rows["server/link.png"].reason
    summary = ready.get_dataset("set")
    assert {(c.concept, c.repeats) for c in summary.concepts} == {("cat", 4), ("dog", 15)}


def test_existing_concept_keeps_its_repeats(ready: DatasetService, tmp_path: Path) -> None:
    report = ready.import_files("set", [write(tmp_path / "a.png", distinct_png(1))], concept="cat", repeats=9)
    [row] = report.rows
    assert row.final_path == "4_cat/a.png"
    assert "already has 4 repeats" in row.reason


def test_duplicates_are_skipped_with_a_note(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    first = ready.import_files("set", [write(tmp_path / "a.png", distinct_png(1))])
    assert first.accepted == 1
    again = [
        write(tmp_path / "b" / "renamed.png", distinct_png(1)),
        write(tmp_path / "c" / "new.png", distinct_png(2)),
        write(tmp_path / "d" / "new-copy.png", distinct_png(2)),
    ]
    report = ready.import_files("set", again)
    rows = by_source(report)
    assert rows["renamed.png"].status is ImportStatus.DUPLICATE
    assert "4_cat/a.png" in rows["renamed.png"].reason
    assert rows["new.png"].status is ImportStatus.ACCEPTED
    assert rows["new-copy.png"].status is ImportStatus.DUPLICATE
    assert dataset_files(settings, "set") == {"4_cat/a.png", "4_cat/new.png"}


def test_name_collisions_get_a_suffix_never_overwrite(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.datasets_dir / "set" / "4_cat"
    write(folder / "x.png", distinct_png(1))
    write(folder / "y.txt", "caption of a future y image")
    original = (folder / "x.png").read_bytes()
    inputs = [
        write(tmp_path / "1" / "x.png", distinct_png(2)),
        write(tmp_path / "2" / "X.jpg", image_bytes(fmt="JPEG", color=(5, 5, 5))),
        write(tmp_path / "3" / "y.png", distinct_png(3)),
    ]
    report = ready.import_files("set", inputs)
    finals = sorted(row.final_path or "" for row in report.rows)
    assert finals == ["4_cat/X_1.jpg", "4_cat/x_1.png", "4_cat/y_1.png"] or finals == [
        "4_cat/X_2.jpg",
        "4_cat/x_1.png",
        "4_cat/y_1.png",
    ]
    assert (folder / "x.png").read_bytes() == original
    assert all("renamed" in row.reason for row in report.rows)


def test_failure_midway_leaves_no_partial_files(
    ready: DatasetService, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dataset_files(settings, "set")
    source = tmp_path / "src"
    for index in range(6):
        write(source / f"{index}.png", distinct_png(index))
        write(source / f"{index}.txt", f"caption {index}")
    write(source / "7_new" / "n.png", distinct_png(99))
    moves = {"count": 0}
    real_move = importer_module.move_no_replace

    def failing_move(src: Path, dst: Path) -> None:
        moves["count"] += 1
        if moves["count"] == 5:
            raise OSError("disk full (simulated)")
        real_move(src, dst)

    monkeypatch.setattr(importer_module, "move_no_replace", failing_move)
    with pytest.raises(OSError, match="disk full"):
        ready.import_files("set", [source])
    assert dataset_files(settings, "set") == before
    root = settings.datasets_dir / "set"
    assert sorted(path.name for path in root.iterdir()) == ["4_cat"], "no staging folder, no new concept"


def test_crash_in_a_worker_leaves_nothing(
    ready: DatasetService, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(data: bytes, filename: str) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(file_check_module, "verify_image", boom)
    with pytest.raises(MemoryError):
        ready.import_files("set", [write(tmp_path / "a.png", distinct_png(1))])
    assert dataset_files(settings, "set") == set()
    assert [path.name for path in (settings.datasets_dir / "set").iterdir()] == ["4_cat"]


def test_stale_staging_from_a_dead_process_is_removed(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    stale = settings.datasets_dir / "set" / ".staging-999999999-abc"
    write(stale / "000001.png", distinct_png(1))
    ready.import_files("set", [write(tmp_path / "a.png", distinct_png(2))])
    assert not stale.exists()


def test_hostile_loose_file_names(ready: DatasetService, settings: Settings, tmp_path: Path) -> None:
    names = [
        "con.png",
        " lead.png",
        "co:lon.png",
        "star*.png",
        "LPT1.jpg",
        "zero\u200bwidth.png",
        "bidi\u202egnp.png",
    ]
    paths = [write(tmp_path / f"d{index}" / name, distinct_png(index)) for index, name in enumerate(names)]
    report = ready.import_files("set", paths)
    assert all(row.status is ImportStatus.REJECTED for row in report.rows)
    assert all("unusable file name" in row.reason for row in report.rows)
    assert dataset_files(settings, "set") == set()


def test_progress_is_reported(ready: DatasetService, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    paths = [write(tmp_path / f"{index}.png", distinct_png(index)) for index in range(4)]
    ready.import_files("set", paths, on_progress=lambda fraction, text: seen.append((fraction, text)))
    assert [fraction for fraction, _ in seen] == [0.25, 0.5, 0.75, 1.0]


def test_import_rows_for_unknown_paths(ready: DatasetService, tmp_path: Path) -> None:
    report = ready.import_files("set", [tmp_path / "nope.png"])
    [row] = report.rows
    assert row.status is ImportStatus.REJECTED
    assert "no such file" in row.reason


def test_png_bytes_survive_unchanged(ready: DatasetService, settings: Settings, tmp_path: Path) -> None:
    data = distinct_png(5)
    ready.import_files("set", [write(tmp_path / "keep.png", data)])
    assert (settings.datasets_dir / "set" / "4_cat" / "keep.png").read_bytes() == data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48)


def test_concurrent_imports_never_overwrite(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    batches = [
        [
            write(tmp_path / f"b{batch}" / f"same{index}.png", distinct_png(batch * 100 + index))
            for index in range(5)
        ]
        for batch in range(3)
    ]
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda paths: ready.import_files("set", paths), batches))
    finals = [row.final_path for report in reports for row in report.rows]
    assert all(report.accepted == 5 for report in reports)
    assert len(set(finals)) == 15
    assert len(dataset_files(settings, "set")) == 15
