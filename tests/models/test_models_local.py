"""Local model listing (header cache, hidden files, extra folders), usage, delete, LoRA outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InvalidInput, ModelNotFound, PathEscape
from lora_studio.core.settings import Settings
from lora_studio.core.types import ModelFamily
from lora_studio.services.models import ModelService, local
from tests.models import model_files as mf


def test_lists_models_with_family_and_skips_hidden_and_partial_files(
    settings: Settings, tmp_path: Path
) -> None:
    models = settings.models_dir
    mf.write(models / "sd15" / "base.safetensors", mf.SD15)
    mf.write(models / "flux" / "black-forest-labs--FLUX.1-dev" / "flux1-dev.safetensors", mf.flux(dev=True))
    mf.write(models / "text_encoders" / "t5.safetensors", mf.T5XXL_FP8)
    mf.write(models / "flux" / "x" / ".cache" / "huggingface" / "download" / "hidden.safetensors", mf.SD15)
    (models / "other").mkdir()
    (models / "other" / ".abc.part").write_bytes(b"partial")
    (models / "other" / "old.ckpt").write_bytes(b"pickle")
    (models / "other" / "broken.safetensors").write_bytes(b"\x01\x00")
    extra = mf.write(tmp_path / "comfy" / "vae" / "ae.safetensors", mf.VAE_16CH).parents[1]

    service = ModelService(settings, extra_dirs=[extra])
    found = {model.relative: model for model in service.list_models()}

    assert set(found) == {
        "sd15/base.safetensors",
        "flux/black-forest-labs--FLUX.1-dev/flux1-dev.safetensors",
        "text_encoders/t5.safetensors",
        "other/old.ckpt",
        "other/broken.safetensors",
        "vae/ae.safetensors",
    }
    assert found["sd15/base.safetensors"].family is ModelFamily.SD15
    assert found["text_encoders/t5.safetensors"].kind is ModelKind.T5XXL
    assert found["vae/ae.safetensors"].root == extra
    assert "only read from .safetensors" in (found["other/old.ckpt"].error or "")
    assert "too short" in (found["other/broken.safetensors"].error or "")
    assert [m.relative for m in service.list_models(family=ModelFamily.FLUX)] == [
        "flux/black-forest-labs--FLUX.1-dev/flux1-dev.safetensors"
    ]
    choices = service.model_choices(ModelKind.CHECKPOINT, ModelFamily.SD15)
    assert [path for _label, path in choices] == [str(models / "sd15" / "base.safetensors")]


def test_headers_are_read_again_only_when_a_file_changes(settings: Settings, monkeypatch) -> None:
    path = mf.write(settings.models_dir / "a.safetensors", mf.SD15)
    reads: list[Path] = []
    real = local.inspect_file
    monkeypatch.setattr(local, "inspect_file", lambda p, root=None: reads.append(p) or real(p, root))
    service = ModelService(settings)
    service.list_models()
    service.list_models()
    assert len(reads) == 1
    mf.write(path, mf.SDXL)
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse file systems
    assert service.list_models()[0].family is ModelFamily.SDXL
    assert len(reads) == 2


def test_usage_names_runs_and_loras_that_use_a_model(settings: Settings) -> None:
    base = mf.write(settings.models_dir / "sd15" / "v1-5-pruned-emaonly.safetensors", mf.SD15)
    other = mf.write(settings.models_dir / "sd15" / "other.safetensors", mf.SD15)
    run = settings.runs_dir / "20250101-abc"
    run.mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"spec": {"argv": ["x", "--config", "train.toml"]}}))
    (run / "train.toml").write_text(f'pretrained_model_name_or_path = "{base}"\n')
    mf.write(settings.outputs_dir / "mychar" / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())

    service = ModelService(settings)
    usage = service.usage(service.list_models(kind=ModelKind.CHECKPOINT))
    assert usage[base.absolute()] == ["run 20250101-abc", "LoRA mychar/mychar.safetensors"]
    assert usage[other.absolute()] == []


def test_delete_needs_the_file_name_and_stays_inside_the_models_folders(
    settings: Settings, tmp_path: Path
) -> None:
    path = mf.write(settings.models_dir / "sd15" / "base.safetensors", mf.SD15)
    outside = mf.write(tmp_path / "elsewhere.safetensors", mf.SD15)
    service = ModelService(settings)
    with pytest.raises(InvalidInput, match="does not match"):
        service.delete_model("sd15/base.safetensors", confirm="base")
    assert path.exists()
    with pytest.raises(PathEscape):
        service.delete_model(outside, confirm="elsewhere.safetensors")
    with pytest.raises(PathEscape):
        service.delete_model("../../elsewhere.safetensors", confirm="elsewhere.safetensors")
    with pytest.raises(ModelNotFound):
        service.delete_model("sd15/none.safetensors", confirm="none.safetensors")
    assert service.delete_model("sd15/base.safetensors", confirm="base.safetensors") == path.absolute()
    assert not path.exists() and outside.exists()
    assert service.list_models() == []


def test_lists_trained_loras_with_their_metadata(settings: Settings) -> None:
    mf.write(settings.outputs_dir / "mychar" / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    mf.write(
        settings.outputs_dir / "mychar" / "mychar-000001.safetensors",
        mf.LORA_SD15,
        mf.kohya_metadata(ss_epoch="1"),
    )
    (settings.outputs_dir / "mychar" / "sample.png").write_bytes(b"png")
    service = ModelService(settings)
    loras = service.list_loras()
    assert [lora.relative for lora in loras] == [
        "mychar/mychar-000001.safetensors",
        "mychar/mychar.safetensors",
    ]
    assert (
        loras[1].lora is not None and loras[1].lora.network_dim == 8 and loras[1].family is ModelFamily.SD15
    )
    assert (
        service.lora_file("mychar/mychar.safetensors")
        == (settings.outputs_dir / "mychar" / "mychar.safetensors").absolute()
    )
    with pytest.raises(PathEscape):
        service.lora_file("../models/x.safetensors")
    assert service.inspect("mychar/mychar.safetensors").lora is not None
