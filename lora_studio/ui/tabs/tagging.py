"""The Tagging tab: pick a dataset, its concepts and a WD14 tagger, set the options, start a tagging job,
follow its log, progress and ETA, then read the summary (tagged, skipped with reasons, top tags).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import api as api_endpoint

from lora_studio.core.types import JobKind
from lora_studio.services import Services
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.job_view import STREAM_EVENT, JobView, build_job_view, newest_active, reattach
from lora_studio.ui.tabs.datasets_common import dataset_list_refresh
from lora_studio.ui.tabs.tagging_form import (
    PREFIX,
    OptionsForm,
    default_of,
    layout,
    options_from_form,
    render_section,
)
from lora_studio.ui.tabs.tagging_result import (
    NO_RESULT,
    SKIPPED_HEADERS,
    TAG_HEADERS,
    empty_outputs,
    result_outputs,
)

QUIET = STREAM_EVENT  # background events: no spinner, never queued behind each other
MODEL_INFO = (
    "Or type a Hugging Face repo id (owner/name) or the path of a local folder holding model.onnx and "
    "selected_tags.csv; when filled, it is used instead of the list."
)


@dataclass
class Picker:
    dataset: gr.Dropdown
    refresh: gr.Button
    concepts: gr.CheckboxGroup
    model: gr.Dropdown
    model_path: gr.Textbox


@dataclass
class Result:
    text: gr.Markdown
    skipped: gr.Dataframe
    top_tags: gr.Dataframe


def build(services: Services, demo: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(
        "Tag a dataset's images with a WD14 tagger: one caption file next to each image. The run is a "
        "background job (also listed in the Jobs tab); a page reload picks it up again."
    )
    picker, form = _options_section(services)
    start = gr.Button("Start tagging", variant="primary", elem_id=f"{PREFIX}-start")
    gr.Markdown("### Progress")
    view = build_job_view(services, PREFIX, lines=12)
    gr.Markdown("### Result")
    result = _result_section()
    _wire_picker(services, picker, tab)
    _wire_start(services, picker, form, start, view, result)
    _wire_job_end(services, picker, view, result)
    reattach(demo, services, view, [JobKind.TAG])
    _wire_load(services, demo, picker, result)
    api_endpoint(_summary_api(services), api_name="tagging_summary")


def _options_section(services: Services) -> tuple[Picker, OptionsForm]:
    sections = layout()
    form = OptionsForm({})
    with gr.Row(equal_height=False):
        with gr.Column(variant="panel"):
            gr.Markdown("### What to tag")
            with gr.Row(equal_height=False):
                dataset = gr.Dropdown(
                    label="Dataset", choices=[], value=None, elem_id=f"{PREFIX}-dataset", scale=4
                )
                refresh = gr.Button("Refresh lists", elem_id=f"{PREFIX}-refresh", scale=1, size="sm")
            concepts = gr.CheckboxGroup(
                label="Concepts",
                choices=[],
                info="None ticked: all of them.",
                elem_id=f"{PREFIX}-concepts",
            )
            gr.Markdown("### Tagger")
            model = gr.Dropdown(
                label="Model",
                choices=services.tagging.model_choices(),
                value=default_of("model"),
                elem_id=f"{PREFIX}-model",
            )
            model_path = gr.Textbox(
                label="Other model", info=MODEL_INFO, placeholder="owner/name or /path/to/folder",
                elem_id=f"{PREFIX}-model-path",
            )  # fmt: skip
        for title, names in sections[:1]:
            with gr.Column(variant="panel"):
                gr.Markdown(f"### {title}")
                render_section(form, names)
    with gr.Row(equal_height=False):
        with gr.Column(variant="panel"):
            gr.Markdown(f"### {sections[1][0]}")
            render_section(form, sections[1][1])
        with gr.Column(variant="panel"):
            gr.Markdown(f"### {sections[2][0]}")
            render_section(form, sections[2][1])
            for title, names in sections[3:]:  # the rarely touched ones, folded
                with gr.Accordion(title, open=False, elem_id=f"{PREFIX}-{title.lower().replace(' ', '-')}"):
                    render_section(form, names)
    return Picker(dataset, refresh, concepts, model, model_path), form


def _result_section() -> Result:
    text = gr.Markdown(NO_RESULT, elem_id=f"{PREFIX}-summary")
    with gr.Row(equal_height=False):
        skipped = gr.Dataframe(
            headers=SKIPPED_HEADERS, value=[], interactive=False, wrap=True, max_height=320,
            label="Skipped images", visible=False, elem_id=f"{PREFIX}-skipped", scale=3,
        )  # fmt: skip
        top_tags = gr.Dataframe(
            headers=TAG_HEADERS, value=[], interactive=False, max_height=320,
            label="Top tags", visible=False, elem_id=f"{PREFIX}-top-tags", scale=2,
        )  # fmt: skip
    return Result(text, skipped, top_tags)


# --- values --------------------------------------------------------------------------------------------


def dataset_choices(services: Services, current: str | None) -> Any:
    names = [summary.name for summary in services.datasets.list_datasets()]
    return gr.Dropdown(choices=names, value=current if current in names else None)


def concept_choices(services: Services, dataset: str | None, ticked: list[str] | None) -> Any:
    """The dataset's concept folders, labelled with their image and caption counts; keeps what is ticked."""
    if not dataset:
        return gr.CheckboxGroup(choices=[], value=[])
    concepts = services.datasets.get_dataset(dataset).concepts
    choices = [
        (f"{c.concept} · {c.image_count} images, {c.captioned_count} captioned · {c.folder}", c.folder)
        for c in concepts
    ]
    folders = {c.folder for c in concepts}
    return gr.CheckboxGroup(choices=choices, value=[name for name in ticked or [] if name in folders])


