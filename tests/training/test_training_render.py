"""Rendering: golden files per preset, parse-back with `toml`, the option-table check, the gotchas."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import toml

from lora_studio.config.presets import PRESETS_DIR, list_presets
from lora_studio.config.render import check_rendered, render_run
from lora_studio.config.trainer_args import dataset_key_problems, trainer_arg_problems
from lora_studio.core.errors import ConfigInvalid, UnknownTrainerArgs
from tests.training.helpers import CONCEPTS, PATHS, make_config, preset_with_models

GOLDEN = Path(__file__).parent / "golden"
PRESETS = sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # UPDATE_GOLDEN=1 pytest tests/training rewrites them


def _walk(value: Any) -> list[Any]:
    """Every value in nested dicts and lists."""
    if isinstance(value, dict):
        return [item for child in value.values() for item in [child, *_walk(child)]]
    if isinstance(value, list):
        return [item for child in value for item in [child, *_walk(child)]]
    return []


def test_there_is_a_preset_per_family_and_tier() -> None:
    assert {"sd15-8gb", "sdxl-12gb", "sdxl-24gb", "sd35-16gb", "flux-12gb", "flux-24gb"} <= set(PRESETS)
    assert {info.family for info in list_presets()} == {"sd15", "sdxl", "sd3", "flux"}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_renders_like_its_golden_files(name: str) -> None:
    rendered = render_run(preset_with_models(name), CONCEPTS, PATHS)
    files = {"config.toml": rendered.train_toml, "dataset.toml": rendered.dataset_toml}
    if rendered.prompts is not None:
        files["sample_prompts.txt"] = rendered.prompts
    for filename, text in files.items():
        golden = GOLDEN / name / filename
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        assert golden.read_text(encoding="utf-8") == text, f"{golden} differs (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_passes_the_option_table_of_its_script(name: str) -> None:
    rendered = render_run(preset_with_models(name), CONCEPTS, PATHS)
    check_rendered(rendered)  # raises on an unknown key, a wrong type or a bad choice


@pytest.mark.parametrize("name", PRESETS)
def test_rendered_tomls_parse_back_value_for_value(name: str) -> None:
    rendered = render_run(preset_with_models(name), CONCEPTS, PATHS)
    assert toml.loads(rendered.train_toml) == rendered.train
    assert toml.loads(rendered.dataset_toml) == rendered.dataset
    for value in _walk(rendered.train) + _walk(rendered.dataset):
        assert value is not None
        if isinstance(value, list) and value:
            assert len({type(item) for item in value}) == 1, f"mixed array {value}"


def test_every_family_passes_with_every_option_switched_on() -> None:
    """A maximal config per family: all the keys the renderer can emit exist in that family's script."""
    prompts = [{"text": "ohwx person, smiling", "negative": "blurry", "width": 1024, "height": 1024, "seed": 1,
                "steps": 20, "cfg_scale": 7.0, "guidance": 3.5}]  # fmt: skip
    common = {
        "network": {
            "conv_dim": 8,
            "conv_alpha": 4.0,
            "dropout": 0.1,
            "rank_dropout": 0.1,
            "module_dropout": 0.1,
            "args": ["loraplus_lr_ratio=4"],
            "weights": "/w.safetensors",
            "train_unet_only": True,
        },
        "optimizer": {
            "args": ["weight_decay=0.01"],
            "unet_lr": 1e-4,
            "text_encoder_lr": 1e-5,
            "scheduler": "cosine_with_restarts",
            "warmup_steps": 10,
            "scheduler_num_cycles": 2,
            "scheduler_power": 1.0,
            "max_grad_norm": 1.0,
        },
        "training": {
            "noise_offset": 0.05,
            "min_snr_gamma": 5.0,
            "full_bf16": True,
            "persistent_data_loader_workers": True,
        },
        "memory": {"cache_latents_to_disk": True, "fp8_base": True, "attention": "xformers"},
        "sampling": {"prompts": prompts, "every_n_epochs": 1, "every_n_steps": 100, "at_first": True},
        "saving": {
            "save_every_n_epochs": 1,
            "save_every_n_steps": 500,
            "keep_last_n_epochs": 2,
            "keep_last_n_steps": 2,
            "save_state": True,
        },
        "logging": {"tensorboard": True, "log_prefix": "demo"},
    }
    per_family = {
        "sd15": {"training": {"clip_skip": 2, "max_token_length": 225}, "model": {"vae": "/v.safetensors", "v2": True}},
        "sdxl": {"memory": {"cache_text_encoder_outputs": True, "cache_text_encoder_outputs_to_disk": True}},
        "flux": {"memory": {"blocks_to_swap": 18, "cache_text_encoder_outputs": True},
                 "flow": {"guidance_scale": 1.0, "timestep_sampling": "shift", "discrete_flow_shift": 3.1582,
                          "model_prediction_type": "raw", "t5xxl_max_token_length": 512, "apply_t5_attn_mask": True}},
        "sd3": {"memory": {"blocks_to_swap": 10}, "model": {"clip_l": "/l", "clip_g": "/g", "t5xxl": "/t"},
                "flow": {"training_shift": 3.0, "weighting_scheme": "logit_normal"}},
    }  # fmt: skip
    for family, extra_sections in per_family.items():
        sections = {key: dict(value) for key, value in common.items()}
        for key, value in extra_sections.items():
            sections[key] = {**sections.get(key, {}), **value}
        sections["extra"] = {"huber_c": 0.1}
        rendered = render_run(make_config(family, **sections), CONCEPTS, PATHS)
        check_rendered(rendered)
        assert toml.loads(rendered.train_toml) == rendered.train


