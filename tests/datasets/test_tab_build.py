"""The Datasets tab builds, names its API endpoints, and explains the server-folder rule on a public app."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
import pandas as pd

from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.ui import build_ui

API_NAMES = {
    "datasets_list",
    "datasets_create",
    "datasets_rename",
    "datasets_delete",
    "datasets_set_repeats",
    "datasets_add_concept",
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


def test_concept_form_and_charts_are_on_the_page(settings: Settings) -> None:
    demo = build_ui(build_services(settings))
    ids = elem_ids(demo)
    assert {"datasets-add-concept-name", "datasets-add-concept-repeats", "datasets-add-concept"} <= ids
    charts = [block for block in demo.blocks.values() if isinstance(block, gr.BarPlot)]
    assert {"datasets-stats-aspect-chart", "datasets-stats-bucket-chart"} <= {
        chart.elem_id for chart in charts
    }


def test_chart_updates_keep_the_service_order() -> None:
    from lora_studio.ui.tabs.datasets_stats import _bars

    update = _bars([["1024x704", 2, 20], ["704x1024", 1, 10]], ["bucket", "images", "with repeats"])
    assert update.sort == ["1024x704", "704x1024"]
    assert update.value["data"] == [["1024x704", 2, 20], ["704x1024", 1, 10]]
    assert update.value["datatypes"]["images"] == "quantitative"  # counts as bar heights, not labels
    assert _bars([], ["bucket", "images", "with repeats"]).value is None


def test_charts_are_drawn_from_the_tables_as_the_browser_returns_them() -> None:
    from lora_studio.ui.tabs.datasets_stats import _rows

    table = gr.Dataframe(headers=["bucket", "images", "with repeats"], value=[])
    shown = table.preprocess(table.postprocess([["1024x704", 1, 10], ["1024x768", 2, 15]]))
    assert _rows(shown) == [["1024x704", 1, 10], ["1024x768", 2, 15]]
    as_text = pd.DataFrame([["3:2", "5"], ["", ""]], columns=["aspect ratio", "images"])
    assert _rows(as_text) == [["3:2", 5]]
    assert _rows(table.preprocess(table.postprocess([]))) == [] and _rows(None) == []
