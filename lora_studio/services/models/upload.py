"""Uploading a trained LoRA to a Hub repository the person owns, as a job (``lora_studio.workers.upload``).

Pure apart from writing the model card it builds: the token is never in argv, meta or the card; the worker
finds it where downloads do (``HF_TOKEN`` or huggingface_hub's token store, inherited by the subprocess).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from lora_studio.core.atomic import write_text_atomic
from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.jobs.model import JobSpec
from lora_studio.services.models.local import LocalModel
from lora_studio.services.models.rows import ERROR_PREFIX, last_with_prefix

WORKER_MODULE = "lora_studio.workers.upload"
_UPLOADED_PREFIX = "uploaded: "
_CARD_TAGS = 12


class HubUpload(BaseModel):
    """Which LoRA output goes where; ``lora`` is its path relative to the outputs folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lora: str = Field(min_length=1)
    repo_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    path_in_repo: str | None = None
    private: bool = False
    model_card: bool = True  # add a README.md with the ss_* facts unless the repo has one


def check_path_in_repo(path: str) -> str:
    """A repository path: relative, ``/``-separated, no ``..`` or hidden parts.

    Raises:
        InvalidInput: anything else.
    """
    parts = PurePosixPath(path.strip()).parts
    if (
        not parts
        or path.startswith("/")
        or any(part in ("..", ".") or part.startswith(".") for part in parts)
    ):
        raise InvalidInput(
            f"{path!r} is not a usable path in the repository.",
            hint="Use a plain name such as my-lora.safetensors, or a folder path such as loras/my-lora.safetensors.",
        )
    return "/".join(parts)


def upload_job_spec(
    settings: Settings, request: HubUpload, model: LocalModel, *, python: str = sys.executable
) -> JobSpec:
    """The job that uploads ``model`` (an output LoRA, already resolved) to ``request.repo_id``.

    Raises:
        InvalidInput: a bad path in the repository.
    """
    path_in_repo = check_path_in_repo(request.path_in_repo or model.name)
    argv = [python, "-m", WORKER_MODULE, "--file", str(model.path), "--repo-id", request.repo_id]
    argv += ["--path-in-repo", path_in_repo]
    if request.private:
        argv.append("--private")
    if request.model_card:
        card = settings.cache_dir / "upload-cards" / f"{uuid.uuid4().hex}.md"
        card.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(card, model_card(model, path_in_repo))
        argv += ["--card-file", str(card)]
    return JobSpec(
        kind=JobKind.UPLOAD,
        title=f"Upload {model.name} to {request.repo_id}",
        argv=tuple(argv),
        meta={
            "repo_id": request.repo_id,
            "path_in_repo": path_in_repo,
            "file": str(model.path),
        },
    )


def model_card(model: LocalModel, path_in_repo: str) -> str:
    """A README.md for the repository: YAML front matter the Hub accepts, then the LoRA's ``ss_*`` facts."""
    lora = model.lora
    tags = ["lora", "lora-studio", "text-to-image"] + ([model.family.value] if model.family else [])
    front = ["---", f"tags: {json.dumps(tags)}", "library_name: kohya-ss", "---", ""]
    facts: list[tuple[str, object]] = [("file", f"`{path_in_repo}`"), ("detected", model.detection.label)]
    if lora is not None:
        facts += [
            ("base model", lora.base_model),
            ("base model version", lora.base_model_version or lora.architecture),
            ("network", lora.network_module),
            ("dim / alpha", f"{lora.network_dim} / {lora.network_alpha}"),
            ("steps", lora.steps),
            ("epochs", f"{lora.epoch} of {lora.num_epochs}" if lora.epoch else lora.num_epochs),
            ("learning rate", lora.learning_rate),
            ("resolution", lora.resolution),
            ("finished", lora.training_finished_at),
        ]
    rows = [f"| {name} | {_cell(value)} |" for name, value in facts if value not in (None, "")]
    body = [f"# {Path(path_in_repo).stem}", "", "A LoRA trained with LoRA Studio (kohya-ss sd-scripts).", ""]
    body += ["| | |", "|---|---|", *rows, ""]
    if lora is not None and lora.tag_frequency:
        tags_line = ", ".join(f"`{_cell(tag)}` ({count})" for tag, count in lora.top_tags(_CARD_TAGS))
        body += ["Most frequent training tags: " + tags_line, ""]
    return "\n".join(front + body)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def upload_outcome(status: JobStatus, reason: str | None, log_lines: Sequence[str]) -> str:
    """One markdown line on how an upload job ended ("" while it runs)."""
    if status.is_active:
        return ""
    if status is JobStatus.SUCCEEDED:
        url = last_with_prefix(log_lines, _UPLOADED_PREFIX)
        return f"**Uploaded:** {url}" if url else "**Uploaded.**"
    if status is JobStatus.STOPPED:
        return "**Upload stopped.** Start it again; nothing was committed to the repository."
    explanation = last_with_prefix(log_lines, ERROR_PREFIX)
    return f"**Upload failed:** {explanation or reason or 'see the log above.'}"
