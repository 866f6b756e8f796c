"""Hugging Face Space mode: a shared CPU demo with caps, open to the Space's visitors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings, load_settings
from lora_studio.core.sizes import format_size, parse_size
from lora_studio.services.access import resolve_access
from lora_studio.services.datasets import DatasetService
from lora_studio.services.quota import ensure_room, folder_size


def test_space_defaults() -> None:
    settings = load_settings(None, {"SPACE_ID": "someone/lora-studio", "GRADIO_SERVER_NAME": "0.0.0.0"})
    assert settings.space_mode and settings.is_public
    assert settings.max_upload == "200mb"
    assert settings.workspace_limit == 2_000_000_000
    access = resolve_access(settings)
    assert access.auth is None and "Space" in (access.message or "")


def test_limits_can_be_set_and_are_checked() -> None:
    settings = load_settings(None, {"LORA_STUDIO_WORKSPACE_LIMIT": "500mb"})
    assert settings.workspace_limit == 500_000_000 and not settings.space_mode
    with pytest.raises(SystemExit):
        load_settings(None, {"LORA_STUDIO_WORKSPACE_LIMIT": "lots"})


@pytest.mark.parametrize(
    ("text", "size"), [("4gb", 4_000_000_000), ("200 MB", 200_000_000), ("1.5k", 1500), ("7", 7)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_format_size() -> None:
    assert format_size(1_500_000_000) == "1.5 GB"
    assert format_size(12) == "12 B"


def test_imports_over_the_workspace_limit_are_refused(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", workspace_limit=50_000).ensure_workspace()
    service = DatasetService(settings)
    service.create_dataset("demo")
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 60_000)
    with pytest.raises(InvalidInput) as caught:
        service.import_files("demo", [big])
    assert "over its limit of 50.0 kB" in str(caught.value)
    assert folder_size(settings.datasets_dir / "demo") < 1000  # nothing was written
    ensure_room(settings, 10)  # small work still fits
