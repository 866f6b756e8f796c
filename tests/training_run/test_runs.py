"""Launch and watch runs through the stand-in trainer under the real job engine."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import pytest

from lora_studio.config.presets import list_presets
from lora_studio.config.training import TrainingConfig, validate_training_config
from lora_studio.core.errors import (
    DatasetNotFound,
    JobStateError,
    PreflightFailed,
    SpaceDryRun,
    TrainerMissing,
    TrainingStateNotFound,
)
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.jobs import processes
from lora_studio.services import build_services
from lora_studio.services.training import TrainingService, bundle
from tests.training_run.conftest import make_dataset, smoke_config
from tests.training_run.fake_checkout import FAKE_COMMIT

WAIT_S = 60


def rich_config(model: Path) -> TrainingConfig:
    """2 epochs of 2 steps, an epoch checkpoint, samples for two prompts and a saved state."""
    data = smoke_config(model, "saving.save_every_n_epochs=1", "saving.save_state=true").model_dump()
    data["training"] |= {"max_train_steps": None, "max_train_epochs": 2}
    data["sampling"] |= {"prompts": [{"text": "ohwx, a cat"}, {"text": "ohwx, a dog"}], "every_n_epochs": 1}
    return validate_training_config(data)


def finished(training: TrainingService, job_id: str) -> JobStatus:
    record = training.jobs.engine.wait(job_id, timeout=WAIT_S)
    assert not record.status.is_active, "the job did not end in time"
    return record.status


def test_launch_watch_outputs_and_resume(
    training: TrainingService, sd15_model: Path, good_dataset: Path
) -> None:
    config = rich_config(sd15_model)
    launch = training.start(config, "demo", trigger="ohwx", gpu_available=False)
    assert finished(training, launch.job.id) is JobStatus.SUCCEEDED, training.jobs.tail(launch.job.id)
    job_id, run_dir, output_dir = launch.job.id, launch.run_dir, launch.output_dir
    # The bundle lives beside the job's record and log; what the run makes, under outputs/.
    assert run_dir == training.settings.runs_dir.absolute() / job_id
    assert (run_dir / "job.json").is_file() and training.jobs.log_path(job_id).parent == run_dir
    assert output_dir.parent == training.settings.outputs_dir.absolute()
    assert training.runs()[0].id == job_id and training.run_dir(job_id) == run_dir
    assert training.output_dir(job_id) == output_dir

    progress = training.progress(job_id)
    assert (progress.step, progress.total, progress.epoch, progress.epochs) == (4, 4, 2, 2)
    losses = training.loss(job_id)
    assert [point.step for point in losses] == [1, 2, 3, 4]
    assert losses[0].loss == pytest.approx(1.2) and losses[-1].loss < losses[0].loss
    grid = training.samples(job_id)
    assert grid.prompts == ["ohwx, a cat", "ohwx, a dog"] and grid.columns == [0, 1]
    assert [row.label for row in grid.rows] == ["epoch 1", "epoch 2"]
    assert all(sorted(row.images) == [0, 1] and row.images[0].is_file() for row in grid.rows)
    loras = training.loras(job_id)
    assert [lora.label for lora in loras] == ["epoch 1", "final"]
    assert loras[-1].path == output_dir / "smoke_lora.safetensors"
    assert training.explain(job_id) is None

    # The bundle: rendered files, exact argv, versions, manifest, and the log.
    record = training.jobs.get(job_id)
    assert json.loads((run_dir / bundle.ARGV_JSON).read_text()) == list(record.argv)
    assert record.argv[1:3] == ("-m", "accelerate.commands.launch") and record.spec.cwd == str(run_dir)
    assert 'output_dir = "' + str(output_dir) + '"' in (run_dir / bundle.TRAIN_TOML).read_text()
    assert "ohwx, a dog" in (run_dir / bundle.PROMPTS_TXT).read_text()
    assert 'family = "sd15"' in (run_dir / bundle.CONFIG_COPY).read_text()
    versions = json.loads((run_dir / bundle.VERSIONS_JSON).read_text())
    assert versions["sd_scripts"]["commit"] == FAKE_COMMIT and "pydantic" in versions["packages"]
    manifest = json.loads((run_dir / bundle.MANIFEST_JSON).read_text())
    first = manifest["files"][0]
    assert (
        manifest["image_count"] == 3
        and first["path"] == "2_ohwx/img_0.png"
        and first["caption"] == "ohwx, red"
    )
    assert first["sha256"] == hashlib.sha256((good_dataset / first["path"]).read_bytes()).hexdigest()
    info = bundle.read_run_info(run_dir)
    assert (info.job_id, info.output_dir, info.resumes) == (job_id, str(output_dir), None)

    # The measured speed now feeds the doctor's time estimate.
    report = training.doctor(config, "demo", gpu_available=False)
    assert report.steps is not None and report.steps.estimate_s is not None

    # A resume is a new job with its own bundle, writing into the same output folder.
    resumed = training.resume(job_id, gpu_available=False)
    assert finished(training, resumed.job.id) is JobStatus.SUCCEEDED
    assert resumed.run_dir == training.settings.runs_dir.absolute() / resumed.job.id != run_dir
    assert resumed.output_dir == output_dir == training.output_dir(resumed.job.id)
    state = output_dir / "smoke_lora-state"
    assert f'resume = "{state}"' in (resumed.run_dir / bundle.TRAIN_TOML).read_text()
    assert "resume training from local state" in training.jobs.log_path(resumed.job.id).read_text()
    info = bundle.read_run_info(resumed.run_dir)
    assert (info.resumes, info.state) == (job_id, str(state))
    assert json.loads((run_dir / bundle.ARGV_JSON).read_text()) == list(record.argv)  # first job's files kept
    # A resumed run can be resumed again (its config's own resume key is replaced, not stacked).
    again = training.resume(resumed.job.id, gpu_available=False)
    assert finished(training, again.job.id) is JobStatus.SUCCEEDED
    assert training.loras(again.job.id)[-1].path == output_dir / "smoke_lora.safetensors"

    # Deleting the jobs from the list removes their run folders, never the LoRA files.
    for job in (again.job.id, resumed.job.id, job_id):
        training.jobs.engine.delete(job)
    assert not run_dir.exists() and (output_dir / "smoke_lora.safetensors").is_file()


def test_stop_ends_the_whole_process_group(
    training: TrainingService, sd15_model: Path, good_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_STEP_SECONDS", "0.5")
    launch = training.start(smoke_config(sd15_model, "training.max_train_steps=200"), "demo")
    deadline = time.monotonic() + WAIT_S
    while (training.progress(launch.job.id).step or 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    training.stop(launch.job.id)
    assert finished(training, launch.job.id) is JobStatus.STOPPED
    record = training.jobs.get(launch.job.id)
    assert record.pid is not None and not processes.group_alive(record.pid)
    assert "interrupted by SIGINT" in training.jobs.log_path(launch.job.id).read_text()
    assert training.explain(launch.job.id) is None and training.loras(launch.job.id) == []
    with pytest.raises(TrainingStateNotFound):
        training.resume(launch.job.id)


FAILURES = {
    "no_data": "no training images",
    "oom": "ran out of memory",
    "nan": "NaN",
    "bad_module": "network module does not exist",
    "dataset_schema": "rejected the dataset TOML",
    "missing_checkpoint": "base model file does not exist",
    "fp16_cpu": "precision does not work without a GPU",
    "image_too_large": "larger than the training resolution",
}


def test_every_failure_is_explained(
    training: TrainingService, sd15_model: Path, good_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_FAIL_AT_STEP", "2")
    launches = {}
    for fail in FAILURES:  # the engine queues them; each supervisor keeps the environment of its submit
        monkeypatch.setenv("FAKE_TRAINER_FAIL", fail)
        launches[fail] = training.start(smoke_config(sd15_model, "training.max_train_steps=3"), "demo")
    for fail, title in FAILURES.items():
        job_id = launches[fail].job.id
        assert finished(training, job_id) is JobStatus.FAILED, fail
        explanation = training.explain(job_id)
        assert explanation is not None and title in explanation.title, (fail, explanation)
    oom = training.explain(launches["oom"].job.id)
    assert oom is not None and "'sd15-8gb'" in oom.fix and "memory.gradient_checkpointing = true" in oom.fix
    assert {info.name for info in list_presets()} >= {"sd15-8gb"}
    assert training.jobs.get(launches["nan"].job.id).exit_code == 0  # failed by its log, not its exit code


def test_start_refuses_without_leaving_anything(
    training: TrainingService, run_settings: Settings, sd15_model: Path, tmp_path: Path
) -> None:
    config = smoke_config(sd15_model)
    with pytest.raises(DatasetNotFound):
        training.start(config, "nope")
    dataset = make_dataset(run_settings.datasets_dir, "d", {"1_x": [(96, 96, None)]})
    (dataset / "1_x" / "img_0.caption").write_text("x")
    with pytest.raises(PreflightFailed) as caught:
        training.start(config, "d")
    assert any("another extension" in problem for problem in caught.value.problems)
    bare = Settings(
        workspace=run_settings.workspace, sd_scripts=tmp_path / "none", trainer_python=tmp_path / "none"
    )
    with pytest.raises(TrainerMissing):
        TrainingService(bare, build_services(bare).jobs).start(config, "d", preflight=False)
    assert list(run_settings.outputs_dir.iterdir()) == [] and training.runs() == []


def test_resume_refuses_a_running_job(
    training: TrainingService, sd15_model: Path, good_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_STEP_SECONDS", "0.3")
    launch = training.start(smoke_config(sd15_model, "training.max_train_steps=100"), "demo")
    with pytest.raises(JobStateError):
        training.resume(launch.job.id)
    training.stop(launch.job.id)
    assert finished(training, launch.job.id) is JobStatus.STOPPED


def test_a_space_without_a_gpu_refuses_to_train_and_says_it_is_a_dry_run(
    run_settings: Settings, sd15_model: Path, good_dataset: Path
) -> None:
    space = dataclasses.replace(run_settings, space_mode=True)
    training = TrainingService(space, build_services(space).jobs)
    config = smoke_config(sd15_model)
    assert training.check(config, "demo", gpu_available=False).preview is not None  # Check still works
    with pytest.raises(SpaceDryRun, match="dry run"):
        training.start(config, "demo", gpu_available=False)
    assert training.runs() == [] and list(space.outputs_dir.iterdir()) == []
