"""Importing a folder that is already on the server, and the rule that limits it on a public app."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService, ImportStatus
from lora_studio.services.datasets.server_folder import resolve_server_folder
from tests.datasets.corpus import distinct_png, write


def test_private_app_imports_any_folder(service: DatasetService, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "shots"
    write(outside / "a.png", distinct_png(1))
    write(outside / "a.txt", "a cat")
    write(outside / "3_dog" / "b.png", distinct_png(2))
    service.create_dataset("set", concept="cat", repeats=4)
    report = service.import_server_folder("set", str(outside))
    assert [row.status for row in report.rows] == [ImportStatus.ACCEPTED, ImportStatus.ACCEPTED]
    summary = service.get_dataset("set")
    assert {(c.concept, c.repeats, c.image_count, c.captioned_count) for c in summary.concepts} == {
        ("cat", 4, 1, 1),
        ("dog", 3, 1, 0),
    }


def test_public_app_refuses_folders_outside_the_workspace(settings: Settings, tmp_path: Path) -> None:
    public = DatasetService(replace(settings, share=True))
    public.create_dataset("set")
    outside = tmp_path / "elsewhere"
    write(outside / "a.png", distinct_png(1))
    with pytest.raises(InvalidInput, match="reachable from other machines"):
        public.import_server_folder("set", str(outside))
    # The same refusal whether or not the folder exists: nothing about the server leaks.
    with pytest.raises(InvalidInput, match="reachable from other machines"):
        public.import_server_folder("set", "/no/such/folder")
    with pytest.raises(InvalidInput, match="reachable from other machines"):
        public.import_server_folder("set", "../elsewhere")
    assert public.get_dataset("set").image_count == 0


def test_public_app_refuses_a_symlink_out_of_the_workspace(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write(outside / "a.png", distinct_png(1))
    (settings.workspace / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput, match="reachable from other machines"):
        resolve_server_folder("link", workspace=settings.workspace, public=True)


def test_public_app_imports_from_inside_the_workspace(settings: Settings) -> None:
    public = DatasetService(replace(settings, host="0.0.0.0"))
    write(settings.workspace / "incoming" / "a.png", distinct_png(1))
    public.create_dataset("set")
    report = public.import_server_folder("set", "incoming")  # relative: starts at the workspace
    assert report.accepted == 1


@pytest.mark.parametrize("text", ["", "   ", "nope/missing"])
def test_missing_or_empty_folder_is_explained(settings: Settings, text: str) -> None:
    with pytest.raises(InvalidInput, match="folder"):
        resolve_server_folder(text, workspace=settings.workspace, public=False)


def test_dataset_names(service: DatasetService) -> None:
    assert service.dataset_names() == []
    service.create_dataset("b")
    service.create_dataset("a")
    assert service.dataset_names() == ["a", "b"]
