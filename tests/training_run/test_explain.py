"""The failure explainer against real sd-scripts failure logs and known failure lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lora_studio.config.presets import apply_overrides, list_presets, load_preset
from lora_studio.services.training.explain import explain_failure
from lora_studio.services.training.savers import oom_fix

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sd_scripts_log"
PRESETS = [(info.name, load_preset(info.name)) for info in list_presets()]


def log_lines(name: str) -> list[str]:
    text = (FIXTURES / f"{name}_stderr.txt").read_bytes().decode("utf-8", "replace")
    return [line for line in re.split(r"[\r\n]+", text) if line.strip()]


@pytest.mark.parametrize(
    ("log", "exit_code", "title", "fix_words"),
    [
        ("fail_no_data", 0, "no training images", "<repeats>_<concept>"),
        ("fail_dataset_schema", 1, "rejected the dataset TOML", "Re-render"),
        ("fail_missing_checkpoint", 1, "base model file does not exist", "no_such_model.safetensors"),
        ("fail_bad_module", 1, "network module does not exist", "networks.lora"),
        ("fail_fp16_cpu", 1, "precision does not work without a GPU", "mixed_precision to 'no'"),
        ("fail_image_too_large", 1, "larger than the training resolution", "enable_bucket"),
    ],
)
def test_real_failure_logs_are_explained(log: str, exit_code: int, title: str, fix_words: str) -> None:
    found = explain_failure(log_lines(log), exit_code)
    assert found is not None
    assert title in found.title and fix_words in found.fix
    assert found.evidence and "CalledProcessError" not in found.evidence


@pytest.mark.parametrize(
    ("line", "title", "fix_words"),
    [
        (
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB",
            "ran out of memory",
            "batch",
        ),
        (
            "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo",
            "gated",
            "licence",
        ),
        ("steps:  50%|█████     | 1/2 [00:01<00:01, 1.00s/it, avr_loss=nan]", "NaN", "learning_rate"),
        (
            "ImportError: No bitsandbytes / bitsandbytesがインストールされていないようです",
            "bitsandbytes",
            "AdamW",
        ),
        ("ImportError: No xformers / xformersがインストールされていないようです", "xformers", "sdpa"),
        ("AttributeError: module 'torch.optim' has no attribute 'AdamQ'", "Unknown optimizer", "'AdamQ'"),
        ("toml.decoder.TomlDecodeError: Unbalanced quotes (line 3 column 20 char 61)", "TOML", "re-rendered"),
        ("ModuleNotFoundError: No module named 'lycoris'", "LyCORIS", "lycoris-lora"),
        (
            "AssertionError: caption file is empty / キャプションファイルが空です: a.txt",
            "caption file is empty",
            "caption",
        ),
        ("RuntimeError: Error(s) in loading state_dict for UNet2DConditionModel:", "does not fit", "family"),
        (
            "safetensors_rust.SafetensorError: Error while deserializing header: HeaderTooLarge",
            "damaged",
            "download",
        ),
        ("ValueError: constant does not require num_warmup_steps", "cannot warm up", "constant_with_warmup"),
    ],
)
def test_known_failure_lines(line: str, title: str, fix_words: str) -> None:
    found = explain_failure(["INFO     mean ar error (without repeats): 0", line], 1)
    assert found is not None and title in found.title and fix_words in found.fix
    assert found.evidence == line.strip()


def test_oom_names_the_next_lower_preset_and_its_savers() -> None:
    big = load_preset("sdxl-24gb")
    fix = oom_fix(big, PRESETS)
    assert "'sdxl-12gb'" in fix and "=" in fix
    # A config with every saver of the smallest preset gets the generic advice.
    small = load_preset("sdxl-12gb")
    assert "'sdxl-24gb'" not in oom_fix(small, PRESETS)
    greedy = apply_overrides(small, ["memory.gradient_checkpointing=false", "training.batch_size=4"])
    fix = oom_fix(greedy, PRESETS)
    assert "memory.gradient_checkpointing = true" in fix and "training.batch_size" in fix
    found = explain_failure(
        ["torch.OutOfMemoryError: CUDA out of memory."], 1, config=greedy, presets=PRESETS
    )
    assert found is not None and "gradient_checkpointing" in found.fix


def test_no_failure_and_unknown_failures() -> None:
    assert explain_failure(["steps: 100%|██████████| 2/2 [00:04<00:00, avr_loss=0.1]"], 0) is None
    killed = explain_failure(["steps:  10%"], -9)
    assert killed is not None and "RAM" in killed.title
    unknown = explain_failure(["Traceback (most recent call last):", "KeyError: 'foo'"], 1)
    assert unknown is not None and "exit code 1" in unknown.title and unknown.evidence == "KeyError: 'foo'"
