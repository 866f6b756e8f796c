"""Shared fixtures: a workspace on tmp_path, services over it, and helpers to run the real app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lora_studio.core.settings import Settings  # noqa: E402
from lora_studio.services import Services, build_services  # noqa: E402

# Tests never talk to the real Hub, and never burn time on gradio's analytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "workspace", stop_grace_s=2.0).ensure_workspace()


@pytest.fixture
def services(settings: Settings) -> Services:
    return build_services(settings)
