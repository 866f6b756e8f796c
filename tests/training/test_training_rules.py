"""Cross-field rules, schema policing, migrations."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from lora_studio.config import migrate
from lora_studio.config.training import TrainingConfig, validate_training_config
from lora_studio.config.training_rules import launch_problems
from lora_studio.core.errors import ConfigInvalid
from tests.training.helpers import MODEL_FILES, make_config


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        validate_training_config(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"family": "sd15", "optimizer": {"warmup_steps": 10}}, "use 'constant_with_warmup'"),
        (
            {"family": "flux", "dataset": {"bucket_reso_steps": 32}},
            "Flux needs dataset.bucket_reso_steps to be a multiple of 64",
        ),
        (
            {"family": "sdxl", "dataset": {"bucket_reso_steps": 48}},
            "SDXL needs dataset.bucket_reso_steps to be a multiple of 32",
        ),
        ({"family": "sd3", "dataset": {"bucket_reso_steps": 16}}, "multiple of 32"),
        (
            {"family": "sd15", "training": {"max_train_epochs": None}},
            "exactly one of training.max_train_epochs",
        ),
        ({"family": "sd15", "training": {"max_train_epochs": 2, "max_train_steps": 10}}, "exactly one"),
        (
            {"family": "sdxl", "training": {"max_train_epochs": 2, "clip_skip": 2}},
            "clip_skip applies to SD1.5 only",
        ),
        ({"family": "sd15", "memory": {"blocks_to_swap": 8}}, "blocks_to_swap is for Flux and SD3 only"),
        (
            {
                "family": "sd15",
                "memory": {"cache_text_encoder_outputs": True},
                "network": {"train_unet_only": True},
            },
            "SD1.5 cannot cache",
        ),
        ({"family": "sdxl", "memory": {"cache_text_encoder_outputs": True}}, "needs network.train_unet_only"),
        (
            {
                "family": "sdxl",
                "memory": {"cache_text_encoder_outputs": True},
                "network": {"train_unet_only": True},
                "dataset": {"shuffle_caption": True},
            },
            "turn off caption shuffling",
        ),
        (
            {
                "family": "sd15",
                "memory": {"fp8_base": True},
                "training": {"max_train_epochs": 1, "mixed_precision": "no"},
            },
            "fp8_base needs",
        ),
        ({"family": "sd15", "flow": {"guidance_scale": 1.0}}, "flow.guidance_scale is a Flux option"),
        ({"family": "flux", "flow": {"training_shift": 3.0}}, "training_shift is an SD3 option"),
        ({"family": "sdxl", "model": {"ae": "/m/ae.safetensors"}}, "model.ae does not apply to SDXL"),
        ({"family": "sd15", "network": {"args": ["conv_dim=4"]}}, "through the network fields"),
        ({"family": "sd15", "saving": {"output_name": "../evil"}}, "saving.output_name"),
        ({"family": "sd15", "sampling": {"every_n_epochs": 1}}, "sampling.prompts is empty"),
        ({"family": "sd15", "launch": {"num_processes": 2, "gpu_ids": [0]}}, "one process per GPU"),
        ({"family": "sd15", "launch": {"num_machines": 2, "num_processes": 2}}, "main_process_ip"),
        (
            {
                "family": "sd15",
                "dataset": {"resolution": [512, 512], "min_bucket_reso": 640, "max_bucket_reso": 576},
            },
            "must not exceed",
        ),
        (
            {"family": "sd15", "dataset": {"resolution": [2048, 2048], "max_bucket_reso": 1024}},
            "must lie between",
        ),
        ({"family": "sd15", "network": {"dim": 0}}, "network.dim"),
        ({"family": "sd15", "netwrk": {}}, "netwrk: unknown setting"),
        ({"family": "sd15", "optimizer": {"learning_rate": float("inf")}}, "optimizer.learning_rate"),
        ({"family": "sd15", "sampling": {"prompts": [{"text": "a --n b"}]}}, "one line"),
    ],
)
def test_cross_field_rules_give_clear_errors(data: dict[str, Any], expected: str) -> None:
    data.setdefault("training", {"max_train_epochs": 2})
    assert any(expected in problem for problem in problems_of(data)), problems_of(data)


def test_several_problems_are_all_reported() -> None:
    problems = problems_of(
        {"family": "flux", "optimizer": {"warmup_steps": 5}, "dataset": {"bucket_reso_steps": 32}}
    )
    assert len(problems) >= 2
    with pytest.raises(ConfigInvalid, match="constant_with_warmup"):
        validate_training_config({"family": "flux", "optimizer": {"warmup_steps": 5}})


def test_flux_needs_its_three_encoder_files() -> None:
    config = validate_training_config({"family": "flux", "model": {"base": "/m/flux.safetensors"}})
    problems = launch_problems(config, gpu_available=True, check_files=False)
    assert any("Flux needs its three encoder files" in p and "clip_l, t5xxl, ae" in p for p in problems)
    ready = make_config("flux", network={"train_unet_only": True})
    assert launch_problems(ready, gpu_available=True, check_files=False) == []


def test_fp16_refused_without_a_gpu_only(tmp_path) -> None:
    config = make_config("sd15", training={"mixed_precision": "fp16"})
    assert any(
        "fp16 needs a GPU" in p for p in launch_problems(config, gpu_available=False, check_files=False)
    )
    assert launch_problems(config, gpu_available=True, check_files=False) == []


def test_missing_model_files_are_reported(tmp_path) -> None:
    base = tmp_path / "base.safetensors"
    config = make_config("sd15", model={"base": str(base)})
    assert any("no file at" in p for p in launch_problems(config, gpu_available=True))
    base.write_bytes(b"x")
    assert launch_problems(config, gpu_available=True) == []


def _optional_defaults_none(model: type[BaseModel], where: str) -> list[str]:
    wrong = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        origin = get_origin(annotation)
        if (
            origin in (Union, types.UnionType)
            and type(None) in get_args(annotation)
            and field.default is not None
        ):
            wrong.append(f"{where}.{name}")
        for arg in get_args(annotation) or (annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                wrong += _optional_defaults_none(arg, f"{where}.{name}")
    return wrong


def test_every_optional_field_defaults_to_none() -> None:
    # TOML cannot write None: a saved config only round-trips when "unset" is the default.
    assert _optional_defaults_none(TrainingConfig, "config") == []


def test_migrations_run_in_order_and_newer_versions_are_refused(monkeypatch) -> None:
    assert migrate.migrate({"family": "sd15"})["schema_version"] == 1
    monkeypatch.setattr(migrate, "SCHEMA_VERSION", 3)
    steps = {1: lambda d: {**d, "a": 1}, 2: lambda d: {**d, "b": d["a"] + 1}}
    assert migrate.migrate({"schema_version": 1}, steps) == {"schema_version": 3, "a": 1, "b": 2}
    with pytest.raises(ConfigInvalid, match="No migration"):
        migrate.migrate({"schema_version": 1}, {})
    monkeypatch.undo()
    with pytest.raises(ConfigInvalid, match="newer than this LoRA Studio"):
        migrate.load_training_config({"schema_version": 2, "family": "sd15"})
    with pytest.raises(ConfigInvalid, match="whole number"):
        migrate.load_training_config({"schema_version": "one", "family": "sd15"})


def test_model_files_table_covers_every_family() -> None:
    for family in MODEL_FILES:
        assert make_config(family, network={"train_unet_only": True}).family == family


def test_presets_load_overrides_and_cpu_smoke_preset() -> None:
    from lora_studio.config.presets import apply_overrides, load_preset
    from lora_studio.core.errors import PresetNotFound

    with pytest.raises(PresetNotFound, match="Known presets"):
        load_preset("nope")
    smoke = apply_overrides(load_preset("sd15-cpu-smoke"), ['model.base="/m.safetensors"'])
    assert launch_problems(smoke, gpu_available=False, check_files=False) == []
    changed = apply_overrides(smoke, ["saving.output_name=2024", "network.alpha=2", "extra.huber_c=0.5"])
    assert (
        changed.saving.output_name == "2024"
        and changed.network.alpha == 2.0
        and changed.extra == {"huber_c": 0.5}
    )
    with pytest.raises(ConfigInvalid, match="expected key=value"):
        apply_overrides(smoke, ["network.dim"])
