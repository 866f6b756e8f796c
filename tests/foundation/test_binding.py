"""The training form round-trips every preset: config → form values → the same config."""

from __future__ import annotations

import gradio as gr
import pytest

from lora_studio.config.presets import list_presets, load_preset
from lora_studio.config.training import TrainingConfig
from lora_studio.core.errors import ConfigInvalid
from lora_studio.ui.binding import UNSET, ConfigForm, build_config_form, parse_prompt_line, prompt_line


@pytest.fixture(scope="module")
def form() -> ConfigForm:
    with gr.Blocks():
        return build_config_form()


@pytest.mark.parametrize("preset", [info.name for info in list_presets()])
def test_every_preset_round_trips_through_the_form(form: ConfigForm, preset: str) -> None:
    config = load_preset(preset)
    assert form.config(form.values(config)) == config


def test_every_schema_field_has_a_control(form: ConfigForm) -> None:
    keys = {binding.key for binding in form.fields}
    for section, info in TrainingConfig.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            for name in annotation.model_fields:
                assert f"{section}.{name}" in keys
    assert {"family", "description", "extra"} <= keys


def test_zero_and_false_survive_while_empty_means_unset(form: ConfigForm) -> None:
    config = load_preset("sd15-8gb")
    values = form.values(config)
    keys = [binding.key for binding in form.fields]
    values[keys.index("training.noise_offset")] = 0
    values[keys.index("network.conv_dim")] = None
    values[keys.index("training.max_token_length")] = UNSET
    result = form.config(values)
    assert result.training.noise_offset == 0.0
    assert result.network.conv_dim is None
    assert result.training.max_token_length is None


def test_bad_values_are_reported_per_field(form: ConfigForm) -> None:
    values = form.values(load_preset("sd15-8gb"))
    keys = [binding.key for binding in form.fields]
    values[keys.index("network.dim")] = 2.5
    with pytest.raises(ConfigInvalid) as caught:
        form.config(values)
    assert "network.dim" in str(caught.value)


def test_prompt_lines_use_sd_scripts_syntax() -> None:
    prompt = parse_prompt_line("a cat, ohwx --n blurry --w 768 --h 512 --d 7 --s 20 --l 6.5")
    assert prompt == {
        "text": "a cat, ohwx",
        "negative": "blurry",
        "width": 768,
        "height": 512,
        "seed": 7,
        "steps": 20,
        "cfg_scale": 6.5,
    }
    assert parse_prompt_line(prompt_line(prompt)) == prompt
    with pytest.raises(ValueError):
        parse_prompt_line("x --q 1")


def test_extra_options_keep_their_types(form: ConfigForm) -> None:
    values = form.values(load_preset("sd15-8gb"))
    keys = [binding.key for binding in form.fields]
    values[keys.index("extra")] = "scale_weight_norms = 1.0\nlowram = true\nmax_grad_norm_x = abc"
    data = form.data(values)
    assert data["extra"] == {"scale_weight_norms": 1.0, "lowram": True, "max_grad_norm_x": "abc"}
