"""Tagging: check a request and turn it into the job that runs the WD14 worker.

Pure: nothing here imports the worker or onnxruntime; the job engine starts the worker by argv.
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
from lora_studio.jobs.model import JobSpec

WORKER_MODULE = "lora_studio.workers.wd14"
PROGRESS_DESC = "tagging"
MODEL_FILES = ("model.onnx", "selected_tags.csv")


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
