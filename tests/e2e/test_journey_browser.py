"""The whole journey in one real browser on a fresh workspace: create a dataset, upload images, tag
them while the log streams, edit a caption, configure and start training (the stand-in sd-scripts),
watch it live, reload mid-run and see it continue, then download the LoRA. Screenshots of every tab
land in the test's output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.helpers import pick, set_number, wait_text
from tests.fakes.app_server import start_app
from tests.tagging.tiny_tagger import build_tiny_tagger
from tests.training_run.conftest import SD15_KEYS, make_model
from tests.training_run.fake_checkout import build_fake_trainer

pytestmark = pytest.mark.browser

COLOURS = [(255, 0, 0), (255, 255, 255), (0, 0, 0), (255, 255, 0), (0, 255, 255), (20, 120, 220)]
# Samples the tagging log length from the moment Start is clicked: it must grow in several steps.
RECORD_LOG_JS = """() => {
  window.__lengths = [];
  window.__timer = setInterval(() => {
    const t = document.querySelector('#tagging-log textarea');
    const n = t ? t.value.length : 0;
    if (window.__lengths[window.__lengths.length - 1] !== n) window.__lengths.push(n);
  }, 20);
}"""


def fill(page, elem_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#{elem_id} input, #{elem_id} textarea", text)


def make_uploads(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for index, colour in enumerate(COLOURS * 4):
        path = folder / f"photo{index:02d}.png"
        image = Image.new("RGB", (320 + index, 320), colour)
        image.putpixel((index, index), (index * 9 % 256, 7, 7))  # distinct bytes: no duplicates
        image.save(path)
        paths.append(path)
    return paths


def test_the_whole_journey(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    uploads = make_uploads(tmp_path / "photos")
    tagger = build_tiny_tagger(tmp_path / "tiny-tagger")
    model = make_model(workspace / "models" / "sd15", "tiny-sd15.safetensors", SD15_KEYS)
    trainer = build_fake_trainer(tmp_path / "trainer")
    env = {
        "LORA_STUDIO_SD_SCRIPTS": str(trainer.checkout),
        "LORA_STUDIO_TRAINER_PYTHON": str(trainer.python),
        "FAKE_TRAINER_STEP_SECONDS": "0.1",
    }
    server = start_app(workspace, tmp_path, "--stop-grace", "3", env=env)
    page = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(server.url)

        # 1. A dataset, and images uploaded through the page.
        page.click("#tab-datasets-button")
        fill(page, "datasets-new-name", "journey")
        fill(page, "datasets-new-concept", "hero")
        page.click("#datasets-create")
        wait_text(page, "#datasets-status", "Created dataset journey")
        page.click("#datasets-add-tab-button")
        page.set_input_files("#datasets-upload-files input[type=file]", [str(path) for path in uploads])
        wait_text(page, "#datasets-upload-files", "photo23")
        page.click("#datasets-upload")
        wait_text(page, "#datasets-upload-summary", f"{len(uploads)} accepted")
        page.click("#datasets-gallery-tab-button")
        page.wait_for_function("document.querySelectorAll('#datasets-gallery img').length >= 12")
        page.screenshot(path=str(output_dir / "1-datasets.png"), full_page=True)
        concept = next((workspace / "datasets" / "journey").glob("*_hero"))

        # 2. Tagging, its log streaming live.
        page.click("#tab-tagging-button")
        # Opening the tab refreshed its lists: the dataset made a moment ago is there, no Refresh needed.
        pick(page, "tagging-dataset", "journey")
        fill(page, "tagging-model-path", str(tagger))
        fill(page, "tagging-trigger-words", "ohwx")
        page.evaluate(RECORD_LOG_JS)
        page.click("#tagging-start")
        wait_text(page, "#tagging-summary", f"{len(uploads)} tagged", timeout=90000)
        page.evaluate("clearInterval(window.__timer)")
        assert len(page.evaluate("window.__lengths")) >= 3  # the log arrived in several updates
        assert len(list(concept.glob("*.txt"))) == len(uploads)
        page.screenshot(path=str(output_dir / "2-tagging.png"), full_page=True)

        # 3. Edit one caption by hand.
        page.click("#tab-captions-button")
        wait_text(page, "#captions-position", "photo00.png")
        fill(page, "captions-text", "ohwx, hero, red background, hand edited")
        page.click("#captions-save")
        page.wait_for_function(
            "document.querySelector('#captions-freq') && "
            "document.querySelector('#captions-freq').innerText.includes('hand edited')"
        )
        assert (concept / "photo00.txt").read_text(encoding="utf-8").strip().endswith("hand edited")
        page.screenshot(path=str(output_dir / "3-captions.png"), full_page=True)

        # 4. Configure training, check it, start it.
        page.click("#tab-training-button")
        wait_text(page, "#training-trainer", "sd-scripts found")
        pick(page, "training-base", "tiny-sd15")
        pick(page, "training-preset", "sd15-cpu-smoke")
        page.click("#training-load-preset")
        pick(page, "training-dataset", "journey")
        fill(page, "training-trigger", "ohwx")
        set_number(page, "max train steps", "300")
        page.click("#training-check")
        wait_text(page, "#training-doctor", "Pre-flight: ready")
        wait_text(page, "#training-train-toml", "max_train_steps = 300")
        page.click("#training-start")
        wait_text(page, "#training-status", "running")
        wait_text(page, "#training-progress", "/300 (")
        page.screenshot(path=str(output_dir / "4-training-running.png"), full_page=True)

        # 5. Reload mid-run: the page re-attaches and the run goes on.
        before = page.inner_text("#training-progress")
        page.reload()
        page.click("#tab-training-button")
        wait_text(page, "#training-status", "running")
        page.wait_for_function(
            "(before) => { const e = document.querySelector('#training-progress');"
            " return !!e && e.innerText.includes('/300') && e.innerText !== before; }",
            arg=before,
        )
        assert page.get_by_label("max train steps", exact=True).input_value() == "300"  # its own config
        wait_text(page, "#training-status", "succeeded", timeout=90000)

        # 6. Download the LoRA.
        wait_text(page, "#training-loras", ".safetensors")
        page.click("#training-lora-download")
        link = page.wait_for_selector("#training-lora-file a[href]")
        response = page.request.get(str(link.get_attribute("href")))
        files = sorted((workspace / "outputs").glob("*/*.safetensors"))
        assert files and response.ok and response.body() == files[-1].read_bytes()
        assert response.body()[8:].lstrip().startswith(b"{")  # a safetensors header
        page.screenshot(path=str(output_dir / "5-training-done.png"), full_page=True)

        for tab in ("models", "jobs"):
            page.click(f"#tab-{tab}-button")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(output_dir / f"6-{tab}.png"), full_page=True)
        assert "succeeded" in page.inner_text("#jobs-table")
        assert model.exists()
    except Exception:
        page.screenshot(path=str(output_dir / "journey-failed.png"), full_page=True)
        raise
    finally:
        server.stop()
