"""Start and resume training runs: validate -> render -> check -> write the bundle -> JobSpec -> submit.

The job engine reserves the job's id and folder first (``submit_prepared``), so the bundle is written
into ``runs/<id>/``, the job's cwd; LoRA files and samples go to an output folder under ``outputs/``
(``JobSpec.meta["output_dir"]``). Records from before that layout kept both in
``outputs/<run name>/`` (``meta["run_dir"]``, outputs in its ``output/``): ``run_folders`` reads both.
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
from lora_studio.core.errors import AlreadyExists, InvalidInput, PathEscape
from lora_studio.core.paths import ensure_inside
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import FailRule, JobRecord, JobSpec, SuccessRules
from lora_studio.services.jobs import JobsService
from lora_studio.services.training import bundle
from lora_studio.services.training.bundle import RunInfo

LEGACY_OUTPUT_DIR = "output"  # the outputs sub-folder of a run folder from before runs/<id>/ bundles

PROGRESS_DESC = "steps"
NO_DATA = FailRule(
    pattern=r"No data found\. Please verify arguments",
    reason="sd-scripts found no training images (wrong folder layout)",
)
NAN_LOSS = FailRule(pattern=r"avr_loss=nan", reason="the loss became NaN (training diverged)")
AREA = "training"


@dataclass(frozen=True)
class Launch:
    """What a start or resume produced: the job, its run folder (bundle) and its output folder."""

    job: JobRecord
    run_dir: Path
    output_dir: Path


@dataclass(frozen=True)
class RunFolders:
    bundle: Path  # TOMLs, argv, versions, manifest (and, in runs/<id>/, the job's record and log)
    output: Path  # LoRA files, sample/, saved states, tensorboard/


def run_folders(record: JobRecord, *, runs_dir: Path, outputs_dir: Path) -> RunFolders:
    """Where a training job's bundle and outputs are, checked to lie in the workspace.

    Raises:
        InvalidInput: not a training run, or its record points outside the workspace.
    """
    meta = record.spec.meta
    if record.kind is not JobKind.TRAIN or meta.get("area") != AREA:
        raise InvalidInput(f"Job {record.id} is not a training run.")
    try:
        if "output_dir" in meta:
            return RunFolders(runs_dir / record.id, ensure_inside(outputs_dir, Path(meta["output_dir"])))
        if not meta.get("run_dir"):
            raise InvalidInput(f"Job {record.id} has no run folder on record.")
        legacy = ensure_inside(outputs_dir, Path(meta["run_dir"]))
    except PathEscape:
        raise InvalidInput(f"Job {record.id} points outside the outputs folder; refused.") from None
    return RunFolders(legacy, legacy / LEGACY_OUTPUT_DIR)


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
    config: TrainingConfig,
    *,
    run_dir: Path,
    output_dir: Path,
    argv: Sequence[str],
    dataset: str,
    resumes: str | None = None,
) -> JobSpec:
    """The job of one run (pure): sd-scripts with the run folder as cwd, judged by its log and its LoRA."""
    name, ext = config.saving.output_name, config.saving.save_model_as
    width, height = config.dataset.resolution
    title = f"Train {name} on {dataset}" + (f" (resumes {resumes})" if resumes else "")
    return JobSpec(
        kind=JobKind.TRAIN,
        title=title,
        argv=tuple(argv),
        cwd=str(run_dir),
        env=dict(TRAIN_ENV),
        success=SuccessRules(
            fail_patterns=(NO_DATA, NAN_LOSS),
            require_files=(f"{glob.escape(str(output_dir))}/{glob.escape(name)}.{ext}",),
        ),
        progress_desc=PROGRESS_DESC,
        imports_lora_studio=False,
        meta={
            "area": AREA,
            "run_dir": str(run_dir),
            "output_dir": str(output_dir),
            "dataset": dataset,
            "family": config.family.value,
            "model": config.model.base or "",
            "output_name": name,
            "resolution": f"{width}x{height}",
            "batch_size": str(config.training.batch_size),
            **({"resumes": resumes} if resumes else {}),
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
    """Make a new output folder, write the bundle into the job's run folder and submit the job (the
    config must be checked already).

    Raises:
        TrainerMissing, ConfigInvalid / UnknownTrainerArgs (render checks), JobStartFailed.
    """
    require_trainer(trainer, config.script)
    output_dir = _create_output_dir(outputs_dir, config.saving.output_name)
    try:
        job = _submit(jobs, config, dataset, dataset_dir, output_dir, trainer)
    except BaseException:
        shutil.rmtree(output_dir, ignore_errors=True)  # our new, still empty folder
        raise
    return Launch(job, Path(job.spec.cwd or ""), output_dir)


def resume_run(
    jobs: JobsService,
    *,
    resumes: JobRecord,
    output_dir: Path,
    state: Path,
    config: TrainingConfig,
    dataset_dir: Path,
    trainer: TrainerPaths,
) -> Launch:
    """Submit a new job, with a run folder of its own, that continues ``resumes`` from its saved
    ``state`` and writes into the same output folder."""
    config = config.model_copy(update={"extra": {**config.extra, "resume": str(state)}})
    require_trainer(trainer, config.script)
    dataset = resumes.spec.meta.get("dataset", "")
    job = _submit(jobs, config, dataset, dataset_dir, output_dir, trainer, resumes=(resumes.id, state))
    return Launch(job, Path(job.spec.cwd or ""), output_dir)


def _submit(
    jobs: JobsService,
    config: TrainingConfig,
    dataset: str,
    dataset_dir: Path,
    output_dir: Path,
    trainer: TrainerPaths,
    *,
    resumes: tuple[str, Path] | None = None,
) -> JobRecord:
    concepts = scan_concepts(dataset_dir)

    def build(job_id: str, run_dir: Path) -> JobSpec:
        rendered = render_run(config, concepts, bundle.render_paths(run_dir, output_dir))
        check_rendered(rendered)
        argv = _argv(config, trainer, run_dir)
        info = RunInfo(
            job_id=job_id,
            dataset=dataset,
            family=config.family,
            output_name=config.saving.output_name,
            output_dir=str(output_dir),
            created_at=time.time(),
            resumes=resumes[0] if resumes else None,
            state=str(resumes[1]) if resumes else None,
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
        return training_spec(
            config,
            run_dir=run_dir,
            output_dir=output_dir,
            argv=argv,
            dataset=dataset,
            resumes=resumes[0] if resumes else None,
        )

    return jobs.submit_prepared(JobKind.TRAIN, build)


def _create_output_dir(outputs_dir: Path, output_name: str) -> Path:
    """Make a new output folder, never reusing one (a second start within the same second waits)."""
    for _attempt in range(3):
        output_dir = outputs_dir / bundle.new_run_name(output_name)
        try:
            output_dir.mkdir(parents=True)
            return output_dir
        except FileExistsError:
            time.sleep(1.0)
    raise AlreadyExists("output folder", output_dir.name)


def _argv(config: TrainingConfig, trainer: TrainerPaths, run_dir: Path) -> list[str]:
    return train_argv(
        config,
        paths=trainer,
        config_file=run_dir / bundle.TRAIN_TOML,
        dataset_config=run_dir / bundle.DATASET_TOML,
    )
