"""The Models tab's components: catalog and download forms, token box, local models and LoRA tables.

Only layout lives here; ``lora_studio.ui.tabs.models`` wires the events.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import gradio as gr

from lora_studio.config.catalog import ModelKind
from lora_studio.core.types import ModelFamily
from lora_studio.services import Services
from lora_studio.services.models import CatalogRow, LocalRow, LoraRow

PREFIX = "models"
CATALOG_HEADERS = [field.name for field in fields(CatalogRow)]
LOCAL_HEADERS = [field.name.replace("_", " ") for field in fields(LocalRow)]
LORA_HEADERS = [field.name.replace("_", " ").replace("dim alpha", "dim / alpha") for field in fields(LoraRow)]
KIND_CHOICES = [kind.value for kind in ModelKind]
FAMILY_CHOICES = [("unknown / any", ""), *((family.value, family.value) for family in ModelFamily)]
CATALOG_WIDTHS: list[str | int] = ["14%", "28%", "7%", "9%", "9%", "18%", "15%"]
LOCAL_WIDTHS: list[str | int] = ["38%", "8%", "9%", "9%", "22%", "14%"]
LORA_WIDTHS: list[str | int] = ["17%", "19%", "6%", "7%", "11%", "8%", "7%", "11%", "14%"]
# Passes the path and its bare file name (the service's confirmation) only when the person agrees.
CONFIRM_DELETE_JS = """(path, _name) => {
  if (!path) return [null, null];
  const name = String(path).split(/[\\\\/]/).pop();
  return confirm('Delete ' + name + ' from the disk? This cannot be undone.') ? [path, name] : [null, null];
}"""


@dataclass
class DownloadParts:
    catalog_table: gr.Dataframe
    catalog_pick: gr.Dropdown
    catalog_go: gr.Button
    repo_id: gr.Textbox
    repo_file: gr.Textbox
    hub_kind: gr.Dropdown
    hub_family: gr.Dropdown
    hub_go: gr.Button
    url: gr.Textbox
    url_token: gr.Textbox
    url_name: gr.Textbox
    url_kind: gr.Dropdown
    url_family: gr.Dropdown
    url_go: gr.Button


@dataclass
class FilesParts:
    local_table: gr.Dataframe
    local_pick: gr.Dropdown
    local_refresh: gr.Button
    local_delete: gr.Button
    delete_name: gr.Textbox
    folders: gr.Textbox
    folders_save: gr.Button
    lora_table: gr.Dataframe
    lora_pick: gr.Dropdown
    lora_refresh: gr.Button
    lora_get: gr.Button
    lora_file: gr.File
    upload_repo: gr.Textbox
    upload_path: gr.Textbox
    upload_private: gr.Checkbox
    upload_go: gr.Button


def download_section(services: Services) -> DownloadParts:
    rows = services.models.catalog_rows()
    gr.Markdown("### Catalog")
    catalog_table = gr.Dataframe(
        headers=CATALOG_HEADERS,
        value=[list(astuple(row)) for row in rows],
        datatype=["str", "str", "str", "str", "str", "markdown", "markdown"],
        column_widths=CATALOG_WIDTHS,
        interactive=False,
        wrap=True,
        max_height=380,
        elem_id=f"{PREFIX}-catalog",
        label="Catalog (click a row to pick it)",
    )
    with gr.Row():
        catalog_pick = gr.Dropdown(
            label="Catalog model",
            choices=[(f"{row.name} · {row.size}", row.id) for row in rows],
            value=None,
            elem_id=f"{PREFIX}-catalog-pick",
            scale=4,
        )
        catalog_go = gr.Button("Download", variant="primary", elem_id=f"{PREFIX}-catalog-download", scale=1)
    with gr.Row(equal_height=False):
        with gr.Column(variant="panel"):
            gr.Markdown("**From the Hub:** any file of a Hugging Face repository")
            repo_id = gr.Textbox(
                label="Repository id", placeholder="owner/name", elem_id=f"{PREFIX}-hub-repo"
            )
            repo_file = gr.Textbox(
                label="File in the repository", placeholder="model.safetensors", elem_id=f"{PREFIX}-hub-file"
            )
            hub_kind, hub_family = _kind_and_family("hub")
            hub_go = gr.Button("Download from the Hub", elem_id=f"{PREFIX}-hub-download")
        with gr.Column(variant="panel"):
            gr.Markdown("**From a URL:** a direct link, e.g. a Civitai download link")
            url = gr.Textbox(label="Download link", placeholder="https://…", elem_id=f"{PREFIX}-url")
            url_token = gr.Textbox(
                label="Token for this link (optional; e.g. a Civitai API key, never stored)",
                type="password",
                elem_id=f"{PREFIX}-url-token",
            )
            url_name = gr.Textbox(
                label="Save as (optional)", placeholder="the server's file name", elem_id=f"{PREFIX}-url-name"
            )
            url_kind, url_family = _kind_and_family("url")
            url_go = gr.Button("Download from the URL", elem_id=f"{PREFIX}-url-download")
    return DownloadParts(
        catalog_table, catalog_pick, catalog_go, repo_id, repo_file, hub_kind, hub_family, hub_go,
        url, url_token, url_name, url_kind, url_family, url_go,
    )  # fmt: skip


def _kind_and_family(form: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    with gr.Row():
        kind = gr.Dropdown(
            label="Kind (picks the folder)",
            choices=KIND_CHOICES,
            value="unknown",
            elem_id=f"{PREFIX}-{form}-kind",
        )
        family = gr.Dropdown(
            label="Family", choices=FAMILY_CHOICES, value="", elem_id=f"{PREFIX}-{form}-family"
        )
    return kind, family


def token_section() -> tuple[gr.Textbox, gr.Button, gr.Markdown]:
    gr.Markdown("### Hugging Face token")
    with gr.Row():
        box = gr.Textbox(
            label="Token for gated models (checked with the Hub, kept in huggingface_hub's own store)",
            type="password",
            placeholder="hf_…",
            elem_id=f"{PREFIX}-hf-token",
            scale=4,
        )
        save = gr.Button("Save token", elem_id=f"{PREFIX}-hf-token-save", scale=1)
    status = gr.Markdown(elem_id=f"{PREFIX}-hf-token-status")
    return box, save, status


def files_section() -> FilesParts:
    gr.Markdown("### Local models")
    local_table = gr.Dataframe(
        headers=LOCAL_HEADERS,
        value=[],
        interactive=False,
        wrap=True,
        max_height=400,
        elem_id=f"{PREFIX}-local",
    )
    with gr.Row():
        local_pick = gr.Dropdown(
            label="Model file (click a row to pick it)",
            choices=[],
            value=None,
            allow_custom_value=True,
            elem_id=f"{PREFIX}-local-pick",
            scale=4,
        )
        local_refresh = gr.Button("Refresh", elem_id=f"{PREFIX}-local-refresh", scale=1)
        local_delete = gr.Button("Delete", variant="stop", elem_id=f"{PREFIX}-local-delete", scale=1)
    delete_name = gr.Textbox(visible=False, elem_id=f"{PREFIX}-local-confirm")
    with gr.Row():
        folders = gr.Textbox(
            label="Extra model folders to list (absolute paths, one per line; e.g. a ComfyUI models folder)",
            lines=2,
            elem_id=f"{PREFIX}-folders",
            scale=4,
        )
        folders_save = gr.Button("Save folders", elem_id=f"{PREFIX}-folders-save", scale=1)
    gr.Markdown("### Trained LoRAs")
    lora_table = gr.Dataframe(
        headers=LORA_HEADERS,
        value=[],
        interactive=False,
        wrap=True,
        max_height=400,
        elem_id=f"{PREFIX}-loras",
    )
    with gr.Row():
        lora_pick = gr.Dropdown(
            label="LoRA file (click a row to pick it)",
            choices=[],
            value=None,
            allow_custom_value=True,
            elem_id=f"{PREFIX}-lora-pick",
            scale=4,
        )
        lora_refresh = gr.Button("Refresh", elem_id=f"{PREFIX}-loras-refresh", scale=1)
        lora_get = gr.Button("Download", elem_id=f"{PREFIX}-lora-download", scale=1)
    lora_file = gr.File(label="LoRA file", visible=False, interactive=False, elem_id=f"{PREFIX}-lora-file")
    with gr.Row():  # the token is the saved Hugging Face token (it needs the Write role)
        upload_repo = gr.Textbox(
            label="Upload the picked LoRA to a Hub repository you own (owner/name; created if missing)",
            placeholder="your-name/my-lora",
            elem_id=f"{PREFIX}-upload-repo",
            scale=3,
        )
        upload_path = gr.Textbox(
            label="Path in the repository (default: the file name)", elem_id=f"{PREFIX}-upload-path", scale=2
        )
        upload_private = gr.Checkbox(label="Private", value=True, elem_id=f"{PREFIX}-upload-private", scale=1)
        upload_go = gr.Button("Upload to the Hub", elem_id=f"{PREFIX}-upload", scale=1)
    return FilesParts(
        local_table, local_pick, local_refresh, local_delete, delete_name, folders, folders_save,
        lora_table, lora_pick, lora_refresh, lora_get, lora_file,
        upload_repo, upload_path, upload_private, upload_go,
    )  # fmt: skip
