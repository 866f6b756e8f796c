"""Create, list, rename, delete; concepts and repeats; hostile names; the mtime cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.core.errors import (
    AlreadyExists,
    ConceptNotFound,
    DatasetNotFound,
    InvalidInput,
    InvalidName,
    LoraStudioError,
)
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService
from lora_studio.services.datasets import scan as scan_module
from tests.datasets.corpus import distinct_png, write

HOSTILE_NAMES = [
    "",
    " ",
    ".",
    "..",
    "../escape",
    "a/b",
    "a\\b",
    "/etc",
    "C:evil",
    "nul\x00byte",
    "tab\tname",
    ".hidden",
    "trailing.",
    " padded ",
    "con",
    "CON.txt",
    "lpt1",
    "zero\u200bwidth",
    "bidi\u202eexe.png",
    "full\uff0fwidth",
    "x" * 300,
]


def all_files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*")}


def test_create_list_and_counts(service: DatasetService, settings: Settings) -> None:
    service.create_dataset("people", concept="ohwx person", repeats=12)
    folder = settings.datasets_dir / "people" / "12_ohwx person"
    assert folder.is_dir()
    write(folder / "a.png", distinct_png(1))
    write(folder / "a.txt", "ohwx person, smiling")
    write(folder / "b.png", distinct_png(2))
    [summary] = service.list_datasets()
    assert summary.name == "people"
    assert summary.image_count == 2
    assert summary.captioned_count == 1
    [concept] = summary.concepts
    assert (concept.concept, concept.repeats, concept.folder) == ("ohwx person", 12, "12_ohwx person")
    assert summary.size_bytes == sum(path.stat().st_size for path in folder.iterdir())


def test_hand_copied_dataset_is_recognised(service: DatasetService, settings: Settings) -> None:
    root = settings.datasets_dir / "copied"
    write(root / "5_cat" / "1.png", distinct_png(1))
    write(root / "20_dog" / "2.png", distinct_png(2))
    write(root / "notes" / "readme.md", "x")
    write(root / "loose.png", distinct_png(3))
    summary = service.get_dataset("copied")
    assert {(c.concept, c.repeats) for c in summary.concepts} == {("cat", 5), ("dog", 20)}
    assert summary.image_count == 2
    assert summary.loose_images == 1
    assert summary.other_folders == ("notes",)


def test_repeats_and_concept_rename_move_the_folder(service: DatasetService, settings: Settings) -> None:
    service.create_dataset("set", concept="cat", repeats=10)
    write(settings.datasets_dir / "set" / "10_cat" / "a.png", distinct_png(1))
    summary = service.set_repeats("set", concept="cat", repeats=3)
    assert [c.folder for c in summary.concepts] == ["3_cat"]
    assert (settings.datasets_dir / "set" / "3_cat" / "a.png").is_file()
    summary = service.rename_concept("set", concept="cat", new_concept="kitty")
    assert [c.folder for c in summary.concepts] == ["3_kitty"]
    with pytest.raises(ConceptNotFound):
        service.set_repeats("set", concept="cat", repeats=2)
    for bad in (0, -1, 10_001, True):
        with pytest.raises(InvalidInput):
            service.set_repeats("set", concept="kitty", repeats=bad)


def test_ambiguous_concept_is_a_typed_error(service: DatasetService, settings: Settings) -> None:
    (settings.datasets_dir / "dup" / "5_cat").mkdir(parents=True)
    (settings.datasets_dir / "dup" / "10_cat").mkdir()
    with pytest.raises(InvalidInput, match="several folders"):
        service.set_repeats("dup", concept="cat", repeats=2)


def test_rename_and_delete(service: DatasetService, settings: Settings) -> None:
    service.create_dataset("one", concept="c")
    service.create_dataset("two")
    with pytest.raises(AlreadyExists):
        service.create_dataset("one")
    with pytest.raises(AlreadyExists):
        service.rename_dataset("one", new_name="two")
    service.rename_dataset("one", new_name="three")
    assert sorted(item.name for item in service.list_datasets()) == ["three", "two"]
    write(settings.datasets_dir / "three" / "10_c" / "a.png", distinct_png(1))
    service.stats("three")  # leaves a header cache behind
    assert len(list((settings.cache_dir / "imageinfo").iterdir())) == 1
    service.delete_dataset("three")
    assert [item.name for item in service.list_datasets()] == ["two"]
    assert list((settings.cache_dir / "imageinfo").iterdir()) == []
    assert list(settings.datasets_dir.iterdir()) == [settings.datasets_dir / "two"]


@pytest.mark.parametrize("action", ["get", "delete", "rename", "import", "gallery", "stats", "repeats"])
def test_unknown_dataset_is_a_typed_error(service: DatasetService, action: str) -> None:
    calls = {
        "get": lambda: service.get_dataset("missing"),
        "delete": lambda: service.delete_dataset("missing"),
        "rename": lambda: service.rename_dataset("missing", new_name="other"),
        "import": lambda: service.import_files("missing", []),
        "gallery": lambda: service.gallery_page("missing"),
        "stats": lambda: service.stats("missing"),
        "repeats": lambda: service.set_repeats("missing", concept="c", repeats=1),
    }
    with pytest.raises(DatasetNotFound, match="missing"):
        calls[action]()


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_hostile_names_are_refused_everywhere(service: DatasetService, settings: Settings, name: str) -> None:
    service.create_dataset("safe", concept="c")
    before = all_files(settings.workspace.parent)
    attempts = [
        lambda: service.create_dataset(name),
        lambda: service.create_dataset("ok", concept=name),
        lambda: service.rename_dataset("safe", new_name=name),
        lambda: service.delete_dataset(name),
        lambda: service.add_concept("safe", concept=name),
        lambda: service.rename_concept("safe", concept="c", new_concept=name),
    ]
    for attempt in attempts:
        with pytest.raises(LoraStudioError) as caught:
            attempt()
        assert isinstance(caught.value, InvalidName | DatasetNotFound | InvalidInput), caught.value
        assert str(caught.value)
    after = all_files(settings.workspace.parent)
    # Names are checked before anything is made: not even "ok" exists after a refused concept.
    assert after == before


def test_listing_cache_is_reused_and_invalidated_by_mtime(
    service: DatasetService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.create_dataset("cached", concept="c")
    folder = settings.datasets_dir / "cached" / "10_c"
    write(folder / "a.png", distinct_png(1))
    for path in (folder, folder.parent, settings.datasets_dir):
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    reads: list[Path] = []
    original = scan_module.read_listing
    monkeypatch.setattr(scan_module, "read_listing", lambda p: reads.append(p) or original(p))
    assert service.get_dataset("cached").image_count == 1
    first = len(reads)
    assert service.get_dataset("cached").image_count == 1
    assert len(reads) == first, "a second look must come from the cache"
    write(folder / "b.png", distinct_png(2))
    os.utime(folder, ns=(2_000_000_000, 2_000_000_000))
    assert service.get_dataset("cached").image_count == 2
