"""What hardware this machine has: GPUs (name, memory) and the preset tier that fits them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

_QUERY = ("nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits")
# Preset names end in their VRAM tier ("sdxl-12gb"); a GPU suits every tier up to its memory.
_TIER = re.compile(r"-(\d+)gb$")


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    memory_mib: int

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / 1024


def parse_nvidia_smi(output: str) -> list[Gpu]:
    """Parse ``nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits``."""
    gpus = []
    for line in output.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
            continue
        gpus.append(Gpu(int(parts[0]), parts[1], int(parts[2])))
    return gpus


@lru_cache(maxsize=1)
def detect_gpus() -> tuple[Gpu, ...]:
    """The NVIDIA GPUs ``nvidia-smi`` reports (none when it is missing or fails); asked once per process."""
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        result = subprocess.run(_QUERY, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(parse_nvidia_smi(result.stdout)) if result.returncode == 0 else ()


def preset_tier(preset_name: str) -> int | None:
    """``"sdxl-12gb"`` → 12; None for presets without a tier."""
    match = _TIER.search(preset_name)
    return int(match.group(1)) if match else None


def suggest_presets(preset_names: list[str], gpus: tuple[Gpu, ...]) -> list[str]:
    """The presets whose VRAM tier fits the smallest GPU, biggest tier first within each family."""
    if not gpus:
        return []
    budget = min(gpu.memory_gb for gpu in gpus) + 0.5  # "24 GB" cards report a little under 24 GiB
    fitting = [name for name in preset_names if (tier := preset_tier(name)) is not None and tier <= budget]
    return sorted(fitting, key=lambda name: (name.split("-")[0], -(preset_tier(name) or 0)))


def hardware_summary() -> str:
    """One line for the page header: the GPUs and the presets that fit them."""
    from lora_studio.config.presets import list_presets  # loads every preset file: only when asked

    gpus = detect_gpus()
    suggested = suggest_presets([info.name for info in list_presets()], gpus)
    text = describe_gpus(gpus)
    return f"{text} · presets that fit: {', '.join(suggested)}" if suggested else text


def describe_gpus(gpus: tuple[Gpu, ...]) -> str:
    if not gpus:
        return "no NVIDIA GPU found (tagging runs on the CPU; training needs a GPU)"
    return ", ".join(f"GPU {gpu.index}: {gpu.name} ({gpu.memory_gb:.0f} GB)" for gpu in gpus)
