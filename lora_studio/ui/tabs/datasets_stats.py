"""The Datasets tab's statistics: size and aspect-ratio distribution, small and uncaptioned images,
and where sd-scripts' bucketing would put each image for a chosen training resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components import Component

from lora_studio.services import Services
from lora_studio.services.datasets import BucketSettings
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.datasets_rows import (
    BUCKET_HEADERS,
    COUNT_HEADERS,
    IMAGE_HEADERS,
    SMALL_HEADERS,
    stats_view,
)

DEFAULTS = BucketSettings()


@dataclass
class StatsParts:
    width: gr.Number
    height: gr.Number
    min_bucket: gr.Number
    max_bucket: gr.Number
    steps: gr.Number
    no_upscale: gr.Checkbox
    compute: gr.Button
    summary: gr.Markdown
    resolutions: gr.Dataframe
    aspects: gr.Dataframe
    buckets: gr.Dataframe
    small: gr.Dataframe
    uncaptioned: gr.Dataframe

    @property
    def inputs(self) -> list[Component]:
        return [self.width, self.height, self.min_bucket, self.max_bucket, self.steps, self.no_upscale]

    @property
    def outputs(self) -> list[Component]:
        return [self.summary, self.resolutions, self.aspects, self.buckets, self.small, self.uncaptioned]


def _number(label: str, value: int, elem: str) -> gr.Number:
    return gr.Number(label=label, value=value, precision=0, minimum=1, elem_id=f"datasets-stats-{elem}")


def _table(headers: list[str], label: str, elem: str) -> gr.Dataframe:
    return gr.Dataframe(
        headers=headers,
        value=[],
        interactive=False,
        max_height=320,
        label=label,
        elem_id=f"datasets-stats-{elem}",
    )


def build_stats() -> StatsParts:
    width, height = DEFAULTS.resolution
    with gr.Row(equal_height=True):
        width_box = _number("Training width", width, "width")
        height_box = _number("Training height", height, "height")
        min_bucket = _number("Smallest bucket side", DEFAULTS.min_bucket_reso, "min-bucket")
        max_bucket = _number("Largest bucket side", DEFAULTS.max_bucket_reso, "max-bucket")
        steps = _number("Bucket step", DEFAULTS.bucket_reso_steps, "steps")
        no_upscale = gr.Checkbox(
            label="Never upscale (bucket_no_upscale)", value=False, elem_id="datasets-stats-no-upscale"
        )
        compute = gr.Button("Compute", variant="primary", elem_id="datasets-stats-compute")
    summary = gr.Markdown("Pick a dataset, then Compute.", elem_id="datasets-stats-summary")
    with gr.Row():
        resolutions = _table(COUNT_HEADERS["resolution"], "Image sizes", "resolutions")
        aspects = _table(COUNT_HEADERS["aspect"], "Aspect ratios (nearest common ratio)", "aspects")
        buckets = _table(BUCKET_HEADERS, "Bucket preview (as sd-scripts assigns them)", "buckets")
    with gr.Row():
        small = _table(SMALL_HEADERS, "Smaller than the training resolution", "small")
        uncaptioned = _table(IMAGE_HEADERS, "Without caption", "uncaptioned")
    return StatsParts(
        width_box, height_box, min_bucket, max_bucket, steps, no_upscale, compute,
        summary, resolutions, aspects, buckets, small, uncaptioned,
    )  # fmt: skip


def _whole(value: float | None, label: str) -> int:
    if value is None:
        raise gr.Error(f"Fill in {label}.")
    return int(value)


def wire_stats(services: Services, picker: gr.Dropdown, parts: StatsParts, tab: gr.Tab) -> None:
    @ui_errors
    def compute(
        name: str | None,
        width: float | None,
        height: float | None,
        min_bucket: float | None,
        max_bucket: float | None,
        steps: float | None,
        no_upscale: bool,
    ) -> tuple[Any, ...]:
        if not name:
            raise gr.Error("Pick a dataset first.")
        buckets = BucketSettings(
            resolution=(_whole(width, "the training width"), _whole(height, "the training height")),
            min_bucket_reso=_whole(min_bucket, "the smallest bucket side"),
            max_bucket_reso=_whole(max_bucket, "the largest bucket side"),
            bucket_reso_steps=_whole(steps, "the bucket step"),
            bucket_no_upscale=bool(no_upscale),
        )
        view = stats_view(services.datasets.stats(name, buckets=buckets))
        return view.summary, view.resolutions, view.aspects, view.buckets, view.small, view.uncaptioned

    @ui_errors
    def opened(name: str | None, *values: Any) -> tuple[Any, ...]:
        return compute(name, *values) if name else tuple(gr.skip() for _ in parts.outputs)

    inputs = [picker, *parts.inputs]
    parts.compute.click(compute, inputs, parts.outputs, api_name="datasets_stats")
    # Opening the section shows fresh numbers for the picked dataset.
    tab.select(opened, inputs, parts.outputs, api_visibility="private", show_progress="minimal")
