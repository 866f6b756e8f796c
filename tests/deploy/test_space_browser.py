"""Hugging Face Space mode in a real browser: the app as a Space runs it (``SPACE_ID`` set, CPU only).

The page says it is a Space demo, the Training tab labels its run a dry run and still renders the
TOML and the command, and an upload over the Space's cap is refused with a clear message, in the
page and by the server itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.helpers import pick, wait_text
from tests.fakes.app_server import start_app
from tests.training_run.conftest import SD15_KEYS, make_dataset, make_model

pytestmark = pytest.mark.browser

CAP = "100kb"  # a Space's default cap is 200mb; a small one keeps the over-cap upload cheap


def test_space_mode_banner_dry_run_and_upload_cap(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    make_dataset(workspace / "datasets", "demo", {"2_ohwx": [(96, 96, "ohwx, red"), (128, 96, "ohwx, blue")]})
    model = make_model(workspace / "models" / "sd15", "tiny-sd15.safetensors", SD15_KEYS)
    big = tmp_path / "big.png"
    big.write_bytes(os.urandom(150_000))
    env = {"SPACE_ID": "someone/lora-studio", "LORA_STUDIO_MAX_UPLOAD": CAP}
    env |= {"LORA_STUDIO_SD_SCRIPTS": str(tmp_path / "no-sd-scripts")}  # a Space has no trainer
    server = start_app(workspace, tmp_path, env=env)
    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    try:
        page.goto(server.url)  # a Space's visitors get no login: the Space's visibility governs access
        wait_text(page, "#space-banner", "Hugging Face Space demo")
        banner = page.inner_text("#space-banner")
        assert "training is a dry run" in banner and f"Uploads up to {CAP}" in banner
        assert page.locator("#public-banner").count() == 0

        page.click("#tab-training-button")
        wait_text(page, "#training-gpu", "GPU")
        if shutil.which("nvidia-smi") is None:  # the label follows the hardware the app finds
            assert "dry run" in page.inner_text("#training-gpu")
            assert page.locator("#training-start").is_disabled()
            assert "dry run only" in page.inner_text("#training-start")
        wait_text(page, "#training-trainer", "not installed")
        pick(page, "training-base", "tiny-sd15")
        pick(page, "training-preset", "sd15-cpu-smoke")
        page.click("#training-load-preset")
        pick(page, "training-dataset", "demo")
        page.fill("#training-trigger input, #training-trigger textarea", "ohwx")
        page.click("#training-check")
        wait_text(page, "#training-doctor", "Pre-flight")
        wait_text(page, "#training-train-toml", "max_train_steps")
        assert str(model) in page.inner_text("#training-train-toml")
        assert "num_repeats = 2" in page.inner_text("#training-dataset-toml")
        assert "train_network.py" in page.input_value("#training-command textarea")
        page.screenshot(path=str(output_dir / "space-training.png"), full_page=True)

        page.click("#tab-datasets-button")
        pick(page, "datasets-picker", "demo")
        page.click("#datasets-add-tab-button")
        page.set_input_files("#datasets-upload-files input[type=file]", [str(big)])
        page.get_by_text("exceed the maximum allowed size").wait_for(timeout=30000)
        assert "big.png" in page.inner_text("body")
        page.screenshot(path=str(output_dir / "space-upload-refused.png"), full_page=True)
        # The server refuses it too, whatever the page does.
        refused = page.request.post(
            server.url + "/gradio_api/upload",
            multipart={"files": {"name": "big.png", "mimeType": "image/png", "buffer": big.read_bytes()}},
        )
        assert refused.status == 413
        assert sorted(p.name for p in (workspace / "datasets" / "demo").rglob("*.png")) == [
            "img_0.png",
            "img_1.png",
        ]
    finally:
        server.stop()
