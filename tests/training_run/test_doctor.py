"""The pre-flight doctor on built datasets and tiny model headers."""

from __future__ import annotations

from pathlib import Path

from lora_studio.config.training import validate_training_config
from lora_studio.core.settings import Settings
from lora_studio.services.training import Severity, TrainingService
from lora_studio.services.training.doctor import DoctorReport
from tests.training_run.conftest import LORA_KEYS, SDXL_KEYS, make_dataset, make_model, smoke_config


def by_check(report: DoctorReport) -> dict[str, list]:
    checks: dict[str, list] = {}
    for item in report.findings:
        checks.setdefault(item.check, []).append(item)
    return checks


def severity(report: DoctorReport, check: str) -> Severity:
    return max((item.severity for item in by_check(report)[check]), key=list(Severity).index)


def test_a_good_dataset_passes_every_check(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    report = training.doctor(smoke_config(sd15_model), "demo", trigger="ohwx", gpu_available=False)
    assert report.ok and report.warnings == [], report.lines()
    assert {item.check for item in report.findings} >= {
        "layout",
        "images",
        "captions",
        "trigger",
        "model",
        "steps",
    }
    assert report.steps is not None
    # 3 images x 2 repeats = 6 per epoch at batch 1; the preset runs 2 steps.
    assert (report.steps.images, report.steps.images_with_repeats, report.steps.total_steps) == (3, 6, 2)
    assert report.steps.estimate_s is None


def test_missing_captions_wrong_extension_and_missing_trigger(
    training: TrainingService, run_settings: Settings, sd15_model: Path
) -> None:
    dataset = make_dataset(run_settings.datasets_dir, "d", {"3_ohwx": [(96, 96, "ohwx, a"), (96, 96, None)]})
    config = smoke_config(sd15_model)
    report = training.doctor(config, "d", trigger="ohwx")
    assert severity(report, "captions") is Severity.WARNING  # sd-scripts falls back to the concept name
    assert by_check(report)["captions"][0].items == ("3_ohwx/img_1.png",)
    assert severity(report, "trigger") is Severity.OK  # the concept name carries the trigger

    (dataset / "3_ohwx" / "img_1.caption").write_text("a dog", encoding="utf-8")
    report = training.doctor(config, "d", trigger="ohwx")
    assert severity(report, "captions") is Severity.ERROR and not report.ok
    assert "another extension" in by_check(report)["captions"][0].message

    (dataset / "3_ohwx" / "img_1.txt").write_text("a dog", encoding="utf-8")
    report = training.doctor(config, "d", trigger="ohwx")
    assert severity(report, "captions") is Severity.OK
    assert severity(report, "trigger") is Severity.WARNING
    assert by_check(report)["trigger"][0].items == ("3_ohwx/img_1.png",)
    # A word that merely contains the trigger does not count.
    (dataset / "3_ohwx" / "img_1.txt").write_text("ohwxy dog", encoding="utf-8")
    assert severity(training.doctor(config, "d", trigger="ohwx"), "trigger") is Severity.WARNING


def test_empty_and_non_utf8_captions_and_broken_images_are_errors(
    training: TrainingService, run_settings: Settings, sd15_model: Path
) -> None:
    dataset = make_dataset(run_settings.datasets_dir, "d", {"1_x": [(96, 96, " \n"), (96, 96, "ok")]})
    config = smoke_config(sd15_model)
    assert "empty" in by_check(training.doctor(config, "d"))["captions"][0].message
    (dataset / "1_x" / "img_0.txt").write_bytes(b"caf\xe9")
    assert "UTF-8" in by_check(training.doctor(config, "d"))["captions"][0].message
    (dataset / "1_x" / "img_0.txt").write_text("fine", encoding="utf-8")
    png = (dataset / "1_x" / "img_1.png").read_bytes()
    (dataset / "1_x" / "img_1.png").write_bytes(png[: len(png) // 2])
    report = training.doctor(config, "d")
    assert severity(report, "images") is Severity.ERROR
    assert by_check(report)["images"][0].items[0].startswith("1_x/img_1.png: cannot be decoded")


def test_small_images_and_too_large_without_buckets(
    training: TrainingService, run_settings: Settings, sd15_model: Path
) -> None:
    make_dataset(run_settings.datasets_dir, "d", {"1_x": [(48, 48, "tiny"), (256, 256, "big")]})
    report = training.doctor(smoke_config(sd15_model), "d")
    assert severity(report, "resolution") is Severity.WARNING
    assert by_check(report)["resolution"][0].items == ("1_x/img_0.png (48x48)",)
    no_buckets = smoke_config(sd15_model, "dataset.enable_bucket=false")
    report = training.doctor(no_buckets, "d")
    assert severity(report, "resolution") is Severity.ERROR
    assert by_check(report)["resolution"][0].items == ("1_x/img_1.png",)


def test_bad_layout(training: TrainingService, run_settings: Settings, sd15_model: Path) -> None:
    dataset = make_dataset(
        run_settings.datasets_dir, "d", {"images": [(96, 96, "a")], "0_zero": [(96, 96, "b")]}
    )
    (dataset / "5_empty").mkdir()
    make_dataset(dataset, "loose", {})  # an empty plain folder
    config = smoke_config(sd15_model)
    report = training.doctor(config, "d")
    assert not report.ok and report.steps is None
    messages = " | ".join(item.message for item in by_check(report)["layout"])
    assert "No concept folder" in messages and "images" in messages and "0_zero" in messages
    assert "5_empty" in messages

    make_dataset(dataset, "2_good", {".": [(96, 96, "c")]})
    Path(dataset / "2_good" / "img_0.png").replace(dataset / "stray.png")
    make_dataset(dataset / "2_good", "nested", {".": [(96, 96, "d")]})
    make_dataset(dataset, "2_good", {".": [(96, 96, "e")]})
    report = training.doctor(config, "d")
    assert report.ok, report.lines()
    messages = " | ".join(item.message for item in by_check(report)["layout"])
    assert "directly in the dataset folder" in messages and "2_good/nested" in messages


def test_model_files_are_checked_from_their_headers(
    training: TrainingService, run_settings: Settings, good_dataset: Path
) -> None:
    sdxl = make_model(run_settings.models_dir, "sdxl.safetensors", SDXL_KEYS)
    report = training.doctor(smoke_config(sdxl), "demo")
    assert severity(report, "model") is Severity.ERROR
    assert "SDXL checkpoint but this config trains SD1.5" in by_check(report)["model"][0].message
    lora = make_model(run_settings.models_dir, "style.safetensors", LORA_KEYS)
    assert "is a LoRA" in by_check(training.doctor(smoke_config(lora), "demo"))["model"][0].message
    missing = run_settings.models_dir / "nope.safetensors"
    assert "no file at" in by_check(training.doctor(smoke_config(missing), "demo"))["model"][0].message
    broken = run_settings.models_dir / "broken.safetensors"
    broken.write_bytes(b"\xff" * 16)
    assert severity(training.doctor(smoke_config(broken), "demo"), "model") is Severity.ERROR


def test_config_rules_and_step_math_with_a_time_estimate(
    training: TrainingService, run_settings: Settings, sd15_model: Path
) -> None:
    make_dataset(run_settings.datasets_dir, "d", {"10_a": [(96, 96, "a")] * 3, "1_b": [(96, 96, "b")] * 5})
    data = smoke_config(sd15_model, "training.batch_size=2", "training.mixed_precision='fp16'").model_dump()
    data["training"] |= {"max_train_steps": None, "max_train_epochs": 4}
    config = validate_training_config(data)
    report = training.doctor(config, "d", gpu_available=False)
    assert severity(report, "config") is Severity.ERROR and "fp16 needs a GPU" in report.errors[0].message
    steps = report.steps
    assert steps is not None
    # (3 x 10 + 5 x 1) = 35 per epoch, / batch 2 = 18 steps, x 4 epochs = 72.
    assert (steps.images_with_repeats, steps.steps_per_epoch, steps.total_steps) == (35, 18, 72)
    assert steps.explain() == (
        "8 images with repeats = 35 per epoch / batch 2 = 18 steps per epoch x 4 epochs = 72 steps"
    )
    assert training.doctor(config, "d", gpu_available=True).ok
