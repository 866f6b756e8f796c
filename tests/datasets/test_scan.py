"""Folder listings: the fast scan (stat by folder descriptor) and the portable one agree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.services.datasets import scan


def test_fast_and_portable_scans_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "10_cat"
    folder.mkdir()
    for name in ["b.PNG", "a.jpg", "a.txt", "c.webp", "c.caption", "README", "odd.", ".hidden.png", "z.bin"]:
        (folder / name).write_bytes(b"x" * len(name))
    (folder / "sub").mkdir()
    (folder / ".staging-1-x").mkdir()
    os.symlink(folder / "a.jpg", folder / "link.jpg")
    fast = scan.read_listing(folder)
    monkeypatch.setattr(scan, "_STAT_BY_DIR_FD", False)
    portable = scan.read_listing(folder)
    assert fast == portable
    assert [entry.name for entry in fast.files] == [
        "README",
        "a.jpg",
        "a.txt",
        "b.PNG",
        "c.caption",
        "c.webp",
        "odd.",
        "z.bin",
    ]
    assert fast.folders == ("sub",)
    assert [entry.name for entry in fast.images] == ["a.jpg", "b.PNG", "c.webp"]
    assert fast.caption_stems == {"a", "c"}
    assert fast.captioned_count == 2
    assert fast.size_bytes == sum(len(entry.name) for entry in fast.files)
    assert fast.files[0] == scan.FileEntry.of("README", 6, fast.files[0].mtime_ns)


def test_a_missing_folder_reads_as_empty(tmp_path: Path) -> None:
    listing = scan.read_listing(tmp_path / "nope")
    assert listing.files == () and listing.folders == () and listing.mtime_ns == 0
