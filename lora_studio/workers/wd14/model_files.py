"""Which files a ``--model`` value means: a local folder, a registry id, or a Hugging Face repo id.

Downloads go to ``<models_dir>/taggers/<name>/`` through ``huggingface_hub`` (its tqdm bars land in
the job log; the token comes from ``HF_TOKEN`` or ``hf auth login``). Files already there are used
without asking the Hub, so a tagger works offline once downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from lora_studio.config.taggers import TaggerRegistry
from lora_studio.core.errors import DownloadFailed, GatedModel, LoraStudioError, ModelNotFound
from lora_studio.core.paths import child_path

MODEL_FILE = "model.onnx"
TAGS_FILE = "selected_tags.csv"
TAGGERS_FOLDER = "taggers"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")

Log = Callable[[str], None]


@dataclass(frozen=True)
class ModelFiles:
    name: str
    model: Path
    tags: Path


def _files_in(folder: Path) -> ModelFiles | None:
    model, tags = folder / MODEL_FILE, folder / TAGS_FILE
    return ModelFiles(folder.name, model, tags) if model.is_file() and tags.is_file() else None


def _looks_like_path(spec: str) -> bool:
    return spec.startswith((".", "/", "~", "\\")) or spec.count("/") > 1 or "\\" in spec or ":" in spec


def resolve_model(spec: str, models_dir: Path, registry: TaggerRegistry, log: Log) -> ModelFiles:
    """Find or download the two files that ``spec`` names.

    Raises:
        ModelNotFound: no such folder, registry id or repository (or a file is missing in it).
        GatedModel: the repository needs an accepted licence and a token.
        DownloadFailed: the Hub cannot be reached (offline) or the download broke.
    """
    folder = Path(spec).expanduser()
    if folder.is_dir():
        found = _files_in(folder)
        if found is None:
            raise ModelNotFound(
                spec, hint=f"The folder must hold {MODEL_FILE} and {TAGS_FILE} from a WD14 tagger repository."
            )
        log(f"using the local tagger in {folder}")
        return found
    if _looks_like_path(spec):
        raise ModelNotFound(spec, hint="That folder does not exist.")
    entry = registry.get(spec) or registry.by_repo(spec)
    if entry is None and not _REPO_ID.match(spec):
        raise ModelNotFound(
            spec, hint=f"Use one of {', '.join(registry.ids())}, a Hugging Face repo id, or a local folder."
        )
    repo_id = entry.repo_id if entry else spec
    name = entry.id if entry else repo_id.replace("/", "--")
    target = child_path(models_dir, TAGGERS_FOLDER, name)
    cached = _files_in(target)
    if cached is not None:
        log(f"using the downloaded tagger {repo_id} in {target}")
        return ModelFiles(name, cached.model, cached.tags)
    for filename in (TAGS_FILE, MODEL_FILE):
        download(repo_id, filename, target, log)
    return ModelFiles(name, target / MODEL_FILE, target / TAGS_FILE)


def download(repo_id: str, filename: str, target: Path, log: Log) -> Path:
    """Fetch one file of ``repo_id`` into ``target``, mapping Hub errors to ours (see resolve_model)."""
    log(f"downloading {filename} from https://huggingface.co/{repo_id} into {target}")
    try:
        return Path(hf_hub_download(repo_id, filename, local_dir=target))
    except Exception as error:
        raise hub_error(repo_id, filename, target, error) from error


def hub_error(repo_id: str, filename: str, target: Path, error: Exception) -> LoraStudioError:
    """One place that turns huggingface_hub's errors into messages a person can act on."""
    page = f"https://huggingface.co/{repo_id}"
    by_hand = f"Or download {MODEL_FILE} and {TAGS_FILE} by hand into {target}."
    # LocalEntryNotFoundError (no network, file not on disk) is also an EntryNotFoundError: test it first.
    if isinstance(error, OfflineModeIsEnabled | LocalEntryNotFoundError):
        return DownloadFailed(
            f"Cannot download {filename} from {repo_id}: the Hugging Face Hub is not reachable (offline, "
            "HF_HUB_OFFLINE=1, or no network).",
            hint=f"Connect to the internet and try again, or pass a local folder as the model. {by_hand}",
        )
    if isinstance(error, GatedRepoError):
        return GatedModel(
            f"{repo_id} is gated: its licence must be accepted before downloading.",
            hint=f"Accept it on {page} while logged in, then set HF_TOKEN (or run `hf auth login`).",
        )
    if isinstance(error, RepositoryNotFoundError):
        return ModelNotFound(
            repo_id,
            hint=f"The repository does not exist or is private; check the id, or set HF_TOKEN. {by_hand}",
        )
    if isinstance(error, RevisionNotFoundError | EntryNotFoundError):
        return ModelNotFound(
            f"{repo_id}/{filename}", hint="That repository has no such file; is it a WD14 tagger?"
        )
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, HfHubHTTPError) and status in (401, 403):
        return GatedModel(
            f"The Hub refused {repo_id} (HTTP {status}): the token is missing, wrong, or lacks access.",
            hint=f"Set HF_TOKEN to a token that can read {page}.",
        )
    if isinstance(error, OSError | HfHubHTTPError):
        return DownloadFailed(f"Downloading {filename} from {repo_id} failed: {error}", hint=by_hand)
    return DownloadFailed(f"Downloading {filename} from {repo_id} failed ({type(error).__name__}: {error}).")
