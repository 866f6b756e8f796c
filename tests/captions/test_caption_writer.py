"""The bulk caption writer: atomic per file, no inode churn, safe fallbacks; the fast tag split."""

from __future__ import annotations

import errno
import os
import random
import sys
from pathlib import Path

import pytest

from lora_studio.services.captions.store import remove_stale_temps
from lora_studio.services.captions.tags import clean_tag, split_tags
from lora_studio.services.captions.writer import EXCHANGE, CaptionWriter


def _captions(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{index:03d}.txt" for index in range(count)]
    for index, path in enumerate(paths):
        path.write_text(f"old caption {index}, with a longer tail\n", encoding="utf-8")
    return paths


def _new(index: int) -> bytes:
    return f"new {index}\n".encode()


def _hidden(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.mark.skipif(EXCHANGE is None, reason="renameat2(RENAME_EXCHANGE) is Linux-only")
def test_exchange_reuses_inodes_and_leaves_nothing_behind(tmp_path: Path):
    paths = _captions(tmp_path / "1_a", 40)
    before = {path.stat().st_ino for path in paths}
    with CaptionWriter() as writer:
        for index, path in enumerate(paths):
            written = writer.write(str(path), _new(index))
            assert written.st_size == len(_new(index))
            assert written.st_mtime_ns == path.stat().st_mtime_ns  # what the cache records
    for index, path in enumerate(paths):
        assert path.read_bytes() == _new(index)  # a shorter text: the spare was truncated
    after = {path.stat().st_ino for path in paths}
    # One spare inode travels through the folder: no inode is created or freed per caption.
    assert len(after - before) <= 1
    assert _hidden(tmp_path / "1_a") == []


@pytest.mark.parametrize("exchange", ["none", "unsupported"])
def test_fallback_to_temp_file_and_rename(tmp_path: Path, exchange: str):
    def refuse(first: str, second: str) -> None:
        raise OSError(errno.EINVAL, "no exchange here", first)

    paths = _captions(tmp_path / "1_a", 5)
    with CaptionWriter(exchange=None if exchange == "none" else refuse) as writer:
        for index, path in enumerate(paths):
            writer.write(str(path), _new(index))
    assert [path.read_bytes() for path in paths] == [_new(index) for index in range(5)]
    assert _hidden(tmp_path / "1_a") == []


def test_missing_caption_is_created(tmp_path: Path):
    paths = _captions(tmp_path / "1_a", 2)
    new = tmp_path / "1_a" / "999.txt"
    with CaptionWriter() as writer:
        writer.write(str(paths[0]), b"a\n")
        writer.write(str(new), b"created\n")
        writer.write(str(paths[1]), b"b\n")
    assert new.read_bytes() == b"created\n"
    assert [path.read_bytes() for path in paths] == [b"a\n", b"b\n"]
    assert _hidden(tmp_path / "1_a") == []


def test_hard_linked_caption_elsewhere_keeps_its_old_text(tmp_path: Path):
    paths = _captions(tmp_path / "1_a", 3)
    other = tmp_path / "elsewhere.txt"
    os.link(paths[0], other)
    old = other.read_bytes()
    with CaptionWriter() as writer:
        for index, path in enumerate(paths):
            writer.write(str(path), _new(index))
    assert other.read_bytes() == old  # the spare holding its inode was never overwritten
    assert [path.read_bytes() for path in paths] == [_new(index) for index in range(3)]
    assert _hidden(tmp_path / "1_a") == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names")
def test_spare_left_by_a_crash_is_a_stale_temp(tmp_path: Path):
    paths = _captions(tmp_path / "1_a", 2)
    writer = CaptionWriter()
    writer.write(str(paths[0]), b"a\n")  # no close(): as if the process died here
    if EXCHANGE is not None:
        assert len(_hidden(tmp_path / "1_a")) == 1
    left = len(_hidden(tmp_path / "1_a"))
    assert remove_stale_temps(tmp_path / "1_a") == left
    assert _hidden(tmp_path / "1_a") == []


def test_fast_split_matches_the_folding_split():
    alphabet = [" ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u200b", ",", "a", "b_c", "é", "("]
    rng = random.Random(5)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert split_tags(text) == [tag for part in text.split(",") if (tag := clean_tag(part))], text


@pytest.mark.parametrize("caption", ["../outside.txt", "10_a/../../outside.txt", "10_a/..", "/etc/x.txt"])
def test_a_tampered_undo_record_cannot_leave_the_dataset(tmp_path: Path, caption: str):
    from lora_studio.core.errors import InvalidName, PathEscape
    from lora_studio.services.captions.changes import undo_record
    from lora_studio.services.captions.undo import UndoEntry, UndoMeta, UndoRecord, UndoStatus

    dataset = tmp_path / "ds"
    (dataset / "10_a").mkdir(parents=True)
    record = UndoRecord(
        id="x", created="now", description="edit", operation={},
        entries=(UndoEntry(caption=caption, old="old\n", new="new\n"),),
    )  # fmt: skip
    meta = UndoMeta(id="x", created="now", description="edit", captions=1, status=UndoStatus.APPLIED)
    with pytest.raises((InvalidName, PathEscape)):
        undo_record(dataset, record, meta, force=True)
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file modes")
def test_read_only_old_caption_is_not_reused_as_spare(tmp_path: Path):
    paths = _captions(tmp_path / "1_a", 3)
    paths[0].chmod(0o444)
    with CaptionWriter() as writer:
        for index, path in enumerate(paths):
            writer.write(str(path), _new(index))
    assert [path.read_bytes() for path in paths] == [_new(index) for index in range(3)]
    assert _hidden(tmp_path / "1_a") == []
