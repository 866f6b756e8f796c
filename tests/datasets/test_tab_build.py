"""The Datasets tab builds, names its API endpoints, and explains the server-folder rule on a public app."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr

from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.ui import build_ui

API_NAMES = {
    "datasets_list",
    "datasets_create",
    "datasets_rename",
    "datasets_delete",
    "datasets_set_repeats",
    "datasets_upload",
    "datasets_import_folder",
    "datasets_gallery",
    "datasets_delete_images",
    "datasets_stats",
}


def elem_ids(demo: gr.Blocks) -> set[str]:
    return {block.elem_id for block in demo.blocks.values() if getattr(block, "elem_id", None)}


def test_api_names_and_private_app(settings: Settings) -> None:
    demo = build_ui(build_services(settings))
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    assert names >= API_NAMES
    assert "datasets-folder-note" not in elem_ids(demo)


def test_public_app_says_why_server_folders_are_limited(settings: Settings) -> None:
    demo = build_ui(build_services(replace(settings, share=True)))
    note = next(block for block in demo.blocks.values() if block.elem_id == "datasets-folder-note")
    assert isinstance(note, gr.Markdown) and "inside the workspace" in str(note.value)
