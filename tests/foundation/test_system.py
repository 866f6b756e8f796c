"""GPU detection from nvidia-smi output and the preset tiers it suggests."""

from __future__ import annotations

from lora_studio.services.system import Gpu, describe_gpus, parse_nvidia_smi, suggest_presets

PRESETS = ["sd15-8gb", "sdxl-12gb", "sdxl-24gb", "sd35-16gb", "flux-12gb", "flux-24gb", "sd15-cpu-smoke"]


def test_parse_nvidia_smi() -> None:
    output = "0, NVIDIA GeForce RTX 4090, 24564\n1, NVIDIA GeForce RTX 3060, 12288\ngarbage line\n"
    assert parse_nvidia_smi(output) == [
        Gpu(0, "NVIDIA GeForce RTX 4090", 24564),
        Gpu(1, "NVIDIA GeForce RTX 3060", 12288),
    ]


def test_suggestions_fit_the_smallest_gpu() -> None:
    assert suggest_presets(PRESETS, (Gpu(0, "RTX 4090", 24564),)) == [
        "flux-24gb",
        "flux-12gb",
        "sd15-8gb",
        "sd35-16gb",
        "sdxl-24gb",
        "sdxl-12gb",
    ]
    assert suggest_presets(PRESETS, (Gpu(0, "RTX 3060", 12288),)) == ["flux-12gb", "sd15-8gb", "sdxl-12gb"]
    assert suggest_presets(PRESETS, ()) == []


def test_description() -> None:
    assert "no NVIDIA GPU" in describe_gpus(())
    assert describe_gpus((Gpu(0, "H100", 81559),)) == "GPU 0: H100 (80 GB)"
