"""A real browser downloads catalog models from a stand-in Hub, sees them listed, handles a gated model,
saves a token, downloads a trained LoRA, uploads it to a Hub repo and deletes a model file."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.e2e import helpers
from tests.e2e.helpers import text_of
from tests.fakes.app_server import start_app
from tests.fakes.hub_server import HubServer
from tests.models import model_files as mf

wait_text = functools.partial(helpers.wait_text, timeout=60000)  # downloads, on a busy machine

pytestmark = pytest.mark.browser

# Two REAL catalog entries (configs/models.toml), served by the stand-in with tiny bytes.
OPEN_REPO, OPEN_FILE, OPEN_NAME = "madebyollin/sdxl-vae-fp16-fix", "sdxl_vae.safetensors", "SDXL VAE fp16 fix"
GATED_REPO, GATED_FILE, GATED_NAME = (
    "black-forest-labs/FLUX.1-dev",
    "ae.safetensors",
    "autoencoder (ae) from [dev]",
)


def download_from_catalog(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#models-catalog [role=gridcell]", has_text=name).first.click()
    page.wait_for_function(
        f"() => (document.querySelector('#models-catalog-pick input') || {{}}).value?.includes({name!r})"
    )
    page.click("#models-catalog-download")


def test_catalog_download_gated_token_lora_and_delete(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    open_bytes = mf.write(tmp_path / "fixtures" / "vae.safetensors", mf.VAE_4CH).read_bytes()
    gated_bytes = mf.write(tmp_path / "fixtures" / "ae.safetensors", mf.VAE_16CH).read_bytes()
    workspace = tmp_path / "ws"
    lora = mf.write(workspace / "outputs" / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    files = {OPEN_REPO: {OPEN_FILE: open_bytes}, GATED_REPO: {GATED_FILE: gated_bytes}}
    with HubServer(files=files, gated={GATED_REPO}, tokens={"hf_good"}, writers={"hf_good": "tester"}) as hub:
        env = {
            "HF_ENDPOINT": hub.url,
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_TOKEN": None,
        }
        server = start_app(workspace, tmp_path, env=env)
        try:
            page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            page.goto(server.url)
            page.click("#tab-models-button")
            page.wait_for_selector("#models-catalog")
            wait_text(page, "#models-hf-token-status", "No Hugging Face token yet")
            wait_text(page, "#models-loras", "mychar.safetensors", "v1-5-pruned-emaonly.safetensors")

            # An open catalog entry: downloaded by a job, then listed with its kind.
            download_from_catalog(page, OPEN_NAME)
            wait_text(page, "#models-download-outcome", "Downloaded")
            wait_text(page, "#models-local", OPEN_FILE, "vae")
            target = workspace / "models" / "vae" / OPEN_REPO.replace("/", "--") / OPEN_FILE
            assert target.read_bytes() == open_bytes
            wait_text(page, "#models-status", "succeeded")

            # A gated one without a token: the failure says where to accept the licence and what to set.
            download_from_catalog(page, GATED_NAME)
            wait_text(page, "#models-download-outcome", "Download failed", f"{GATED_REPO} is gated")
            outcome = text_of(page, "#models-download-outcome")
            assert f"https://huggingface.co/{GATED_REPO}" in outcome and "accept its licence" in outcome

            # Save a token (checked against the Hub, never shown back), then the gated download works.
            page.fill("#models-hf-token input", "hf_good")
            page.click("#models-hf-token-save")
            wait_text(page, "#models-hf-token-status", "tester")
            assert page.input_value("#models-hf-token input") == ""
            download_from_catalog(page, GATED_NAME)
            wait_text(page, "#models-download-outcome", "Downloaded")
            wait_text(page, "#models-local", GATED_FILE)
            page.screenshot(path=str(output_dir / "models.png"), full_page=True)

            # A trained LoRA: picked from its row, served through the checked export.
            page.locator("#models-loras [role=gridcell]", has_text="mychar.safetensors").first.click()
            page.click("#models-lora-download")
            link = page.wait_for_selector("#models-lora-file a[href]")
            assert link is not None
            response = page.request.get(str(link.get_attribute("href")))
            assert response.ok and response.body() == lora.read_bytes()

            # The same LoRA uploaded to a (new, private) repo of the token's account, as a job.
            page.fill("#models-upload-repo textarea", "tester/mychar")
            page.click("#models-upload")
            wait_text(
                page, "#models-download-outcome", "Uploaded", "tester/mychar/blob/main/mychar.safetensors"
            )
            assert hub.files["tester/mychar"]["mychar.safetensors"] == lora.read_bytes()
            assert hub.private == {"tester/mychar": True} and "README.md" in hub.files["tester/mychar"]

            # An extra folder the person names is listed too.
            comfy = mf.write(tmp_path / "ComfyUI" / "models" / "loras" / "style.safetensors", mf.LORA_SDXL)
            page.fill("#models-folders textarea", str(comfy.parents[1]))
            page.click("#models-folders-save")
            wait_text(page, "#models-local", str(comfy))

            # Delete with the browser's confirmation.
            page.locator("#models-local [role=gridcell]", has_text=OPEN_FILE).first.click()
            page.wait_for_function(
                f"() => (document.querySelector('#models-local-pick input') || {{}}).value?.endsWith({OPEN_FILE!r})"
            )
            page.once("dialog", lambda dialog: dialog.accept())
            page.click("#models-local-delete")
            page.wait_for_function(
                f"() => !document.querySelector('#models-local').innerText.includes({OPEN_FILE!r})",
                timeout=30000,
            )
            assert not target.exists()
            assert GATED_FILE in text_of(page, "#models-local")

            # Through the API too: hostile paths are refused by the service, bad forms explained.
            from gradio_client import Client

            gated_folder = GATED_REPO.replace("/", "--")

            client = Client(server.url, download_files=False, verbose=False)
            for hostile in ("../models/vae/x.safetensors", "/etc/passwd"):
                with pytest.raises(Exception, match="outside"):
                    client.predict(hostile, api_name="/models_lora_file")
            with pytest.raises(Exception, match="owner/name"):
                client.predict("not a repo", "x.safetensors", "unknown", "", api_name="/models_download_hub")
            with pytest.raises(Exception, match="does not match"):
                client.predict(f"vae/{gated_folder}/{GATED_FILE}", "wrong-name", api_name="/models_delete")
            assert (workspace / "models" / "vae" / gated_folder / GATED_FILE).exists()
        finally:
            server.stop()
