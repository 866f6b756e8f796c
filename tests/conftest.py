"""Shared fixtures: a workspace on tmp_path, services over it, and helpers to run the real app."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lora_studio.core.settings import Settings  # noqa: E402
from lora_studio.services import Services, build_services  # noqa: E402

# A test run started in the background has SIGINT ignored, and every child would inherit that; tests
# stop children with SIGINT as the job engine's Stop does. A Python handler is reset to the default at
# exec, so children get a normal SIGINT again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Tests never talk to the real Hub, and never burn time on gradio's analytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "workspace", stop_grace_s=2.0).ensure_workspace()


@pytest.fixture
def services(settings: Settings) -> Services:
    return build_services(settings)


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """A headless Debian chromium driven by Playwright (installed by ./test.sh)."""
    from playwright.sync_api import sync_playwright

    from tests.fakes.app_server import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: run ./test.sh, which installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test leaves screenshots for people to look at: test-output/<test name>/."""
    folder = ROOT / "test-output" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
