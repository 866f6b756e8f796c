"""Hostile names and paths never leave the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.core.errors import InvalidName, PathEscape
from lora_studio.core.paths import child_path, ensure_inside, relative_inside, safe_name

HOSTILE = [
    ("", "empty"),
    ("   ", "empty"),
    (".", "folder link"),
    ("..", "folder link"),
    ("../etc", "'/'"),
    ("a/b", "'/'"),
    ("a\\b", "'\\\\'"),
    ("/etc/passwd", "'/'"),
    ("C:\\Windows", "':'"),
    ("C:evil", "':'"),
    ("nul\x00byte", "U+0000"),
    ("tab\there", "U+0009"),
    ("new\nline", "U+000A"),
    ("CON", "reserved"),
    ("nul.txt", "reserved"),
    ("com1", "reserved"),
    ("LPT9.png", "reserved"),
    (".hidden", "dot"),
    ("trailing.", "ends with a dot"),
    (" lead", "white space"),
    ("trail ", "white space"),
    ("x" * 101, "longer"),
    ("é" * 130, "longer"),
    ("evil\u202etxt.exe", "U+202E"),
    ("zero\u200bwidth", "U+200B"),
    ("full\uff0fwidth", "looks like a path separator"),
    ("star*", "'*'"),
    ("what?", "'?'"),
    ('quote"', "'\"'"),
    ("pipe|", "'|'"),
    ("a<b>", "'<'"),
]


@pytest.mark.parametrize(("name", "why"), HOSTILE)
def test_hostile_names_are_refused_with_a_reason(name: str, why: str) -> None:
    with pytest.raises(InvalidName) as caught:
        safe_name(name)
    assert why in str(caught.value)


@pytest.mark.parametrize("name", ["my dataset", "char_01", "10_alice", "日本語", "a.b-c (2)", "x" * 100])
def test_ordinary_names_pass_unchanged(name: str) -> None:
    assert safe_name(name) == name


def test_names_are_nfc_normalised() -> None:
    assert safe_name("cafe\u0301") == "caf\u00e9"


def test_child_path_stays_inside(tmp_path: Path) -> None:
    assert child_path(tmp_path, "a", "b") == tmp_path / "a" / "b"
    with pytest.raises(InvalidName):
        child_path(tmp_path, "..")


def test_symlink_leaving_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(PathEscape):
        child_path(root, "link")
    with pytest.raises(PathEscape):
        child_path(root, "link", "file.txt")


def test_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert child_path(tmp_path, "alias") == tmp_path / "alias"


def test_containment_is_not_a_string_prefix(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data-evil").mkdir()
    with pytest.raises(PathEscape):
        ensure_inside(tmp_path / "data", tmp_path / "data-evil")


@pytest.mark.parametrize("relative", ["../x.png", "/abs.png", "C:/x.png", "a/../../x", "\\\\server\\share"])
def test_relative_archive_paths_are_checked(tmp_path: Path, relative: str) -> None:
    with pytest.raises((InvalidName, PathEscape)):
        relative_inside(tmp_path, relative)


def test_relative_path_inside(tmp_path: Path) -> None:
    assert relative_inside(tmp_path, "10_cat/img.png") == tmp_path / "10_cat" / "img.png"


def test_every_ascii_character_is_judged_as_the_unicode_checks_judge_it() -> None:
    """Plain ASCII names skip the per-character Unicode checks: the verdict must not change."""
    for code in range(128):
        char = chr(code)
        forbidden = char in '/\\:*?"<>|' or code < 32 or code == 127
        name = f"a{char}b.png"
        if forbidden:
            with pytest.raises(InvalidName):
                safe_name(name)
        else:
            assert safe_name(name) == name
