"""The "Install sd-scripts" job: ``python -m trainer.install`` run from the repository root."""

from __future__ import annotations

from pathlib import Path

from lora_studio.config.launch import TrainerPaths, install_argv
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import JobSpec

INSTALL_TITLE = "Install sd-scripts"


def install_spec(
    python: str,
    *,
    repo_root: Path,
    trainer: TrainerPaths | None = None,
    system_site_packages: bool = False,
) -> JobSpec:
    """The installer as a job (pure). ``trainer``: a configured checkout and interpreter, which the
    installer then only verifies (it reads them from the environment, so they travel in ``env``)."""
    env = {"PYTHONUNBUFFERED": "1"}
    if trainer is not None:
        env |= {
            "LORA_STUDIO_SD_SCRIPTS": str(trainer.checkout),
            "LORA_STUDIO_TRAINER_PYTHON": str(trainer.python),
        }
    return JobSpec(
        kind=JobKind.INSTALL,
        title=INSTALL_TITLE,
        argv=tuple(install_argv(python, system_site_packages=system_site_packages)),
        cwd=str(repo_root),
        env=env,
        needs_gpu=False,
        meta={"area": "training"},
    )
