"""The Tagging tab's helpers: the form derived from ``TaggingOptions`` (every option once, with the model's
defaults, values going back through the model) and the text shown when a run ends."""

from __future__ import annotations

import gradio as gr
import pytest

from lora_studio.config.tagging import ExistingCaption, TaggingOptions
from lora_studio.core.errors import ConfigInvalid
from lora_studio.ui.tabs import tagging_form
from lora_studio.ui.tabs.tagging_form import OptionsForm, layout, option_fields, options_from_form


def _form() -> OptionsForm:
    form = OptionsForm({})
    with gr.Blocks():
        for _, names in layout():
            tagging_form.render_section(form, names)
    return form


def test_every_option_has_one_control():
    placed = [name for _, names in layout() for name in names]
    assert sorted(placed) == sorted(option_fields())
    assert len(placed) == len(set(placed))
    assert set(option_fields()) | set(tagging_form.SPECIAL_FIELDS) == set(TaggingOptions.model_fields)


def test_an_unplaced_option_still_gets_a_control(monkeypatch):
    monkeypatch.setattr(tagging_form, "SECTIONS", (("Thresholds", ("general_threshold",)),))
    sections = dict(layout())
    assert sections["Thresholds"] == ["general_threshold"]
    assert "workers" in sections[tagging_form.MORE_OPTIONS]


def test_controls_start_at_the_models_defaults_and_round_trip():
    form = _form()
    threshold = form.controls["general_threshold"]
    assert isinstance(threshold, gr.Slider) and (threshold.minimum, threshold.maximum) == (0.0, 1.0)
    assert isinstance(form.controls["existing"], gr.Radio)
    assert isinstance(form.controls["rating"], gr.Checkbox)
    assert isinstance(form.controls["batch_size"], gr.Number)
    values = [control.value for control in form.inputs]
    options = options_from_form(values, model="wd-vit-tagger-v3", concepts=[])
    assert options == TaggingOptions()


def test_form_values_become_options():
    values = dict(zip(option_fields(), [c.value for c in _form().inputs], strict=True))
    values |= {
        "general_threshold": 0.5,
        "rating": True,
        "blacklist": "solo, 1girl ,",
        "trigger_words": "mychar",
        "existing": "merge",
        "batch_size": 8.0,
        "caption_extension": "caption",
    }
    options = options_from_form(list(values.values()), model=" /models/x ", concepts=["10_a"])
    assert options.model == "/models/x" and options.concepts == ("10_a",)
    assert options.general_threshold == 0.5 and options.rating is True
    assert options.blacklist == ("solo", "1girl") and options.trigger_words == ("mychar",)
    assert options.existing is ExistingCaption.MERGE and options.batch_size == 8
    assert options.caption_extension == ".caption"


def test_bad_values_are_named_by_their_label():
    values = dict(zip(option_fields(), [c.value for c in _form().inputs], strict=True))
    values["caption_extension"] = ".png"
    with pytest.raises(ConfigInvalid, match=r"Caption extension: .*image extension"):
        options_from_form(list(values.values()), model="m", concepts=[])
    with pytest.raises(ConfigInvalid, match="Expected"):
        options_from_form([], model="m", concepts=[])


def test_result_text_for_failed_and_stopped_runs():
    from lora_studio.core.types import JobKind, JobStatus
    from lora_studio.jobs.model import JobRecord, JobSpec
    from lora_studio.services.tagging_summary import TaggingSummary
    from lora_studio.ui.tabs.tagging_result import result_markdown, result_outputs

    job = JobSpec(kind=JobKind.TAG, title="Tag ds with m", argv=("x",))
    failed = JobRecord(id="j1", spec=job, created_at=0.0, status=JobStatus.FAILED, reason="exit code 2")
    text = result_markdown(failed, None, ["loading", "ERROR: No model named 'm'. Use one of a, b."])
    assert "No summary: No model named 'm'. Use one of a, b. The log above" in text
    text = result_markdown(failed, None, ["Traceback (most recent call last):", "MemoryError: boom"])
    assert "No summary: MemoryError: boom." in text
    assert "No summary: exit code 2" in result_markdown(failed, None, [])
    summary = TaggingSummary(
        model="m",
        provider="CPU",
        images=9,
        tagged=3,
        written=3,
        merged=0,
        skipped_count=0,
        top_tags=(("a", 3),),
    )
    stopped = failed.model_copy(update={"status": JobStatus.STOPPED})
    text, skipped, tags = result_outputs(stopped, summary, [])
    assert "**3 tagged** of 9 images" in text and "Stopped before the end" in text
    assert skipped.visible is False and tags.visible is True
