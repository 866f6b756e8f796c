"""Folder scans are reused while a folder is unchanged, and never hide an edit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lora_studio.services.captions.store import CaptionCache, scan_dataset


def _dataset(root: Path) -> Path:
    folder = root / "1_a"
    folder.mkdir(parents=True)
    for index in range(3):
        (folder / f"{index}.png").write_bytes(b"png")
        (folder / f"{index}.txt").write_text(f"tag{index}, smile\n", encoding="utf-8")
    return folder


def _age(folder: Path, seconds: float = 10.0) -> None:
    """Make the folder look last changed ``seconds`` ago (as any folder not touched just now)."""
    then = time.time() - seconds
    os.utime(folder, (then, then))


def _texts(root: Path, cache: CaptionCache) -> list[str]:
    return [entry.parsed.text for entry in scan_dataset(root, ["1_a"], ".txt", cache).entries]


def test_unchanged_folder_is_not_listed_again(tmp_path: Path):
    folder = _dataset(tmp_path)
    _age(folder)
    cache = CaptionCache()
    scan_dataset(tmp_path, ["1_a"], ".txt", cache)
    first = cache.folder((str(folder), ".txt"))
    scan_dataset(tmp_path, ["1_a"], ".txt", cache)
    assert first is not None and cache.folder((str(folder), ".txt")) is first


def test_caption_edited_in_place_is_seen(tmp_path: Path):
    folder = _dataset(tmp_path)
    _age(folder)
    cache = CaptionCache()
    assert _texts(tmp_path, cache) == ["tag0, smile", "tag1, smile", "tag2, smile"]
    mtime = folder.stat().st_mtime_ns
    (folder / "1.txt").write_text("edited in an editor, in place, longer\n", encoding="utf-8")
    assert folder.stat().st_mtime_ns == mtime  # the folder itself did not change
    assert _texts(tmp_path, cache) == ["tag0, smile", "edited in an editor, in place, longer", "tag2, smile"]


def test_added_removed_and_renamed_files_are_seen(tmp_path: Path):
    folder = _dataset(tmp_path)
    _age(folder)
    cache = CaptionCache()
    _texts(tmp_path, cache)
    (folder / "3.png").write_bytes(b"png")
    (folder / "3.txt").write_text("new\n", encoding="utf-8")
    (folder / "0.txt").unlink()
    assert _texts(tmp_path, cache) == ["", "tag1, smile", "tag2, smile", "new"]
    (folder / "2.txt").rename(folder / "2.caption")
    assert _texts(tmp_path, cache) == ["", "tag1, smile", "", "new"]


def test_listing_of_a_folder_changed_just_now_is_not_trusted(tmp_path: Path):
    # A folder changed within a second of its listing could change again with the same mtime.
    folder = _dataset(tmp_path)
    cache = CaptionCache()
    scan_dataset(tmp_path, ["1_a"], ".txt", cache)
    first = cache.folder((str(folder), ".txt"))
    scan_dataset(tmp_path, ["1_a"], ".txt", cache)
    assert cache.folder((str(folder), ".txt")) is not first
