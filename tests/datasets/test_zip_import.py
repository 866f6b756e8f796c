"""Zip archives: concepts from N_name folders, captions, and every attack we know of."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lora_studio.core.errors import UnsafeArchive
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService, ImportStatus, ZipLimits
from lora_studio.services.datasets.zipsafe import check_archive, classify_entries
from tests.datasets.corpus import distinct_png, write, zip_bytes


@pytest.fixture
def ready(service: DatasetService) -> DatasetService:
    service.create_dataset("set", concept="cat", repeats=4)
    return service


def everything_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def test_zip_concepts_and_captions(ready: DatasetService, settings: Settings, tmp_path: Path) -> None:
    archive = write(
        tmp_path / "upload.zip",
        zip_bytes(
            {
                "pack/3_dog/d.png": distinct_png(1),
                "pack/3_dog/d.txt": "a dog",
                "pack/random/r.png": distinct_png(2),
                "top.png": distinct_png(3),
                "__MACOSX/pack/._d.png": b"junk",
                "pack/readme.pdf": b"%PDF-1.4",
            }
        ),
    )
    report = ready.import_files("set", [archive])
    rows = {row.source: row for row in report.rows}
    assert rows["upload.zip:pack/3_dog/d.png"].final_path == "3_dog/d.png"
    assert rows["upload.zip:pack/3_dog/d.png"].caption_path == "3_dog/d.txt"
    assert rows["upload.zip:pack/random/r.png"].final_path == "4_cat/r.png"
    assert rows["upload.zip:top.png"].final_path == "4_cat/top.png"
    assert rows["upload.zip:pack/readme.pdf"].status is ImportStatus.REJECTED
    assert not any("__MACOSX" in source for source in rows), "macOS litter is skipped silently"
    assert (settings.datasets_dir / "set" / "3_dog" / "d.txt").read_text() == "a dog"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../escape.png", ".."),
        ("a/../../escape.png", ".."),
        ("/abs/escape.png", "absolute"),
        ("\\abs\\escape.png", "absolute"),
        ("C:/evil.png", "absolute"),
        ("c:evil.png", "absolute"),
        ("ok/con.png", "reserved"),
        ("ok/bidi\u202egnp.png", "invisible"),
        ("inner.zip", "archives inside archives"),
    ],
)
def test_hostile_entries_are_refused(
    ready: DatasetService, settings: Settings, tmp_path: Path, entry: str, reason: str
) -> None:
    archive = write(
        tmp_path / "in" / "evil.zip", zip_bytes({entry: distinct_png(1), "fine.png": distinct_png(2)})
    )
    before = everything_under(tmp_path.parent)
    report = ready.import_files("set", [archive])
    rows = {row.source: row for row in report.rows}
    assert rows[f"evil.zip:{entry}"].status is ImportStatus.REJECTED
    assert reason in rows[f"evil.zip:{entry}"].reason
    assert rows["evil.zip:fine.png"].status is ImportStatus.ACCEPTED
    created = everything_under(tmp_path.parent) - before
    dataset = settings.datasets_dir / "set"
    assert created, "the fine entry was imported"
    assert all(path.is_relative_to(dataset) or path.is_relative_to(settings.cache_dir) for path in created)


def test_symlink_entries_are_refused(ready: DatasetService, settings: Settings, tmp_path: Path) -> None:
    archive = write(
        tmp_path / "links.zip", zip_bytes({"real.png": distinct_png(1)}, symlinks={"link.png": "/etc/passwd"})
    )
    report = ready.import_files("set", [archive])
    rows = {row.source: row for row in report.rows}
    assert rows["links.zip:link.png"].status is ImportStatus.REJECTED
    assert "symbolic link" in rows["links.zip:link.png"].reason
    assert not (settings.datasets_dir / "set" / "4_cat" / "link.png").exists()


def test_ratio_bomb_refuses_the_whole_archive(
    ready: DatasetService, settings: Settings, tmp_path: Path
) -> None:
    archive = write(
        tmp_path / "bomb.zip", zip_bytes({"zeros.png": b"\0" * (8 * 1024**2), "ok.png": distinct_png(1)})
    )
    report = ready.import_files("set", [archive])
    [row] = report.rows
    assert row.source == "bomb.zip"
    assert row.status is ImportStatus.REJECTED
    assert "zip bomb" in row.reason
    assert not any((settings.datasets_dir / "set" / "4_cat").iterdir())


def test_total_size_and_entry_count_caps(settings: Settings, tmp_path: Path) -> None:
    service = DatasetService(settings, zip_limits=ZipLimits(max_entries=3, max_total_bytes=10_000))
    service.create_dataset("set", concept="cat")
    big = write(
        tmp_path / "big.zip", zip_bytes({"a.png": distinct_png(1, (400, 400)), "b.bin": bytes(20_000)})
    )
    many = write(
        tmp_path / "many.zip", zip_bytes({f"{index}.png": distinct_png(index) for index in range(4)})
    )
    report = service.import_files("set", [big, many])
    rows = {row.source: row for row in report.rows}
    assert "more than the limit" in rows["big.zip"].reason
    assert "entries" in rows["many.zip"].reason


def test_lying_header_cannot_unpack_more_than_declared(tmp_path: Path) -> None:
    """zipfile stops at the declared size and checks the CRC; a forged size is a read error."""
    data = zip_bytes({"a.png": distinct_png(1)})
    path = write(tmp_path / "forged.zip", data)
    with zipfile.ZipFile(path) as archive:
        [info] = archive.infolist()
        info.file_size = 10  # what a forged central directory would claim
        with pytest.raises(zipfile.BadZipFile):
            archive.read(info)


def test_damaged_entry_is_a_row_not_a_crash(ready: DatasetService, tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"a.png": distinct_png(1, (200, 200)), "b.png": distinct_png(2)}))
    start = data.index(b"a.png") + len(b"a.png") + 20  # inside a.png's compressed bytes
    data[start : start + 8] = b"\xff" * 8
    archive = write(tmp_path / "damaged.zip", bytes(data))
    report = ready.import_files("set", [archive])
    rows = {row.source: row for row in report.rows}
    assert rows["damaged.zip:a.png"].status is ImportStatus.REJECTED
    assert rows["damaged.zip:b.png"].status is ImportStatus.ACCEPTED


def test_not_a_zip_named_zip(ready: DatasetService, tmp_path: Path) -> None:
    report = ready.import_files("set", [write(tmp_path / "fake.zip", b"this is not a zip")])
    [row] = report.rows
    assert row.status is ImportStatus.REJECTED
    assert "zip" in row.reason


def test_zipsafe_helpers_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "x.zip", zip_bytes({"ok/a.png": b"1", "../b.png": b"2", "ok/": b""}))
    with zipfile.ZipFile(path) as archive:
        check_archive(archive)
        accepted, refused = classify_entries(archive)
        assert [entry.parts for entry in accepted] == [("ok", "a.png")]
        assert [entry.name for entry in refused] == ["../b.png"]
        with pytest.raises(UnsafeArchive):
            check_archive(archive, ZipLimits(max_entries=1))
