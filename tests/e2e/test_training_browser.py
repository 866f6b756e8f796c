"""A real browser trains from the Training tab against the stand-in sd-scripts: pick a preset, a dataset
and a base model, see the pre-flight panel and the TOML preview, start, watch the progress and the loss
chart, stop; then a second run to completion shows its samples and LoRA file, which downloads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradio_client import Client

from tests.e2e.helpers import fill_kept, pick, set_number, text_of, toasts, wait_text, watch_toasts
from tests.fakes.app_server import start_app
from tests.training_run.conftest import SD15_KEYS, make_dataset, make_model
from tests.training_run.fake_checkout import build_fake_trainer

pytestmark = pytest.mark.browser

LOSS_POINTS_JS = """(least) => {
  const note = document.querySelector('#training-loss-note');
  const match = note && note.innerText.match(/(\\d+) loss points/);
  return match && Number(match[1]) >= least;
}"""


def test_train_stop_and_download_from_the_tab(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    images = [(96, 96, "ohwx, red"), (128, 96, "ohwx, green"), (96, 128, "ohwx, blue")]
    make_dataset(workspace / "datasets", "demo", {"2_ohwx": images})
    model = make_model(workspace / "models" / "sd15", "tiny-sd15.safetensors", SD15_KEYS)
    trainer = build_fake_trainer(tmp_path / "trainer")
    env = {
        "LORA_STUDIO_SD_SCRIPTS": str(trainer.checkout),
        "LORA_STUDIO_TRAINER_PYTHON": str(trainer.python),
        "FAKE_TRAINER_STEP_SECONDS": "0.25",
    }
    server = start_app(workspace, tmp_path, "--stop-grace", "3", env=env)
    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    try:
        page.goto(server.url)
        page.click("#tab-training-button")
        wait_text(page, "#training-trainer", "sd-scripts found")
        assert "training needs one" in text_of(page, "#training-gpu")

        # The Install button runs the installer as a job whose log streams into its panel. With a
        # configured checkout it only verifies (the stand-in cannot pass the real parser check).
        page.click("#training-install")
        page.click("#training-install-panel")
        wait_text(page, "#training-install-status", "install")
        page.wait_for_function(
            "() => document.querySelector('#training-install-log textarea').value.includes('only verifying')"
        )
        page.wait_for_function(
            "() => /succeeded|failed/.test(document.getElementById('training-install-status').innerText)"
        )
        wait_text(page, "#training-trainer", "sd-scripts found")

        pick(page, "training-base", "tiny-sd15")
        pick(page, "training-preset", "sd15-cpu-smoke")
        page.click("#training-load-preset")  # a preset has no model file: the picked one stays
        pick(page, "training-dataset", "demo")
        page.fill("#training-trigger input, #training-trigger textarea", "ohwx")
        set_number(page, "max train steps", "200")
        assert "tiny-sd15" in page.input_value("#training-base input")

        page.click("#training-check")
        wait_text(page, "#training-doctor", "Pre-flight: ready")
        doctor = text_of(page, "#training-doctor")
        assert (
            "1 concept folder(s): 2_ohwx (3 images)" in doctor and "every caption contains 'ohwx'" in doctor
        )
        assert "max_train_steps = 200" in doctor
        wait_text(page, "#training-train-toml", "max_train_steps = 200")
        assert str(model) in text_of(page, "#training-train-toml")
        assert "num_repeats = 2" in text_of(page, "#training-dataset-toml")
        command = page.input_value("#training-command textarea")
        assert "accelerate.commands.launch" in command and "--config_file" in command

        page.click("#training-configs")  # save this config, export it, import it back
        page.fill("#training-config-name input, #training-config-name textarea", "smoke200")
        page.click("#training-config-save")
        page.wait_for_function("document.querySelector('#training-config-saved input').value === 'smoke200'")
        assert (workspace / "configs" / "smoke200.toml").is_file()
        page.click("#training-config-export")
        exported = page.wait_for_selector("#training-config-file a[href]")
        assert "max_train_steps = 200" in page.request.get(str(exported.get_attribute("href"))).text()
        set_number(page, "max train steps", "7")
        with page.expect_file_chooser() as chooser:
            page.click("#training-config-import")
        chooser.value.set_files(str(workspace / "configs" / "smoke200.toml"))
        page.wait_for_function(
            "() => [...document.querySelectorAll('input[type=number]')].some(i => i.value === '200')"
        )
        assert page.get_by_label("max train steps", exact=True).input_value() == "200"

        page.click("#training-start")
        wait_text(page, "#training-status", "running")
        wait_text(page, "#training-progress", "/200 (")
        page.wait_for_function(LOSS_POINTS_JS, arg=3, timeout=30000)
        page.wait_for_selector("#training-loss canvas, #training-loss svg")
        page.screenshot(path=str(output_dir / "training-running.png"), full_page=True)
        page.reload()  # a fresh page re-attaches and shows the running run's own config, not a preset
        watch_toasts(page)
        page.click("#tab-training-button")
        wait_text(page, "#training-status", "running")
        page.wait_for_function(
            "() => [...document.querySelectorAll('input[type=number]')].some(i => i.value === '200')"
        )
        assert page.get_by_label("max train steps", exact=True).input_value() == "200"
        assert page.input_value("#training-dataset input") == "demo"
        page.click("#training-stop")
        wait_text(page, "#training-status", "stopped")
        assert "steps:" in page.input_value("#training-log textarea")

        set_number(page, "max train steps", "4")
        page.get_by_text("Sample images", exact=True).click()
        fill_kept(page, "label:has-text('sample prompts') textarea", "ohwx, a cat\nohwx, a dog")
        set_number(page, "every n epochs", "1")
        page.get_by_text("Saving", exact=True).click()
        page.get_by_label("save state", exact=True).check()
        # Check first, as a person would: the preview proves the server has the edited form.
        page.click("#training-check")
        wait_text(page, "#training-prompts", "ohwx, a dog")
        wait_text(page, "#training-train-toml", "max_train_steps = 4")
        page.click("#training-start")
        wait_text(page, "#training-status", "succeeded", timeout=60000)
        wait_text(page, "#training-loras", "smoke_lora.safetensors")
        page.wait_for_function(
            "document.querySelectorAll('#training-samples img').length >= 4", timeout=15000
        )
        assert "epoch 2 · prompt 2" in text_of(page, "#training-samples")
        assert page.input_value("#training-lora-pick input") == "smoke_lora.safetensors"

        page.click("#training-lora-download")
        link = page.wait_for_selector("#training-lora-file a[href]")
        response = page.request.get(str(link.get_attribute("href")))
        files = sorted((workspace / "outputs").glob("smoke_lora-*/smoke_lora.safetensors"))
        assert len(files) == 1 and response.ok and response.body() == files[0].read_bytes()
        page.screenshot(path=str(output_dir / "training.png"), full_page=True)

        page.click("#training-resume")  # the run saved its state: continue from it as a new job
        page.wait_for_function("document.querySelector('#training-runs input').value.includes('(resumes ')")
        wait_text(page, "#training-status", "succeeded", timeout=60000)
        assert "resume training from local state" in page.input_value("#training-log textarea")

        client = Client(server.url, verbose=False)
        job_id = re.search(r"(\S+-train-\S+)$", page.input_value("#training-runs input"))
        assert job_id, page.input_value("#training-runs input")
        result = client.predict(job_id.group(1), "smoke_lora.safetensors", api_name="/training_lora_download")
        path = result["value"] if isinstance(result, dict) else result  # an update of the File component
        assert Path(path).read_bytes() == files[0].read_bytes()
    except Exception:
        page.screenshot(path=str(output_dir / "training-failed.png"), full_page=True)
        print("toasts since the reload:", toasts(page))
        raise
    finally:
        server.stop()
