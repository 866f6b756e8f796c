"""The one error tree of LoRA Studio.

Services raise these; the UI turns them into ``gr.Error`` in exactly one place
(``lora_studio.ui.errors``) and the CLI prints them. Each carries what a helpful
message needs, and ``str(error)`` is that message.
"""

from __future__ import annotations


class LoraStudioError(Exception):
    """Base of every error a person is meant to read."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InvalidInput(LoraStudioError, ValueError):
    """A value a person typed or sent cannot be used."""


class InvalidName(InvalidInput):
    """A user-given name cannot become a file or folder name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name!r} is not a usable name: {reason}.")
        self.name = name
        self.reason = reason


class PathEscape(InvalidInput):
    """A path would leave the folder it must stay in."""

    def __init__(self, path: str, root: str) -> None:
        super().__init__(f"{path!r} lies outside {root}; refused.")
        self.path = path
        self.root = root


class NotFound(LoraStudioError, LookupError):
    """Something a person named does not exist."""

    what = "item"

    def __init__(self, name: str, *, hint: str | None = None) -> None:
        super().__init__(f"No {self.what} named {name!r}.", hint=hint)
        self.name = name


class AlreadyExists(LoraStudioError):
    """Creating something would overwrite what is there."""

    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"A {what} named {name!r} already exists.")
        self.what = what
        self.name = name


class DatasetNotFound(NotFound):
    what = "dataset"


class JobNotFound(NotFound):
    what = "job"


class ModelNotFound(NotFound):
    what = "model"


class JobStateError(LoraStudioError):
    """The action does not fit the job's current state (delete a running job, ...)."""

    def __init__(self, job_id: str, status: str, action: str) -> None:
        super().__init__(f"Job {job_id} is {status}; cannot {action} it now.")
        self.job_id = job_id
        self.status = status


class JobStartFailed(LoraStudioError):
    """The job's supervisor or command could not be started."""


class ConfigInvalid(LoraStudioError, ValueError):
    """A configuration breaks the schema or a cross-field rule."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        # List the problems unless the message already says the only one.
        shown = [problem for problem in self.problems if problem not in message]
        body = message + "".join(f"\n- {problem}" for problem in shown)
        super().__init__(body)


class UnknownTrainerArgs(ConfigInvalid):
    """Rendered keys that the pinned sd-scripts script does not know."""


class TrainerMissing(LoraStudioError):
    """sd-scripts or its virtual environment is not installed where we look."""


class DownloadFailed(LoraStudioError):
    """A model download failed."""


class GatedModel(DownloadFailed):
    """The repository needs an accepted licence and a token."""


class UnsafeArchive(InvalidInput):
    """An uploaded archive holds entries we refuse to unpack."""


class ImageNotFound(NotFound):
    """A caption or a request names an image that is not (or no longer) in the dataset."""

    what = "image"


class CaptionNotUtf8(InvalidInput):
    """A caption file is not valid UTF-8; it is never overwritten without the person's say-so."""


class CaptionConflict(LoraStudioError):
    """A caption changed on disk since it was read (another edit, another tool); nothing was written."""


class NothingToUndo(LoraStudioError):
    """There is no bulk operation left to undo."""


class InvalidModelFile(InvalidInput):
    """A model file cannot be read as safetensors (bad header, truncated, not safetensors)."""


class InsufficientDiskSpace(DownloadFailed):
    """There is not enough free disk space for a download."""


class ConceptNotFound(NotFound):
    """A dataset has no concept (``<repeats>_<concept>`` folder) of that name."""

    what = "concept"


class PresetNotFound(NotFound):
    what = "preset"


class PreflightFailed(ConfigInvalid):
    """The pre-flight check found problems that would make a training run fail (dataset, model files)."""


class TrainingStateNotFound(NotFound):
    """A run has no saved training state to resume from."""

    what = "saved training state"


class UploadFailed(LoraStudioError):
    """An upload to the Hugging Face Hub cannot start (no token, not a LoRA file, ...)."""


class SpaceDryRun(InvalidInput):
    """Training was asked for on a Hugging Face Space without a GPU, where it is a dry run only."""


class ImportFailed(LoraStudioError):
    """An import into a dataset stopped midway; nothing of it was added."""
