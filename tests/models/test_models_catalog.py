"""The model catalog in configs/models.toml: loads, and covers what the issue asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.config.catalog import Catalog, ModelKind, load_catalog
from lora_studio.core.errors import ConfigInvalid, ModelNotFound
from lora_studio.core.types import ModelFamily


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_catalog_covers_every_family_and_its_companion_files(catalog: Catalog) -> None:
    kinds = {(entry.family, entry.kind) for entry in catalog.models}
    for needed in [
        (ModelFamily.SD15, ModelKind.CHECKPOINT),
        (ModelFamily.SDXL, ModelKind.CHECKPOINT),
        (ModelFamily.SD3, ModelKind.CHECKPOINT),
        (ModelFamily.SD3, ModelKind.CLIP_L),
        (ModelFamily.SD3, ModelKind.CLIP_G),
        (ModelFamily.SD3, ModelKind.T5XXL),
        (ModelFamily.FLUX, ModelKind.CHECKPOINT),
        (ModelFamily.FLUX, ModelKind.CLIP_L),
        (ModelFamily.FLUX, ModelKind.T5XXL),
        (ModelFamily.FLUX, ModelKind.VAE),
        (ModelFamily.SDXL, ModelKind.VAE),
    ]:
        assert needed in kinds
    names = " ".join(entry.name for entry in catalog.models)
    assert "Illustrious" in names and "NoobAI" in names
    flux_t5 = {entry.filename for entry in catalog.filter(family=ModelFamily.FLUX, kind=ModelKind.T5XXL)}
    assert flux_t5 == {"t5xxl_fp16.safetensors", "t5xxl_fp8_e4m3fn.safetensors"}


def test_gated_entries_point_to_their_licence_page(catalog: Catalog) -> None:
    gated = [entry for entry in catalog.models if entry.gated]
    assert {entry.repo_id for entry in gated} >= {
        "black-forest-labs/FLUX.1-dev",
        "stabilityai/stable-diffusion-3.5-large",
    }
    for entry in gated:
        assert entry.licence_url and entry.licence_url.startswith("https://huggingface.co/")
    assert (
        catalog.get("sd15").page_url == "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5"
    )


def test_every_entry_has_a_size_for_the_disk_check(catalog: Catalog) -> None:
    assert all(entry.size_bytes for entry in catalog.models)


def test_unknown_id_lists_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(ModelNotFound, match="Catalog ids: sd15"):
        catalog.get("nope")


@pytest.mark.parametrize(
    "text",
    [
        'models = [{id = "x", name = "x", kind = "checkpoint", repo_id = "a/b", filename = "../x", licence = "m"}]',
        'models = [{id = "x", name = "x", kind = "checkpoint", repo_id = "a/b", filename = "x", licence = "m", typo = 1}]',
        "schema_version = 99",
        "this is not toml =",
    ],
)
def test_a_broken_catalog_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(ConfigInvalid):
        load_catalog(path)