def test_zero_and_false_survive_only_none_is_omitted() -> None:
    config = make_config(
        "sd15",
        training={"noise_offset": 0.0, "seed": 0},
        optimizer={"warmup_steps": 0, "text_encoder_lr": 0.0},
        dataset={"keep_tokens": 0, "shuffle_caption": False},
    )
    rendered = render_run(config, CONCEPTS, PATHS)
    flat, general = rendered.flat_train(), rendered.dataset["general"]
    assert flat["noise_offset"] == 0.0 and isinstance(flat["noise_offset"], float)
    assert flat["seed"] == 0 and flat["lr_warmup_steps"] == 0
    assert flat["text_encoder_lr"] == [0.0]
    assert flat["network_train_unet_only"] is False and flat["cache_latents_to_disk"] is False
    assert general["keep_tokens"] == 0 and general["shuffle_caption"] is False
    assert general["caption_dropout_rate"] == 0.0 and isinstance(general["caption_dropout_rate"], float)
    assert "min_snr_gamma" not in flat and "vae" not in flat  # None: left out
    text = rendered.train_toml
    assert "noise_offset = 0.0" in text and "seed = 0" in text and "network_train_unet_only = false" in text


def test_gotchas_resolution_floats_and_caption_extension() -> None:
    config = make_config("sdxl", dataset={"resolution": [1024, 768]}, network={"alpha": 1})
    rendered = render_run(config, CONCEPTS, PATHS)
    flat = rendered.flat_train()
    assert flat["resolution"] == "1024,768"  # a string in the training TOML
    assert rendered.dataset["datasets"][0]["resolution"] == [1024, 768]  # [w, h] in the dataset TOML
    assert flat["network_alpha"] == 1.0 and isinstance(flat["network_alpha"], float)
    assert set(rendered.dataset) == {"general", "datasets"}
    for subset in rendered.dataset["datasets"][0]["subsets"]:
        assert subset["caption_extension"] == ".txt"
    assert [s["num_repeats"] for s in rendered.dataset["datasets"][0]["subsets"]] == [10, 2]
    assert dataset_key_problems(rendered.dataset) == []


