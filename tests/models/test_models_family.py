"""Header parsing and family detection on small files with the real key names and shapes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InvalidModelFile
from lora_studio.core.types import ModelFamily
from lora_studio.services.models.family import detect, read_lora_metadata
from lora_studio.services.models.safetensors_header import build_safetensors, read_header
from tests.models import model_files as mf


@pytest.mark.parametrize(
    ("tensors", "kind", "family", "variant"),
    [
        (mf.SD15, ModelKind.CHECKPOINT, ModelFamily.SD15, "sd1"),
        (mf.SD2, ModelKind.CHECKPOINT, ModelFamily.SD15, "sd2"),
        (mf.SDXL, ModelKind.CHECKPOINT, ModelFamily.SDXL, "sdxl"),
        (mf.sd3(24, 1536), ModelKind.CHECKPOINT, ModelFamily.SD3, "sd3-medium"),
        (mf.sd3(38, 2432), ModelKind.CHECKPOINT, ModelFamily.SD3, "sd3-large"),
        (mf.flux(dev=True), ModelKind.CHECKPOINT, ModelFamily.FLUX, "flux-dev"),
        (mf.flux(dev=False), ModelKind.CHECKPOINT, ModelFamily.FLUX, "flux-schnell"),
        (mf.FLUX_DIFFUSERS_DEV, ModelKind.CHECKPOINT, ModelFamily.FLUX, "flux-dev, diffusers layout"),
        (mf.VAE_4CH, ModelKind.VAE, None, "4-channel: SD1.5 or SDXL"),
        (mf.VAE_16CH, ModelKind.VAE, None, "16-channel: FLUX ae or SD3"),
        (mf.CLIP_L, ModelKind.CLIP_L, None, "CLIP ViT-L/14 text encoder"),
        (mf.CLIP_G, ModelKind.CLIP_G, None, "OpenCLIP ViT-bigG/14 text encoder"),
        (mf.T5XXL_FP8, ModelKind.T5XXL, None, "T5-XXL encoder, F8_E4M3"),
        (mf.LORA_SD15, ModelKind.LORA, ModelFamily.SD15, None),
        (mf.LORA_SDXL, ModelKind.LORA, ModelFamily.SDXL, None),
        (mf.LORA_FLUX, ModelKind.LORA, ModelFamily.FLUX, None),
        (mf.LORA_SD3, ModelKind.LORA, ModelFamily.SD3, None),
        ({"some.weight": ("F32", (3, 3))}, ModelKind.UNKNOWN, None, None),
    ],
)
def test_detects_family_and_kind_from_the_header(tmp_path: Path, tensors, kind, family, variant) -> None:
    path = mf.write(tmp_path / "model.safetensors", tensors)
    detection = detect(read_header(path))
    assert (detection.kind, detection.family, detection.variant) == (kind, family, variant)


def test_real_shapes_cost_no_disk_and_are_read_without_loading(tmp_path: Path) -> None:
    path = mf.write(tmp_path / "t5.safetensors", mf.T5XXL_FP8)
    header = read_header(path)
    assert path.stat().st_size > 100_000_000  # the declared size of a real T5 embedding + one layer
    assert header.tensors["shared.weight"].shape == (32128, 4096)
    assert header.main_dtype() == "F8_E4M3"
    assert header.parameter_count == 32128 * 4096 + 4096 * 4096 + 4096


def test_sd3_checkpoint_reports_its_bundled_text_encoders(tmp_path: Path) -> None:
    path = mf.write(tmp_path / "sd3.safetensors", mf.sd3(24, 64, text_encoders=True))
    assert detect(read_header(path)).details == ("includes text encoders: clip_g, clip_l",)


def test_lora_family_comes_from_metadata_first(tmp_path: Path) -> None:
    # SDXL-looking keys, but the metadata says FLUX: the metadata wins.
    path = mf.write(tmp_path / "l.safetensors", mf.LORA_SDXL, {"ss_base_model_version": "flux1"})
    detection = detect(read_header(path))
    assert (detection.kind, detection.family, detection.variant) == (
        ModelKind.LORA,
        ModelFamily.FLUX,
        "flux1",
    )


def test_reads_kohya_lora_metadata(tmp_path: Path) -> None:
    path = mf.write(tmp_path / "l.safetensors", mf.LORA_SD15, mf.kohya_metadata(ss_network_alpha="None"))
    meta = read_lora_metadata(read_header(path))
    assert meta.base_model == "v1-5-pruned-emaonly.safetensors"
    assert (meta.network_module, meta.network_dim, meta.network_alpha) == ("networks.lora", 8, None)
    assert (meta.steps, meta.epoch, meta.num_epochs, meta.output_name) == (120, 3, 3, "mychar")
    assert meta.top_tags(2) == [("1girl", 13), ("mychar", 12)]  # summed over the two subsets


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"abc", "too short"),
        (struct.pack("<Q", 10**12) + b"{}", "not a safetensors file"),
        (struct.pack("<Q", 40) + b"{}", "not a safetensors file"),  # claims more than the file holds
        (struct.pack("<Q", 8) + b"not json", "not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (struct.pack("<Q", 16) + b'{"a": {"x": 1}} ', "no dtype/shape"),
        (struct.pack("<Q", 34) + b'{"a":{"dtype":"F16","shape":[-1]}}', "invalid shape"),
    ],
)
def test_broken_headers_are_refused_with_a_reason(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(InvalidModelFile, match=message):
        read_header(path)


def test_header_size_limit_is_enforced(tmp_path: Path) -> None:
    path = tmp_path / "big-header.safetensors"
    path.write_bytes(build_safetensors({"a": ("F16", (4,))}, {"note": "x" * 5000}))
    with pytest.raises(InvalidModelFile):
        read_header(path, max_header_bytes=1000)
    assert read_header(path).metadata["note"] == "x" * 5000
