"""Moves that never replace a file, and swaps, through renameat2 or the fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core import renames
from lora_studio.core.renames import EXCHANGE, move_no_replace


@pytest.fixture(params=["renameat2", "fallback"])
def mover(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "renameat2" and renames._RENAMEAT2 is None:
        pytest.skip("renameat2 is Linux-only")
    if request.param == "fallback":
        monkeypatch.setattr(renames, "_RENAMEAT2", None)
    return str(request.param)


def test_a_move_puts_the_file_in_place(tmp_path: Path, mover: str) -> None:
    source, target = tmp_path / "staged.jpg", tmp_path / "sub" / "final.jpg"
    target.parent.mkdir()
    source.write_bytes(b"image")
    move_no_replace(source, target)
    assert target.read_bytes() == b"image"
    assert not source.exists()


def test_a_move_never_replaces_an_existing_file(tmp_path: Path, mover: str) -> None:
    source, target = tmp_path / "staged.jpg", tmp_path / "final.jpg"
    source.write_bytes(b"new")
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        move_no_replace(source, target)
    assert target.read_bytes() == b"old"
    assert source.read_bytes() == b"new"


def test_a_missing_source_is_reported(tmp_path: Path, mover: str) -> None:
    with pytest.raises(FileNotFoundError):
        move_no_replace(tmp_path / "gone.jpg", tmp_path / "final.jpg")
    assert not (tmp_path / "final.jpg").exists()


@pytest.mark.skipif(EXCHANGE is None, reason="renameat2 is Linux-only")
def test_exchange_swaps_two_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_bytes(b"A")
    second.write_bytes(b"B")
    assert EXCHANGE is not None
    EXCHANGE(str(first), str(second))
    assert (first.read_bytes(), second.read_bytes()) == (b"B", b"A")
