"""Fixtures for the datasets tests: a service over a fresh workspace."""

from __future__ import annotations

import pytest

from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService


@pytest.fixture
def service(settings: Settings) -> DatasetService:
    return DatasetService(settings)
