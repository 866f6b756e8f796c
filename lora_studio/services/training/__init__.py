"""Training runs: pre-flight doctor, launch, watch (progress, loss, samples, LoRA files), stop, resume,
and the failure explainer. ``TrainingService(settings, jobs)`` is what the UI and the CLI call.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from lora_studio.config.launch import REPO_ROOT, TrainerPaths, trainer_paths, trainer_problems
from lora_studio.config.presets import (
    config_from_toml,
    list_presets,
    list_user_configs,
    load_preset,
    load_user_config,
    save_user_config,
)
from lora_studio.config.training import TrainingConfig
from lora_studio.core.errors import (
    ConfigInvalid,
    DatasetNotFound,
    JobStateError,
    NotFound,
    PreflightFailed,
    SpaceDryRun,
    TrainingStateNotFound,
)
from lora_studio.core.paths import child_path, safe_name
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.jobs.follow import LogFollower
from lora_studio.jobs.model import JobRecord
from lora_studio.jobs.outcome import read_tail_lines
from lora_studio.jobs.progress import Progress
from lora_studio.services.jobs import JobsService
from lora_studio.services.models.exports import export_file
from lora_studio.services.system import Gpu
from lora_studio.services.training import bundle, outputs, runs, user_configs
from lora_studio.services.training.choices import PresetChoice, preset_menu
from lora_studio.services.training.doctor import DoctorReport, examine
from lora_studio.services.training.explain import FailureExplanation, explain_failure
from lora_studio.services.training.findings import Finding, Severity
from lora_studio.services.training.installer import install_spec
from lora_studio.services.training.outputs import LoraFile, LossPoint, SampleGrid
from lora_studio.services.training.preview import CheckResult, Preview, check_run, preview_run
from lora_studio.services.training.published import SampleImage, publish_samples
from lora_studio.services.training.runs import Launch, RunFolders, run_folders
from lora_studio.services.training.steps import StepMath

__all__ = [
    "CheckResult",
    "DoctorReport",
    "FailureExplanation",
    "Finding",
    "Launch",
    "LoraFile",
    "LossPoint",
    "PresetChoice",
    "Preview",
    "RunOutputs",
    "SampleGrid",
    "SampleImage",
    "Severity",
    "StepMath",
    "TrainingService",
]


# Workspace sub-folder of people's saved configs, and the served folder (under the cache) for samples.
CONFIGS_DIR = "configs"
SAMPLES_DIR = ("thumbs", "samples")


@dataclass(frozen=True)
class RunOutputs:
    """Everything the tab shows of one run besides its log: what a refresh while it trains reads."""

    record: JobRecord
    loss: list[LossPoint]
    samples: list[SampleImage]
    loras: list[LoraFile]
    explanation: FailureExplanation | None
    resumable: bool


class _RenderPlaces(TypedDict):
    """Where a Check or a preview renders against (keyword arguments of ``check_run``/``preview_run``)."""

    dataset_dir: Path
    runs_dir: Path
    outputs_dir: Path
    trainer: TrainerPaths


class TrainingService:
    """The training area over one workspace; jobs run through the shared job engine."""

    def __init__(self, settings: Settings, jobs: JobsService) -> None:
        self.settings = settings
        self.jobs = jobs

    @property
    def trainer(self) -> TrainerPaths:
        return trainer_paths(self.settings)

    def dataset_dir(self, dataset: str) -> Path:
        """Raises InvalidName / PathEscape for hostile names, DatasetNotFound when it does not exist."""
        folder = child_path(self.settings.datasets_dir, dataset)
        if not folder.is_dir():
            raise DatasetNotFound(dataset, hint=f"Datasets live in {self.settings.datasets_dir}.")
        return folder

    # --- before Start ----------------------------------------------------------------------------

    def doctor(
        self, config: TrainingConfig, dataset: str, *, trigger: str | None = None, gpu_available: bool = True
    ) -> DoctorReport:
        """The pre-flight panel: dataset, captions, trigger, sizes, model files, config, step math + ETA."""
        return examine(
            self.dataset_dir(dataset),
            config,
            trigger=trigger,
            gpu_available=gpu_available,
            seconds_per_step=self.measured_seconds_per_step(config),
        )

    def check(
        self, config: TrainingConfig, dataset: str, *, trigger: str | None = None, gpu_available: bool = True
    ) -> CheckResult:
        """The pre-flight report plus the preview of the files and command (the tab's "Check")."""
        report = self.doctor(config, dataset, trigger=trigger, gpu_available=gpu_available)
        return check_run(
            report,
            config,
            **self._render_places(dataset),
            gpu_available=gpu_available,
        )

    def _render_places(self, dataset: str) -> _RenderPlaces:
        """The dataset, run and output folders and trainer a Check or a preview renders against."""
        return {
            "dataset_dir": self.dataset_dir(dataset),
            "runs_dir": self.settings.runs_dir.absolute(),
            "outputs_dir": self.settings.outputs_dir.absolute(),
            "trainer": self.trainer,
        }

    def preview(self, config: TrainingConfig, dataset: str, *, gpu_available: bool = True) -> Preview:
        """The training TOML, dataset TOML, prompts and exact command a start would use (a dry run).

        Raises:
            DatasetNotFound, InvalidInput (no concept folder), ConfigInvalid / UnknownTrainerArgs.
        """
        return preview_run(
            config,
            **self._render_places(dataset),
            gpu_available=gpu_available,
        )

    def trainer_problems(self, script: str = "train_network.py") -> list[str]:
        """What is missing for a real launch; empty when sd-scripts and its Python are there."""
        return trainer_problems(self.trainer, script)

    def install(self, *, system_site_packages: bool = False) -> JobRecord:
        """Start ``python -m trainer.install`` as a job (kind INSTALL); returns at once.

        Raises:
            JobStartFailed: the job could not be started.
        """
        configured = self.settings.sd_scripts is not None or self.settings.trainer_python is not None
        spec = install_spec(
            sys.executable,
            repo_root=REPO_ROOT,
            trainer=self.trainer if configured else None,
            system_site_packages=system_site_packages,
        )
        return self.jobs.submit(spec)

    # --- presets and people's own configs --------------------------------------------------------

    def preset_menu(self, gpus: Sequence[Gpu]) -> list[PresetChoice]:
        """Every preset for a dropdown; those that fit ``gpus`` (or the CPU preset without one) first."""
        return preset_menu(list_presets(), gpus)

    @property
    def configs_dir(self) -> Path:
        return self.settings.workspace / CONFIGS_DIR

    def saved_configs(self) -> list[str]:
        return list_user_configs(self.configs_dir)

    def save_config(self, config: TrainingConfig, name: str, *, overwrite: bool = False) -> Path:
        """Raises InvalidName for a name that cannot be a file name, AlreadyExists unless ``overwrite``."""
        return save_user_config(config, folder=self.configs_dir, name=name, overwrite=overwrite)

    def load_config(self, name: str) -> TrainingConfig:
        """Raises NotFound, ConfigInvalid."""
        return load_user_config(folder=self.configs_dir, name=name)

    def import_config(self, path: Path) -> TrainingConfig:
        """An uploaded .toml config. Raises InvalidInput, ConfigInvalid."""
        return user_configs.import_config(path)

    def export_config(self, config: TrainingConfig, name: str | None = None) -> Path:
        """The config as a .toml file in a temp folder, for a download button."""
        return user_configs.export_config(config, name)

    def measured_seconds_per_step(self, config: TrainingConfig) -> float | None:
        """The speed of the newest run of the same family, resolution and batch size (None: none yet)."""
        width, height = config.dataset.resolution
        wanted = {
            "family": config.family.value,
            "resolution": f"{width}x{height}",
            "batch_size": str(config.training.batch_size),
        }
        for record in self.runs():
            if any(record.spec.meta.get(key) != value for key, value in wanted.items()):
                continue
            follower = LogFollower(self.jobs.engine.log_path(record.id), progress_desc=runs.PROGRESS_DESC)
            follower.poll()
            rate = follower.progress.rate
            if rate:
                return 1.0 / rate
        return None

    # --- launch ----------------------------------------------------------------------------------

    def start(
        self,
        config: TrainingConfig,
        dataset: str,
        *,
        trigger: str | None = None,
        gpu_available: bool = True,
        preflight: bool = True,
    ) -> Launch:
        """Check, write the job's run folder (the bundle) and submit the training job; returns at once.

        Raises:
            SpaceDryRun (a Space without a GPU), DatasetNotFound, ConfigInvalid (schema, launch rules,
            rendered keys), PreflightFailed (the doctor found errors; pass ``preflight=False`` to skip
            it), TrainerMissing, JobStartFailed.
        """
        if self.settings.space_mode and not gpu_available:
            raise SpaceDryRun(
                "This Hugging Face Space has no GPU, so training here is a dry run: Check shows the "
                "pre-flight report, the TOML files and the command.",
                hint="Export the config and train on a machine with an NVIDIA GPU (see the README's "
                "deployment recipes).",
            )
        dataset_dir = self.dataset_dir(dataset)
        config = runs.checked_config(config, gpu_available=gpu_available)
        if preflight:
            report = examine(dataset_dir, config, trigger=trigger, gpu_available=gpu_available)
            if not report.ok:
                problems = [item.message for item in report.errors]
                raise PreflightFailed("The pre-flight check found problems", problems=problems)
        return runs.start_run(
            self.jobs,
            config=config,
            dataset=dataset,
            dataset_dir=dataset_dir,
            outputs_dir=self.settings.outputs_dir.absolute(),
            trainer=self.trainer,
        )

    def resume(self, job_id: str, *, gpu_available: bool = True) -> Launch:
        """Continue a finished run from its newest saved state, as a new job (with its own run folder)
        that writes into the same output folder.

        Raises:
            SpaceDryRun, JobStateError (still running), TrainingStateNotFound (no ``*-state`` folder:
            turn on saving.save_state), ConfigInvalid, TrainerMissing, JobStartFailed.
        """
        if self.settings.space_mode and not gpu_available:
            raise SpaceDryRun("This Hugging Face Space has no GPU: runs cannot be resumed here.")
        record = self.jobs.get(job_id)
        if record.status.is_active:
            raise JobStateError(job_id, record.status.value, "resume")
        output_dir = self.output_dir(job_id)
        states = outputs.saved_states(output_dir)
        if not states:
            raise TrainingStateNotFound(
                job_id,
                hint="Turn on saving.save_state (and save every N epochs or steps) to be able to resume.",
            )
        config = runs.checked_config(self.config(job_id, without_resume=True), gpu_available=gpu_available)
        return runs.resume_run(
            self.jobs,
            resumes=record,
            output_dir=output_dir,
            state=states[-1],
            config=config,
            dataset_dir=self.dataset_dir(record.spec.meta.get("dataset", "")),
            trainer=self.trainer,
        )

    def stop(self, job_id: str) -> JobRecord:
        """SIGINT first (sd-scripts may save), then the whole process group is killed after the grace."""
        return self.jobs.stop(job_id)

    # --- watching --------------------------------------------------------------------------------

    def runs(self) -> list[JobRecord]:
        """Training jobs started by this service, newest first."""
        return [
            record
            for record in self.jobs.list_jobs()
            if record.kind is JobKind.TRAIN and record.spec.meta.get("area") == runs.AREA
        ]

    def run_dir(self, job_id: str) -> Path:
        """The run folder of a training job: its bundle (TOMLs, argv, versions, manifest) and log.

        Raises:
            JobNotFound, InvalidInput (not a training run, or a record pointing outside the workspace).
        """
        return self._folders(job_id).bundle

    def output_dir(self, job_id: str) -> Path:
        """Where a training job's LoRA files, samples and saved states go (under ``outputs/``)."""
        return self._folders(job_id).output

    def _folders(self, job_id: str) -> RunFolders:
        return run_folders(
            self.jobs.get(job_id),
            runs_dir=self.settings.runs_dir.absolute(),
            outputs_dir=self.settings.outputs_dir.absolute(),
        )

    def config(self, job_id: str, *, without_resume: bool = False) -> TrainingConfig:
        """The TrainingConfig a run was started with (its own copy in the run folder); with
        ``without_resume``, minus the saved state a resumed run started from (what a new start wants)."""
        path = self.run_dir(job_id) / bundle.CONFIG_COPY
        config = config_from_toml(path.read_text("utf-8"), source=str(path))
        if without_resume and "resume" in config.extra:
            config = config.model_copy(
                update={"extra": {k: v for k, v in config.extra.items() if k != "resume"}}
            )
        return config

    def progress(self, job_id: str) -> Progress:
        """Step/total, epoch, ETA, it/s and the latest loss, parsed from the log."""
        follower = self.jobs.follower(job_id, max_lines=1)
        follower.poll()
        return follower.progress

    def loss(self, job_id: str) -> list[LossPoint]:
        """The ``avr_loss`` series for a chart."""
        return outputs.loss_series(self.jobs.log_path(job_id), runs.PROGRESS_DESC)

    def samples(self, job_id: str) -> SampleGrid:
        """Sample images so far, as rows (epoch or step) x columns (prompt index)."""
        folders = self._folders(job_id)
        prompts = outputs.read_prompts(folders.bundle / bundle.PROMPTS_TXT)
        return outputs.sample_grid(folders.output / bundle.SAMPLES_SUBDIR, prompts)

    def loras(self, job_id: str) -> list[LoraFile]:
        """Saved LoRA files (epoch/step checkpoints, then the final one) for download buttons."""
        name = self.jobs.get(job_id).spec.meta.get("output_name", "")
        return outputs.lora_files(self.output_dir(job_id), name)

    def explain(self, job_id: str) -> FailureExplanation | None:
        """A plain message with the fix for a failed run; None unless the run failed."""
        record = self.jobs.get(job_id)
        if record.status is not JobStatus.FAILED:
            return None
        try:
            config: TrainingConfig | None = self.config(job_id)
        except (OSError, ConfigInvalid):
            config = None  # a damaged run folder: the advice just gets less specific
        presets = [(info.name, load_preset(info.name)) for info in list_presets()]
        lines = read_tail_lines(self.jobs.log_path(job_id))
        found = explain_failure(lines, record.exit_code, config=config, presets=presets)
        if found is None and record.reason:
            return FailureExplanation(f"Training failed: {record.reason}", "The log has the details.")
        return found

    def run_outputs(self, job_id: str) -> RunOutputs:
        """Loss series, served samples, LoRA files, the failure explanation and whether it can resume.

        Raises:
            JobNotFound, InvalidInput (not a training run).
        """
        return RunOutputs(
            record=self.jobs.get(job_id),
            loss=self.loss(job_id),
            samples=self.sample_images(job_id),
            loras=self.loras(job_id),
            explanation=self.explain(job_id),
            resumable=self.resumable(job_id),
        )

    def resumable(self, job_id: str) -> bool:
        """A finished run with a saved state (what the Resume button needs)."""
        if self.jobs.get(job_id).status.is_active:
            return False
        return bool(outputs.saved_states(self.output_dir(job_id)))

    def sample_images(self, job_id: str) -> list[SampleImage]:
        """The samples grid as served copies (cache/thumbs/samples/<job id>/), captioned "epoch N · prompt i"."""
        folder = child_path(self.settings.cache_dir / SAMPLES_DIR[0], SAMPLES_DIR[1], safe_name(job_id))
        return publish_samples(self.samples(job_id), folder)

    def lora_download(self, job_id: str, file_name: str) -> Path:
        """A temp link to (or copy of) one of the run's saved LoRA files, for a download button.

        Raises:
            NotFound: ``file_name`` is not one of the run's LoRA files.
        """
        for lora in self.loras(job_id):
            if lora.path.name == file_name:
                return export_file(lora.path)
        raise NotFound(file_name, hint=f"Run {job_id} has no saved LoRA file of that name.")
