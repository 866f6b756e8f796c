"""What the Training tab asks of the service: preview, check, served samples, LoRA downloads, resume,
the installer job, saved/imported/exported configs and the preset menu."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lora_studio.config import training_rules
from lora_studio.config.launch import REPO_ROOT, TrainerPaths
from lora_studio.config.presets import config_to_toml, list_presets, load_preset
from lora_studio.core.errors import AlreadyExists, ConfigInvalid, InvalidInput, InvalidName, NotFound
from lora_studio.core.types import JobKind, JobStatus, ModelFamily
from lora_studio.services.system import Gpu
from lora_studio.services.training import TrainingService
from lora_studio.services.training.choices import CPU_PRESET, MODEL_FIELDS, model_fields
from lora_studio.services.training.installer import install_spec
from tests.training_run.conftest import make_dataset, smoke_config
from tests.training_run.test_runs import finished, rich_config


def test_preview_renders_what_start_would_run_and_writes_nothing(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    preview = training.preview(smoke_config(sd15_model), "demo", gpu_available=False)
    assert "max_train_steps = 2" in preview.train_toml
    assert f'pretrained_model_name_or_path = "{sd15_model}"' in preview.train_toml
    assert "2_ohwx" in preview.dataset_toml and "num_repeats = 2" in preview.dataset_toml
    assert preview.argv[0] == str(training.trainer.python)
    assert "--config_file" in preview.command and "train_network.py" in preview.command
    assert preview.notes == ()
    assert list(training.settings.outputs_dir.iterdir()) == []


def test_preview_notes_say_what_stops_a_real_start(training: TrainingService, good_dataset: Path) -> None:
    config = load_preset("sd15-8gb")  # no model file, fp16 and an 8-bit optimizer
    preview = training.preview(config, "demo", gpu_available=False)
    assert any("model.base" in note for note in preview.notes)
    assert any("fp16 needs a GPU" in note for note in preview.notes)


def test_check_keeps_the_report_when_the_preview_cannot_render(
    training: TrainingService, sd15_model: Path
) -> None:
    make_dataset(training.settings.datasets_dir, "flat", {})
    (training.settings.datasets_dir / "flat" / "loose.png").write_bytes(b"")
    result = training.check(smoke_config(sd15_model), "flat", gpu_available=False)
    assert not result.report.ok
    assert any(item.check == "layout" for item in result.report.errors)
    assert result.preview is None and result.preview_error and "concept" in result.preview_error


def test_check_with_a_good_dataset_has_both(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    result = training.check(smoke_config(sd15_model), "demo", trigger="ohwx", gpu_available=False)
    assert result.report.ok and result.preview is not None and result.preview_error is None
    assert result.report.steps is not None and result.report.steps.total_steps == 2


def test_samples_are_served_once_per_version_and_loras_download(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    launch = training.start(rich_config(sd15_model), "demo", gpu_available=False)
    job_id = launch.job.id
    assert finished(training, job_id) is JobStatus.SUCCEEDED, training.jobs.tail(job_id)

    images = training.sample_images(job_id)
    assert [image.caption for image in images] == [
        "epoch 1 · prompt 1", "epoch 1 · prompt 2", "epoch 2 · prompt 1", "epoch 2 · prompt 2",
    ]  # fmt: skip
    served = training.settings.cache_dir / "thumbs" / "samples" / job_id
    assert all(image.path.parent == served for image in images)
    first = images[0].path
    inode = first.stat().st_ino
    assert training.sample_images(job_id)[0].path == first and first.stat().st_ino == inode

    source = training.samples(job_id).rows[0].images[0]
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # sd-scripts rewrote it
    again = training.sample_images(job_id)
    assert again[0].path != first and again[0].path.is_file() and not first.exists()
    assert len(list(served.iterdir())) == 4

    names = [lora.path.name for lora in training.loras(job_id)]
    assert names == ["smoke_lora-000001.safetensors", "smoke_lora.safetensors"]
    copy = training.lora_download(job_id, "smoke_lora.safetensors")
    assert copy.read_bytes() == (launch.output_dir / "smoke_lora.safetensors").read_bytes()
    assert training.settings.workspace not in copy.parents
    with pytest.raises(NotFound):
        training.lora_download(job_id, "../../secret.safetensors")
    assert training.resumable(job_id)


def test_a_run_without_saved_state_cannot_resume(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    launch = training.start(smoke_config(sd15_model), "demo", gpu_available=False)
    assert finished(training, launch.job.id) is JobStatus.SUCCEEDED
    assert not training.resumable(launch.job.id)
    assert training.sample_images(launch.job.id) == []


def test_install_spec_runs_the_installer_from_the_repository() -> None:
    spec = install_spec("/usr/bin/python3", repo_root=REPO_ROOT)
    assert spec.kind is JobKind.INSTALL and not spec.uses_gpu
    assert spec.argv == ("/usr/bin/python3", "-m", "trainer.install") and spec.cwd == str(REPO_ROOT)
    assert "LORA_STUDIO_SD_SCRIPTS" not in spec.env
    configured = install_spec(
        "py",
        repo_root=REPO_ROOT,
        trainer=TrainerPaths(Path("/x/sd"), Path("/x/py")),
        system_site_packages=True,
    )
    assert configured.argv[-1] == "--system-site-packages"
    assert configured.env["LORA_STUDIO_SD_SCRIPTS"] == "/x/sd"
    assert configured.env["LORA_STUDIO_TRAINER_PYTHON"] == "/x/py"


def test_install_job_verifies_a_configured_trainer(training: TrainingService) -> None:
    record = training.install()
    assert record.spec.argv[0] == sys.executable and record.kind is JobKind.INSTALL
    done = training.jobs.engine.wait(record.id, timeout=60)
    assert not done.status.is_active  # the stand-in checkout cannot pass the real verification
    assert any("only verifying" in line for line in training.jobs.tail(record.id))


def test_saved_imported_and_exported_configs_round_trip(
    training: TrainingService, sd15_model: Path, tmp_path: Path
) -> None:
    config = smoke_config(sd15_model, "network.dim=8")
    assert training.saved_configs() == []
    training.save_config(config, "mine")
    assert training.saved_configs() == ["mine"] and training.load_config("mine") == config
    with pytest.raises(AlreadyExists):
        training.save_config(config, "mine")
    training.save_config(config, "mine", overwrite=True)
    with pytest.raises(InvalidName):
        training.save_config(config, "../escape")
    with pytest.raises(NotFound):
        training.load_config("nothing")

    exported = training.export_config(config, "my export")
    assert exported.name == "my export.toml" and training.settings.workspace not in exported.parents
    assert training.import_config(exported) == config

    junk = tmp_path / "junk.toml"
    junk.write_text("family = 'sd15'\nnetwork = 3\n")
    with pytest.raises(ConfigInvalid, match=r"junk\.toml"):
        training.import_config(junk)
    big = tmp_path / "big.toml"
    big.write_text(config_to_toml(config) + "#" * (2 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="too large"):
        training.import_config(big)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("description = 'caf\xe9'".encode("latin-1"))
    with pytest.raises(ConfigInvalid, match="UTF-8"):
        training.import_config(latin)


def test_preset_menu_puts_what_fits_first(training: TrainingService) -> None:
    menu = training.preset_menu([])
    assert menu[0].name == CPU_PRESET and menu[0].suggested
    assert {choice.name for choice in menu} == {info.name for info in list_presets()}
    menu = training.preset_menu([Gpu(0, "RTX 3060", 12288)])
    suggested = [choice.name for choice in menu if choice.suggested]
    assert suggested and all(name.endswith(("-8gb", "-12gb")) for name in suggested)
    assert [choice.name for choice in menu[: len(suggested)]] == suggested
    assert "★" in menu[0].label and "★" not in menu[-1].label


def test_model_fields_match_the_launch_rules() -> None:
    rules = training_rules._MODEL_FILE_FAMILIES
    for family, fields in MODEL_FIELDS.items():
        assert {name for name, _ in fields} == {
            name for name, families in rules.items() if family in families
        }
    assert model_fields("flux") == MODEL_FIELDS[ModelFamily.FLUX]
    assert model_fields(None) == () and model_fields("nope") == ()