def test_lycoris_types_render_module_and_algo() -> None:
    flat = render_run(
        make_config("sdxl", network={"type": "dora", "conv_dim": 4}), CONCEPTS, PATHS
    ).flat_train()
    assert flat["network_module"] == "lycoris.kohya"
    assert flat["network_args"] == ["algo=locon", "dora_wd=True", "conv_dim=4"]
    flat = render_run(
        make_config("flux", network={"type": "lora", "train_unet_only": True}), CONCEPTS, PATHS
    ).flat_train()
    assert flat["network_module"] == "networks.lora_flux" and "network_args" not in flat


def test_extra_is_checked_and_cannot_shadow_a_field() -> None:
    with pytest.raises(ConfigInvalid, match=r"extra\.learning_rate"):
        render_run(make_config("sd15", extra={"learning_rate": 1.0}), CONCEPTS, PATHS)
    rendered = render_run(make_config("sd15", extra={"learnig_rate_typo": 1.0}), CONCEPTS, PATHS)
    with pytest.raises(UnknownTrainerArgs, match="learnig_rate_typo"):
        check_rendered(rendered)
    rendered = render_run(make_config("sd15", extra={"loss_type": "l3"}), CONCEPTS, PATHS)
    with pytest.raises(UnknownTrainerArgs, match="not one of"):
        check_rendered(rendered)


def test_option_table_catches_keys_of_another_family_and_wrong_types() -> None:
    assert trainer_arg_problems("flux_train_network.py", {"blocks_to_swap": 4, "guidance_scale": 1.0}) == []
    problems = trainer_arg_problems("train_network.py", {"blocks_to_swap": 4})
    assert problems and "has no such option" in problems[0]
    assert (
        "did you mean 'learning_rate'" in trainer_arg_problems("train_network.py", {"learning_rat": 1.0})[0]
    )
    assert trainer_arg_problems("train_network.py", {"resolution": 512})  # must be a string
    assert trainer_arg_problems("train_network.py", {"learning_rate": 1})  # floats stay floats
    assert trainer_arg_problems("train_network.py", {"network_args": "conv_dim=4"})  # nargs=* needs a list
    assert trainer_arg_problems("train_network.py", {"mixed_precision": "fp32"})
    assert trainer_arg_problems("train_network.py", {"lr_warmup_steps": 10}) == []  # int_or_float
    assert trainer_arg_problems("train_network.py", {"lr_warmup_steps": 0.1}) == []


def test_dataset_key_check_matches_sd_scripts_schema() -> None:
    bad = {
        "resolution": 512,
        "general": {"shuffle_captions": True},
        "datasets": [{"subsets": [{"image_dir": "x", "min_bucket_reso": 1}]}],
    }
    problems = dataset_key_problems(bad)
    assert any("'resolution' is not allowed" in p for p in problems)
    assert any("shuffle_captions" in p for p in problems)
    assert any("subsets[0]" in p and "min_bucket_reso" in p for p in problems)


def test_prompts_file_format() -> None:
    config = make_config(
        "flux",
        network={"train_unet_only": True},
        sampling={
            "prompts": [
                {"text": "ohwx person", "width": 512, "height": 768, "seed": 3, "guidance": 3.5},
                {"text": "a castle", "negative": "blurry, low quality"},
            ],
            "every_n_epochs": 1,
        },
    )
    rendered = render_run(config, CONCEPTS, PATHS)
    lines = [line for line in (rendered.prompts or "").splitlines() if not line.startswith("#")]
    assert lines == ["ohwx person --w 512 --h 768 --d 3 --g 3.5", "a castle --n blurry, low quality"]
    assert rendered.flat_train()["sample_prompts"] == PATHS.sample_prompts
    assert "sample_sampler" not in rendered.flat_train()  # Flux ignores the sampler


def test_hostile_strings_survive_the_toml_round_trip() -> None:
    config = make_config("sd15", model={"base": 'C:\\models\\a "quoted" \u00e9.safetensors'})
    rendered = render_run(config, CONCEPTS, PATHS)
    assert toml.loads(rendered.train_toml) == rendered.train
