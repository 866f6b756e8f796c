"""What Start would run, shown before it runs: the training TOML, the dataset TOML, the sample prompts and
the exact command, rendered by the same calls as a real start (``runs.start_run``) but written nowhere.

The run folder (``runs/<job id>/``) is only named at Start, so a preview shows ``<job id>`` in its
place; the output folder is the one a start at this moment would create.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from lora_studio.config.concepts import scan_concepts
from lora_studio.config.launch import TrainerPaths, train_argv, trainer_problems
from lora_studio.config.render import check_rendered, render_run
from lora_studio.config.training import TrainingConfig
from lora_studio.config.training_rules import launch_problems
from lora_studio.core.errors import LoraStudioError
from lora_studio.services.training import bundle
from lora_studio.services.training.doctor import DoctorReport

NEW_JOB_ID = "<job id>"


@dataclass(frozen=True)
class Preview:
    """The files and the command a start would produce; ``notes`` say what still stops a real start."""

    train_toml: str
    dataset_toml: str
    prompts: str | None
    argv: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def command(self) -> str:
        """The argv as one line a person can copy into a shell."""
        return shlex.join(self.argv)


@dataclass(frozen=True)
class CheckResult:
    """The pre-flight report and the preview; the preview is None (with the reason) when it cannot render."""

    report: DoctorReport
    preview: Preview | None
    preview_error: str | None = None


def preview_run(
    config: TrainingConfig,
    *,
    dataset_dir: Path,
    runs_dir: Path,
    outputs_dir: Path,
    trainer: TrainerPaths,
    gpu_available: bool,
) -> Preview:
    """Render ``config`` over the dataset exactly as Start would (nothing is written).

    Raises:
        InvalidInput: the dataset has no concept folder with images.
        ConfigInvalid / UnknownTrainerArgs: the rendered files would be rejected by sd-scripts.
    """
    concepts = scan_concepts(dataset_dir)
    # The job id is made at Start: the preview names the run folder with a placeholder.
    run_dir = runs_dir / NEW_JOB_ID
    output_dir = outputs_dir / bundle.new_run_name(config.saving.output_name)
    rendered = render_run(config, concepts, bundle.render_paths(run_dir, output_dir))
    check_rendered(rendered)
    argv = train_argv(
        config,
        paths=trainer,
        config_file=run_dir / bundle.TRAIN_TOML,
        dataset_config=run_dir / bundle.DATASET_TOML,
    )
    notes = launch_problems(config, gpu_available=gpu_available) + trainer_problems(trainer, config.script)
    return Preview(rendered.train_toml, rendered.dataset_toml, rendered.prompts, tuple(argv), tuple(notes))


def check_run(
    report: DoctorReport,
    config: TrainingConfig,
    *,
    dataset_dir: Path,
    runs_dir: Path,
    outputs_dir: Path,
    trainer: TrainerPaths,
    gpu_available: bool,
) -> CheckResult:
    """The doctor's report with the preview; a preview that cannot render keeps the report visible."""
    try:
        preview = preview_run(
            config,
            dataset_dir=dataset_dir,
            runs_dir=runs_dir,
            outputs_dir=outputs_dir,
            trainer=trainer,
            gpu_available=gpu_available,
        )
    except LoraStudioError as error:  # shown next to the report, which already says what to fix
        return CheckResult(report, None, str(error))
    return CheckResult(report, preview)
