"""A training job's run folder, ``runs/<job id>/``: everything needed to reproduce it, written before it starts.

Beside the job engine's record and log it holds the rendered TOMLs and prompts, our own config, the
exact argv, the sd-scripts commit and the trainer venv's package versions, a dataset manifest (files,
sizes, hashes, a captions snapshot) and ``run.json``. What the run makes (LoRA files, samples, saved
states, TensorBoard logs) goes to ``outputs/<output name>-<time>/``, which outlives the job's record:
deleting a job from the list never deletes a LoRA. A resumed job has its own run folder and writes
into the same output folder as the run it continues.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

import lora_studio
from lora_studio.config.concepts import Concept
from lora_studio.config.launch import TrainerPaths
from lora_studio.config.presets import config_to_toml
from lora_studio.config.render import RenderedRun, RenderPaths
from lora_studio.config.training import TrainingConfig
from lora_studio.core.atomic import write_json_atomic, write_text_atomic
from lora_studio.core.layout import caption_path, iter_images
from lora_studio.core.paths import safe_name
from lora_studio.core.types import ModelFamily

RUN_FILE = "run.json"
TRAIN_TOML = "config.toml"
DATASET_TOML = "dataset.toml"
PROMPTS_TXT = "sample_prompts.txt"
CONFIG_COPY = "training_config.toml"
ARGV_JSON = "argv.json"
COMMAND_TXT = "command.txt"
VERSIONS_JSON = "versions.json"
MANIFEST_JSON = "dataset_manifest.json"
TENSORBOARD_DIR = "tensorboard"
SAMPLES_SUBDIR = "sample"  # sd-scripts writes sample images to <output_dir>/sample/
# Package versions come from importlib.metadata inside the trainer venv: ~0.3 s, unlike `pip list`.
_VERSIONS_CODE = (
    "import importlib.metadata as m, json, sys; "
    "json.dump({d.metadata['Name']: d.version for d in m.distributions()}, sys.stdout)"
)
_SHA = re.compile(r"^[0-9a-f]{40}$")
_HASH_CHUNK = 1024 * 1024


class RunInfo(BaseModel):
    """``run.json``: the dataset and output folder of one training job, and what a resume continues."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[2] = 2
    job_id: str
    dataset: str
    family: ModelFamily
    output_name: str
    output_dir: str
    created_at: float
    resumes: str | None = Field(default=None, description="the job whose saved state this one continues")
    state: str | None = Field(default=None, description="that saved state folder")


def new_run_name(output_name: str, now: float | None = None) -> str:
    """``<output name>-<YYYYmmdd-HHMMSS>``: sorts by time within a name and stays a safe folder name."""
    return safe_name(f"{output_name}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}")


def render_paths(run_dir: Path, output_dir: Path) -> RenderPaths:
    """Where the trainer reads and writes (absolute, so the cwd never matters)."""
    return RenderPaths(
        output_dir=str(output_dir),
        logging_dir=str(output_dir / TENSORBOARD_DIR),
        sample_prompts=str(run_dir / PROMPTS_TXT),
    )


def write_bundle(
    run_dir: Path,
    *,
    info: RunInfo,
    config: TrainingConfig,
    rendered: RenderedRun,
    argv: Sequence[str],
    dataset_dir: Path,
    concepts: Sequence[Concept],
    trainer: TrainerPaths,
) -> None:
    """Write every file of the bundle into the job's new ``run_dir`` (atomic writes)."""
    write_text_atomic(run_dir / TRAIN_TOML, rendered.train_toml)
    write_text_atomic(run_dir / DATASET_TOML, rendered.dataset_toml)
    if rendered.prompts is not None:
        write_text_atomic(run_dir / PROMPTS_TXT, rendered.prompts)
    write_text_atomic(run_dir / CONFIG_COPY, config_to_toml(config))
    write_json_atomic(run_dir / ARGV_JSON, list(argv))
    write_text_atomic(run_dir / COMMAND_TXT, shlex.join(argv) + "\n")
    write_json_atomic(
        run_dir / MANIFEST_JSON, dataset_manifest(dataset_dir, concepts, config.dataset.caption_extension)
    )
    write_json_atomic(run_dir / VERSIONS_JSON, versions(trainer))
    write_json_atomic(run_dir / RUN_FILE, info.model_dump(mode="json"))


def dataset_manifest(
    dataset_dir: Path, concepts: Sequence[Concept], caption_extension: str
) -> dict[str, Any]:
    """Every training image with its size, SHA-256 and caption text at launch time."""
    files = []
    for concept in concepts:
        for image in iter_images(Path(concept.image_dir)):
            caption_file = caption_path(image, caption_extension)
            caption = caption_file.read_text("utf-8", errors="replace") if caption_file.is_file() else None
            files.append(
                {
                    "path": image.relative_to(dataset_dir).as_posix(),
                    "size": image.stat().st_size,
                    "sha256": file_sha256(image),
                    "caption": caption,
                }
            )
    return {
        "version": 1,
        "dataset_dir": str(dataset_dir),
        "caption_extension": caption_extension,
        "concepts": [{"folder": Path(c.image_dir).name, "repeats": c.repeats} for c in concepts],
        "image_count": len(files),
        "files": files,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def versions(trainer: TrainerPaths, *, run: Callable[..., Any] = subprocess.run) -> dict[str, Any]:
    """lora_studio's version, the sd-scripts commit and the trainer venv's packages (never raises)."""
    result: dict[str, Any] = {
        "lora_studio": lora_studio.__version__,
        "sd_scripts": {"checkout": str(trainer.checkout), "commit": sd_scripts_commit(trainer.checkout)},
        "trainer_python": str(trainer.python),
    }
    try:
        done = run(versions_argv(trainer.python), capture_output=True, text=True, timeout=60, check=True)
        result["packages"] = dict(sorted(json.loads(done.stdout).items(), key=lambda kv: kv[0].lower()))
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        result["packages_error"] = f"could not list the trainer's packages: {error}"
    return result


def versions_argv(python: Path) -> list[str]:
    return [str(python), "-c", _VERSIONS_CODE]


def sd_scripts_commit(checkout: Path) -> str | None:
    """The checkout's HEAD commit read from its git files (no git binary needed); None if unreadable."""
    git = checkout / ".git"
    try:
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            git = (checkout / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if _SHA.match(head):
            return head
        ref = head.removeprefix("ref:").strip()
        loose = git / ref
        if loose.is_file():
            return loose.read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _SHA.match(sha):
                return sha
    except (OSError, IndexError):
        return None
    return None


def read_run_info(run_dir: Path) -> RunInfo:
    return RunInfo.model_validate_json((run_dir / RUN_FILE).read_bytes())
