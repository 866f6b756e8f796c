"""Fixtures for the captions tests: real dataset folders on tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.services.captions import CaptionService

# {concept folder: {image file name: caption text | raw bytes | None (no caption file)}}
Layout = Mapping[str, Mapping[str, str | bytes | None]]
MakeDataset = Callable[..., Path]


def write_dataset(root: Path, layout: Layout, *, extension: str = ".txt") -> Path:
    for concept, images in layout.items():
        folder = root / concept
        folder.mkdir(parents=True, exist_ok=True)
        for name, caption in images.items():
            image = folder / name
            image.write_bytes(b"\x89PNG fake")
            if caption is None:
                continue
            target = image.with_suffix(extension)
            target.write_bytes(caption if isinstance(caption, bytes) else caption.encode("utf-8"))
    return root


@pytest.fixture
def make_dataset(settings: Settings) -> MakeDataset:
    def make(name: str, layout: Layout, *, extension: str = ".txt") -> Path:
        return write_dataset(settings.datasets_dir / name, layout, extension=extension)

    return make


@pytest.fixture
def service(settings: Settings) -> CaptionService:
    return CaptionService(settings)
