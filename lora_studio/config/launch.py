"""The command that starts training: the trainer venv's Python running ``accelerate launch``.

Pure argv builders (lists, never shell strings), plus where the trainer lives. Accelerate gets
every value explicitly: without them it prints a warning and turns on multi-GPU by itself when
several GPUs are visible (shared/reference/sd-scripts.md §5).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lora_studio.config.training import TrainingConfig
from lora_studio.config.training_parts import LaunchSettings, MixedPrecision
from lora_studio.core.errors import TrainerMissing
from lora_studio.core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOUT = REPO_ROOT / "trainer" / "sd-scripts"
DEFAULT_VENV = REPO_ROOT / "trainer" / "venv"
# `python -m accelerate.commands.launch` is `accelerate launch` without relying on the venv's bin/ scripts.
ACCELERATE_LAUNCH = ("-m", "accelerate.commands.launch")
# Unwrapped rich log lines and unbuffered stdout: the log parser sees whole lines when they happen.
TRAIN_ENV = {"PYTHONUNBUFFERED": "1", "COLUMNS": "250"}


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@dataclass(frozen=True)
class TrainerPaths:
    """Where sd-scripts and the interpreter that runs it are."""

    checkout: Path
    python: Path

    def script(self, name: str) -> Path:
        return self.checkout / name


def trainer_paths(settings: Settings) -> TrainerPaths:
    """The configured checkout and interpreter (LORA_STUDIO_SD_SCRIPTS / _TRAINER_PYTHON), else trainer/."""
    return TrainerPaths(
        checkout=settings.sd_scripts or DEFAULT_CHECKOUT,
        python=settings.trainer_python or venv_python(DEFAULT_VENV),
    )


def trainer_problems(paths: TrainerPaths, script: str = "train_network.py") -> list[str]:
    """What is missing for a real launch (empty when the trainer looks installed)."""
    problems = []
    if not paths.script(script).is_file():
        problems.append(f"no sd-scripts checkout with {script} at {paths.checkout}")
    if not paths.python.is_file():
        problems.append(f"no trainer Python at {paths.python}")
    return problems


def require_trainer(paths: TrainerPaths, script: str = "train_network.py") -> None:
    """Raise TrainerMissing with what to do when sd-scripts or its venv is absent."""
    problems = trainer_problems(paths, script)
    if problems:
        raise TrainerMissing(
            "sd-scripts is not installed: " + "; ".join(problems) + ".",
            hint="Run `python -m trainer.install` (or set LORA_STUDIO_SD_SCRIPTS and LORA_STUDIO_TRAINER_PYTHON).",
        )


def accelerate_args(launch: LaunchSettings, *, mixed_precision: MixedPrecision) -> list[str]:
    """``accelerate launch`` options: processes, threads, precision, GPUs, machines."""
    args = [
        "--num_processes", str(launch.num_processes),
        "--num_machines", str(launch.num_machines),
        "--num_cpu_threads_per_process", str(launch.num_cpu_threads_per_process),
        "--mixed_precision", mixed_precision,  # must match the TOML's mixed_precision
        "--dynamo_backend", "no",
    ]  # fmt: skip
    if launch.num_processes > 1 or launch.num_machines > 1:
        args.append("--multi_gpu")
    if launch.gpu_ids is not None:
        args += ["--gpu_ids", ",".join(str(gpu) for gpu in launch.gpu_ids)]
    if launch.num_machines > 1:
        args += ["--machine_rank", str(launch.machine_rank)]
        if launch.main_process_ip is not None:
            args += ["--main_process_ip", launch.main_process_ip]
        if launch.main_process_port is not None:
            args += ["--main_process_port", str(launch.main_process_port)]
    return args


def train_argv(
    config: TrainingConfig, *, paths: TrainerPaths, config_file: Path, dataset_config: Path
) -> list[str]:
    """The full training command for ``config``: python -m accelerate launch ... <script> --config_file ..."""
    return [
        str(paths.python),
        *ACCELERATE_LAUNCH,
        *accelerate_args(config.launch, mixed_precision=config.training.mixed_precision),
        str(paths.script(config.script)),
        "--config_file",
        str(config_file),
        "--dataset_config",
        str(dataset_config),
    ]


def install_argv(
    python: str, *, system_site_packages: bool = False, target_dir: Path | None = None
) -> list[str]:
    """The trainer installer as a job command (run with the repository root as cwd)."""
    argv = [python, "-m", "trainer.install"]
    if system_site_packages:
        argv.append("--system-site-packages")
    if target_dir is not None:
        argv += ["--dir", str(target_dir)]
    return argv