# --- events --------------------------------------------------------------------------------------------


def _wire_picker(services: Services, picker: Picker, tab: gr.Tab) -> None:
    @ui_errors
    def refresh(current: str | None) -> tuple[Any, Any]:
        return dataset_choices(services, current), gr.Dropdown(choices=services.tagging.model_choices())

    @ui_errors
    def pick_dataset(dataset: str | None) -> Any:
        return concept_choices(services, dataset, [])

    picker.refresh.click(
        refresh, picker.dataset, [picker.dataset, picker.model], api_name="tagging_datasets", **QUIET
    )

    @ui_errors
    def opened(current: str | None) -> tuple[Any, Any]:
        return dataset_list_refresh(services, current), gr.Dropdown(choices=services.tagging.model_choices())

    # Opening the tab refreshes the lists too: a dataset made a moment ago in the Datasets tab is there.
    tab.select(opened, picker.dataset, [picker.dataset, picker.model], api_visibility="private", **QUIET)
    picker.dataset.change(pick_dataset, picker.dataset, picker.concepts, api_name="tagging_concepts", **QUIET)


def _wire_start(
    services: Services, picker: Picker, form: OptionsForm, start: gr.Button, view: JobView, result: Result
) -> None:
    @ui_errors
    def start_tagging(
        dataset: str | None, concepts: list[str] | None, model: str | None, model_path: str, *values: Any
    ) -> tuple[Any, ...]:
        if not dataset:
            raise gr.Error("Pick a dataset first (create one in the Datasets tab).")
        chosen = (model_path or "").strip() or model or ""
        options = options_from_form(values, model=chosen, concepts=concepts or [])
        record = services.tagging.start(dataset, options)
        gr.Info(f"Started: {record.title}")
        return (record.id, *empty_outputs("Tagging… the summary appears here when the run ends."))

    inputs = [picker.dataset, picker.concepts, picker.model, picker.model_path, *form.inputs]
    outputs = [view.job_id, result.text, result.skipped, result.top_tags]
    start.click(start_tagging, inputs, outputs, api_name="tagging_start")


def _wire_job_end(services: Services, picker: Picker, view: JobView, result: Result) -> None:
    """When the followed job ends: show its summary once, and refresh the caption counts of the concepts."""
    handled = gr.State("")

    @ui_errors
    def on_status(job_id: str | None, done: str, dataset: str | None, ticked: list[str] | None) -> Any:
        if not job_id or job_id == done:
            return (gr.skip(),) * 5
        record = services.jobs.get(job_id)
        if record.status.is_active:
            return (gr.skip(),) * 5
        outputs = result_outputs(record, services.tagging.summary(job_id), services.jobs.tail(job_id))
        return (*outputs, job_id, concept_choices(services, dataset, ticked))

    view.status.change(
        on_status,
        [view.job_id, handled, picker.dataset, picker.concepts],
        [result.text, result.skipped, result.top_tags, handled, picker.concepts],
        api_visibility="private",
        **STREAM_EVENT,
    )


def _wire_load(services: Services, demo: gr.Blocks, picker: Picker, result: Result) -> None:
    @ui_errors
    def load() -> tuple[Any, ...]:
        last = services.tagging.latest_job()
        dataset = last.spec.meta.get("dataset") if last else None  # show what the last run tagged
        lists = (dataset_choices(services, dataset), gr.Dropdown(choices=services.tagging.model_choices()))
        if last is None or newest_active(services, [JobKind.TAG]):
            return (*lists, *empty_outputs())  # a running job re-attaches through the job view
        outputs = result_outputs(last, services.tagging.summary(last.id), services.jobs.tail(last.id))
        return (*lists, *outputs)

    demo.load(
        load,
        None,
        [picker.dataset, picker.model, result.text, result.skipped, result.top_tags],
        api_visibility="private",
        **QUIET,
    )


def _summary_api(services: Services) -> Any:
    @ui_errors
    def tagging_summary(job_id: str) -> dict[str, Any] | None:
        """The summary of a tagging job (JSON), or null while it runs or when it has none."""
        summary = services.tagging.summary(job_id)
        return summary.model_dump(mode="json") if summary else None

    return tagging_summary
