"""Start and resume training runs: validate -> render -> check -> write the bundle -> JobSpec -> submit.

The job id exists only after ``submit``, so the bundle lives in a folder of its own
(``outputs/<run name>/``) that is the job's cwd; ``JobSpec.meta["run_dir"]`` points back to it.
"""

from __future__ import annotations

import glob
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lora_studio.config.concepts import scan_concepts
from lora_studio.config.launch import TRAIN_ENV, TrainerPaths, require_trainer, train_argv
from lora_studio.config.render import check_rendered, render_run
from lora_studio.config.training import TrainingConfig, config_invalid, validate_training_config
from lora_studio.config.training_rules import launch_problems
from lora_studio.core.errors import AlreadyExists
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import FailRule, JobRecord, JobSpec, SuccessRules
from lora_studio.services.jobs import JobsService
from lora_studio.services.training import bundle
from lora_studio.services.training.bundle import RunInfo

PROGRESS_DESC = "steps"
NO_DATA = FailRule(
    pattern=r"No data found\. Please verify arguments",
    reason="sd-scripts found no training images (wrong folder layout)",
)
NAN_LOSS = FailRule(pattern=r"avr_loss=nan", reason="the loss became NaN (training diverged)")
AREA = "training"


@dataclass(frozen=True)
class Launch:
    """What a start or resume produced."""

    job: JobRecord
    run_dir: Path


def checked_config(config: TrainingConfig, *, gpu_available: bool) -> TrainingConfig:
    """Validate again (sections are mutable) and apply the machine rules, model files included.

    Raises:
        ConfigInvalid: the schema, a cross-field rule or a launch rule is broken.
    """
    config = validate_training_config(config.model_dump())
    problems = launch_problems(config, gpu_available=gpu_available)
    if problems:
        raise config_invalid(problems, "This config cannot train yet")
    return config


def training_spec(
    config: TrainingConfig, *, run_dir: Path, argv: Sequence[str], dataset: str, suffix: str = ""
) -> JobSpec:
    """The job of one run (pure): sd-scripts with the run folder as cwd, judged by its log and its LoRA."""
    name, ext = config.saving.output_name, config.saving.save_model_as
    width, height = config.dataset.resolution
    title = f"Train {name} on {dataset}" + (f" ({suffix})" if suffix else "")
    return JobSpec(
        kind=JobKind.TRAIN,
        title=title,
        argv=tuple(argv),
        cwd=str(run_dir),
        env=dict(TRAIN_ENV),
        success=SuccessRules(
            fail_patterns=(NO_DATA, NAN_LOSS),
            require_files=(f"{bundle.OUTPUT_DIR}/{glob.escape(name)}.{ext}",),
        ),
        progress_desc=PROGRESS_DESC,
        imports_lora_studio=False,
        meta={
            "area": AREA,
            "run_dir": str(run_dir),
            "dataset": dataset,
            "family": config.family.value,
            "model": config.model.base or "",
            "output_name": name,
            "resolution": f"{width}x{height}",
            "batch_size": str(config.training.batch_size),
        },
    )


def start_run(
    jobs: JobsService,
    *,
    config: TrainingConfig,
    dataset: str,
    dataset_dir: Path,
    outputs_dir: Path,
    trainer: TrainerPaths,
) -> Launch:
    """Render and write a new run folder, then submit its job (the config must be checked already).

    Raises:
        TrainerMissing, ConfigInvalid / UnknownTrainerArgs (render checks), JobStartFailed.
    """
    require_trainer(trainer, config.script)
    concepts = scan_concepts(dataset_dir)
    run_dir = _create_run_dir(outputs_dir, config.saving.output_name)
    try:
        rendered = render_run(config, concepts, bundle.render_paths(run_dir))
        check_rendered(rendered)
        argv = _argv(config, trainer, run_dir)
        info = RunInfo(
            name=run_dir.name,
            dataset=dataset,
            family=config.family,
            output_name=config.saving.output_name,
            created_at=time.time(),
        )
        bundle.write_bundle(
            run_dir,
            info=info,
            config=config,
            rendered=rendered,
            argv=argv,
            dataset_dir=dataset_dir,
            concepts=concepts,
            trainer=trainer,
        )
        job = jobs.submit(training_spec(config, run_dir=run_dir, argv=argv, dataset=dataset))
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # our new folder: no half-written run without a job
        raise
    bundle.update_run_info(run_dir, lambda i: i.model_copy(update={"job_ids": [*i.job_ids, job.id]}))
    return Launch(job, run_dir)


def resume_run(
    jobs: JobsService,
    *,
    run_dir: Path,
    state: Path,
    config: TrainingConfig,
    dataset_dir: Path,
    trainer: TrainerPaths,
) -> Launch:
    """Submit a new job in an existing run folder that continues from the saved ``state``.

    The original config gets ``resume = <state>``; its files are written with a ``resumeN`` suffix so
    the first job's files stay as they were.
    """
    info = bundle.read_run_info(run_dir)
    suffix = f"resume{len(info.resumed_from) + 1}"
    config = config.model_copy(update={"extra": {**config.extra, "resume": str(state)}})
    require_trainer(trainer, config.script)
    concepts = scan_concepts(dataset_dir)
    rendered = render_run(config, concepts, bundle.render_paths(run_dir))
    check_rendered(rendered)
    argv = _argv(config, trainer, run_dir, suffix)
    bundle.write_rendered(run_dir, rendered, config, argv, suffix=suffix)
    job = jobs.submit(training_spec(config, run_dir=run_dir, argv=argv, dataset=info.dataset, suffix=suffix))
    bundle.update_run_info(
        run_dir,
        lambda i: i.model_copy(
            update={"job_ids": [*i.job_ids, job.id], "resumed_from": {**i.resumed_from, job.id: str(state)}}
        ),
    )
    return Launch(job, run_dir)


def _create_run_dir(outputs_dir: Path, output_name: str) -> Path:
    """Make a new run folder, never reusing one (a second start within the same second waits)."""
    for _attempt in range(3):
        run_dir = outputs_dir / bundle.new_run_name(output_name)
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            time.sleep(1.0)
    raise AlreadyExists("run folder", run_dir.name)


def _argv(config: TrainingConfig, trainer: TrainerPaths, run_dir: Path, suffix: str = "") -> list[str]:
    return train_argv(
        config,
        paths=trainer,
        config_file=bundle.bundle_file(run_dir, bundle.TRAIN_TOML, suffix),
        dataset_config=bundle.bundle_file(run_dir, bundle.DATASET_TOML, suffix),
    )
