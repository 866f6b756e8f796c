"""Fixtures for the tagging tests: tiny ONNX taggers and datasets of solid-colour images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.settings import Settings
from tests.tagging.tiny_tagger import build_tiny_tagger

RED, WHITE, BLACK = (255, 0, 0), (255, 255, 255), (0, 0, 0)
YELLOW, CYAN = (255, 255, 0), (0, 255, 255)
COLOURS = {"red": RED, "white": WHITE, "black": BLACK, "yellow": YELLOW, "cyan": CYAN}

# What the tiny tagger writes at the defaults (general 0.35, character 0.85, spaces, by score).
DEFAULT_CAPTIONS = {
    "red": "red theme, >_<, red hero (series)",
    "white": "white background, >_<",
    "black": "dark, >_<",
    "yellow": "^_^, >_<",
    "cyan": ">_<, hatsune miku (vocaloid)",
}

MakeDataset = Callable[..., Path]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dynamic batch, v3 names."""
    return build_tiny_tagger(tmp_path_factory.mktemp("models") / "tiny-v3")


@pytest.fixture(scope="session")
def fixed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Batch fixed to 1, v2 names."""
    return build_tiny_tagger(tmp_path_factory.mktemp("models") / "tiny-v2", fixed_batch=True)


@pytest.fixture
def make_dataset(settings: Settings) -> MakeDataset:
    """``make_dataset("name", {"10_a": {"red.png": image_or_bytes}})`` → the dataset folder."""

    def make(name: str = "ds", concepts: dict[str, dict[str, Image.Image | bytes]] | None = None) -> Path:
        root = settings.datasets_dir / name
        if concepts is None:
            concepts = {"10_a": {f"{n}.png": Image.new("RGB", (64, 64), c) for n, c in COLOURS.items()}}
        for folder, files in concepts.items():
            (root / folder).mkdir(parents=True, exist_ok=True)
            for filename, content in files.items():
                if isinstance(content, bytes):
                    (root / folder / filename).write_bytes(content)
                else:
                    content.save(root / folder / filename)
        return root

    return make


def read_captions(folder: Path, extension: str = ".txt") -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8").rstrip("\n") for p in sorted(folder.glob(f"*{extension}"))}
