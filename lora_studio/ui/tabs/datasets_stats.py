"""The Datasets tab's statistics: size and aspect-ratio distribution, small and uncaptioned images,
and where sd-scripts' bucketing would put each image for a chosen training resolution.

The aspect ratios and the buckets are drawn as bar charts (a skew shows at a glance); their tables
stay below for the exact numbers, and the bucket table for the counts with repeats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from gradio.components import Component

from lora_studio.services import Services
from lora_studio.services.datasets import BucketSettings
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.datasets_rows import (
    BUCKET_HEADERS,
    COUNT_HEADERS,
    IMAGE_HEADERS,
    SMALL_HEADERS,
    Row,
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
    aspect_chart: gr.BarPlot
    bucket_chart: gr.BarPlot
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


def _chart(x: str, label: str, elem: str) -> gr.BarPlot:
    # No value yet: an empty frame would fix the axes' types (counts drawn as labels) for good.
    return gr.BarPlot(
        value=None,
        x=x,
        y="images",
        label=label,
        y_lim=[0, None],  # from zero: otherwise the smallest bar has no height at all
        x_label_angle=-45,
        height=260,
        elem_id=f"datasets-stats-{elem}",
    )


def _bars(rows: list[Row], columns: list[str]) -> gr.BarPlot:
    """A chart update that keeps the service's order of the bars (Vega would sort the labels)."""
    if not rows:  # None, not an empty frame: see _chart
        return gr.BarPlot(value=None)
    return gr.BarPlot(value=pd.DataFrame(rows, columns=columns), sort=[str(row[0]) for row in rows])


def _rows(table: pd.DataFrame | None) -> list[Row]:
    """A label-and-counts table back as rows; the browser may hand the counts over as text."""
    if table is None or table.empty:
        return []
    rows = table.itertuples(index=False)
    # An emptied table may come back as one blank row: no bar for it.
    return [[str(label), *(int(count) for count in counts)] for label, *counts in rows if label]


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
        aspect_chart = _chart(COUNT_HEADERS["aspect"][0], "Aspect ratios", "aspect-chart")
        bucket_chart = _chart(BUCKET_HEADERS[0], "Images per bucket", "bucket-chart")
    with gr.Row():
        resolutions = _table(COUNT_HEADERS["resolution"], "Image sizes", "resolutions")
        aspects = _table(COUNT_HEADERS["aspect"], "Aspect ratios (nearest common ratio)", "aspects")
        buckets = _table(BUCKET_HEADERS, "Bucket preview (as sd-scripts assigns them)", "buckets")
    with gr.Row():
        small = _table(SMALL_HEADERS, "Smaller than the training resolution", "small")
        uncaptioned = _table(IMAGE_HEADERS, "Without caption", "uncaptioned")
    return StatsParts(
        width_box, height_box, min_bucket, max_bucket, steps, no_upscale, compute,
        summary, aspect_chart, bucket_chart, resolutions, aspects, buckets, small, uncaptioned,
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
    def charts(aspects: pd.DataFrame | None, buckets: pd.DataFrame | None) -> tuple[gr.BarPlot, gr.BarPlot]:
        return _bars(_rows(aspects), COUNT_HEADERS["aspect"]), _bars(_rows(buckets), BUCKET_HEADERS)

    @ui_errors
    def opened(name: str | None, *values: Any) -> tuple[Any, ...]:
        return compute(name, *values) if name else tuple(gr.skip() for _ in parts.outputs)

    inputs = [picker, *parts.inputs]
    # The charts are drawn from the tables in a private step: /datasets_stats keeps its outputs.
    drawn: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    tables, plots = [parts.aspects, parts.buckets], [parts.aspect_chart, parts.bucket_chart]
    parts.compute.click(compute, inputs, parts.outputs, api_name="datasets_stats").success(
        charts, tables, plots, **drawn
    )
    # Opening the section shows fresh numbers for the picked dataset.
    tab.select(opened, inputs, parts.outputs, api_visibility="private", show_progress="minimal").success(
        charts, tables, plots, **drawn
    )
