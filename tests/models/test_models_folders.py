"""Extra model folders a person names in the Models tab: checked, saved, listed, deletable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.errors import ConfigInvalid, InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.services.models import ModelService
from lora_studio.services.models.folders import FOLDERS_FILE
from tests.models import model_files as mf


def test_saved_folders_are_listed_and_their_files_can_be_deleted(settings: Settings, tmp_path: Path) -> None:
    comfy = tmp_path / "ComfyUI" / "models"
    vae = mf.write(comfy / "vae" / "ae.safetensors", mf.VAE_16CH)
    service = ModelService(settings)
    assert service.saved_folders() == ()
    assert service.save_folders([f"  {comfy}  ", "", str(comfy)]) == (comfy.resolve(),)
    saved = json.loads((settings.models_dir / FOLDERS_FILE).read_text())
    assert saved == {"schema_version": 1, "folders": [str(comfy.resolve())]}

    fresh = ModelService(settings)  # what a restarted app sees
    assert fresh.saved_folders() == (comfy.resolve(),)
    assert [row.file for row, _path in fresh.local_rows()] == [str(vae.resolve())]
    fresh.delete_model(str(vae.resolve()), confirm="ae.safetensors")
    assert not vae.exists()
    assert fresh.save_folders([]) == () and fresh.local_rows() == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("relative/models", "not an absolute path"),
        ("/no/such/folder", "not a folder"),
        ("/", "whole file system"),
        ("{models}/sd15", "overlaps"),
        ("{workspace}", "overlaps"),
    ],
)
def test_bad_folders_are_refused_and_nothing_is_saved(settings: Settings, given: str, message: str) -> None:
    (settings.models_dir / "sd15").mkdir()
    text = given.format(models=settings.models_dir, workspace=settings.workspace)
    with pytest.raises(InvalidInput, match=message):
        ModelService(settings).save_folders([text])
    assert not (settings.models_dir / FOLDERS_FILE).exists()


def test_a_broken_folders_file_is_reported_when_listing(settings: Settings) -> None:
    (settings.models_dir / FOLDERS_FILE).write_text('{"folders": "not a list", "extra": 1}')
    service = ModelService(settings)  # constructing never fails: the app still starts
    with pytest.raises(ConfigInvalid, match="is invalid"):
        service.list_models()
