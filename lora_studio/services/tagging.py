"""Tagging: check a request, turn it into the job that runs the WD14 worker, read back its summary.

Nothing here imports the worker or onnxruntime; the job engine starts the worker by argv.
``TaggingService`` is what the Tagging tab calls; the functions below it are pure and shared with the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lora_studio.config.taggers import TaggerEntry, TaggerRegistry, load_taggers
from lora_studio.config.tagging import TaggerDevice, TaggingOptions, select_concepts, tagger_args
from lora_studio.core.errors import DatasetNotFound, InvalidInput, ModelNotFound
from lora_studio.core.layout import iter_images, parse_concept_folder
from lora_studio.core.paths import child_path
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import JobRecord, JobSpec
from lora_studio.services.jobs import JobsService
from lora_studio.services.tagging_summary import TaggingSummary, read_summary

WORKER_MODULE = "lora_studio.workers.wd14"
PROGRESS_DESC = "tagging"
MODEL_FILES = ("model.onnx", "selected_tags.csv")
TAGGERS_FOLDER = "taggers"  # where the worker keeps downloaded taggers: <models_dir>/taggers/<name>/


class TaggingService:
    """Start tagging jobs, list the taggers to choose from, and read a finished run's summary."""

    def __init__(
        self, settings: Settings, jobs: JobsService, *, registry: TaggerRegistry | None = None
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self._registry = registry
        self._summaries: dict[str, TaggingSummary | None] = {}  # only for ended jobs: their logs are final

    @property
    def registry(self) -> TaggerRegistry:
        if self._registry is None:
            self._registry = load_taggers()
        return self._registry

    def model_choices(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs for the model dropdown: every registry tagger (marked when it is
        already downloaded), then tagger folders in ``models/taggers`` that the registry does not name.

        Raises:
            ConfigInvalid: configs/taggers.toml is broken.
        """
        folder = self.settings.models_dir / TAGGERS_FOLDER
        choices = []
        for entry in self.registry.taggers:
            where = (
                "downloaded" if _has_model_files(folder / entry.id) else f"{entry.download_mb} MB download"
            )
            choices.append((f"{entry.id} · {entry.version} {entry.architecture} · {where}", entry.id))
        known = set(self.registry.ids())
        if folder.is_dir():
            for local in sorted(folder.iterdir()):
                if local.name not in known and _has_model_files(local):
                    choices.append((f"{local.name} · local folder", str(local)))
        return choices

    def start(self, dataset: str, options: TaggingOptions) -> JobRecord:
        """Check the request and submit the tagging job; see ``check_tagging`` for what it raises."""
        return self.jobs.submit(tag_job_spec(self.settings, dataset, options))

    def latest_job(self) -> JobRecord | None:
        """The newest tagging job (running or ended), if any."""
        return next((record for record in self.jobs.list_jobs() if record.kind is JobKind.TAG), None)

    def summary(self, job_id: str) -> TaggingSummary | None:
        """The run's summary from its log: None while it runs, for other kinds of job, or when the
        worker died before printing one (the job's reason and log tail then say why).

        Raises:
            JobNotFound: no such job.
        """
        if job_id in self._summaries:
            return self._summaries[job_id]
        record = self.jobs.get(job_id)
        if record.kind is not JobKind.TAG or record.status.is_active:
            return None
        summary = read_summary(self.jobs.log_path(job_id))
        self._summaries[job_id] = summary
        return summary


def _has_model_files(folder: Path) -> bool:
    return all((folder / name).is_file() for name in MODEL_FILES)


def dataset_folder(settings: Settings, dataset_name: str) -> Path:
    """The dataset's folder.

    Raises:
        InvalidName / PathEscape: a hostile name.
        DatasetNotFound: no such dataset.
    """
    folder = child_path(settings.datasets_dir, dataset_name)
    if not folder.is_dir():
        raise DatasetNotFound(dataset_name, hint="Create or import it in the Datasets tab first.")
    return folder


def concept_folder_names(folder: Path) -> list[str]:
    """The dataset's ``N_name`` folders, sorted."""
    return sorted(c.name for c in folder.iterdir() if c.is_dir() and parse_concept_folder(c.name))


def tagger_choices(registry: TaggerRegistry | None = None) -> list[TaggerEntry]:
    """The registry's taggers, for the tab's dropdown and ``tag --list-models``."""
    return list((registry or load_taggers()).taggers)


def check_tagging(settings: Settings, dataset_name: str, options: TaggingOptions) -> Path:
    """Everything that can be checked before starting; returns the dataset folder.

    Raises:
        DatasetNotFound, InvalidName, PathEscape: see ``dataset_folder``.
        InvalidInput: the dataset has no concept folders or no images in the chosen ones.
        ConceptNotFound: a chosen concept is not in the dataset.
        ModelNotFound: a local model folder lacks model.onnx or selected_tags.csv.
    """
    folder = dataset_folder(settings, dataset_name)
    concepts = concept_folder_names(folder)
    if not concepts:
        raise InvalidInput(
            f"Dataset {dataset_name!r} has no concept folders (like 10_mychar).",
            hint="Add a concept in the Datasets tab and put the images there.",
        )
    chosen = select_concepts(concepts, options.concepts)
    if not any(next(iter_images(folder / name), None) for name in chosen):
        raise InvalidInput(f"No images to tag in {dataset_name!r} ({', '.join(chosen)}).")
    _check_model(options.model)
    return folder


def _check_model(model: str) -> None:
    path = Path(model).expanduser()
    if path.is_absolute() or model.startswith((".", "~")):
        missing = [name for name in MODEL_FILES if not (path / name).is_file()]
        if missing:
            raise ModelNotFound(model, hint=f"The folder must hold {' and '.join(MODEL_FILES)}.")


def tagger_command(settings: Settings, dataset_dir: Path, options: TaggingOptions) -> list[str]:
    """The worker's argv (pure)."""
    return [
        sys.executable,
        "-m",
        WORKER_MODULE,
        f"--dataset-dir={dataset_dir}",
        f"--models-dir={settings.models_dir}",
        *tagger_args(options),
    ]


def tag_job_spec(settings: Settings, dataset_name: str, options: TaggingOptions) -> JobSpec:
    """The job that tags ``dataset_name`` with ``options``; see ``check_tagging`` for what it raises."""
    folder = check_tagging(settings, dataset_name, options)
    return JobSpec(
        kind=JobKind.TAG,
        title=f"Tag {dataset_name} with {options.model}",
        argv=tuple(tagger_command(settings, folder, options)),
        needs_gpu=False if options.device is TaggerDevice.CPU else None,
        progress_desc=PROGRESS_DESC,
        meta={"dataset": dataset_name, "model": options.model},
    )
