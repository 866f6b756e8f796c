"""Which images a run tags: the dataset's concept folders, filtered, with their caption paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.config.tagging import ExistingCaption, TaggingOptions, select_concepts
from lora_studio.core.errors import InvalidInput
from lora_studio.core.layout import caption_path, iter_images, parse_concept_folder
from lora_studio.workers.wd14.pipeline import WorkItem

Log = Callable[[str], None]


@dataclass
class Plan:
    items: list[WorkItem] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    total: int = 0


def concept_folders(dataset_dir: Path, wanted: tuple[str, ...]) -> list[Path]:
    """``N_name`` folders of the dataset (all, or the wanted ones); a plain folder is tagged as it is.

    Raises:
        InvalidInput: the dataset folder does not exist.
        ConceptNotFound: a wanted concept is not in the dataset.
    """
    if not dataset_dir.is_dir():
        raise InvalidInput(f"{dataset_dir} is not a folder.")
    names = sorted(c.name for c in dataset_dir.iterdir() if c.is_dir() and parse_concept_folder(c.name))
    if not names and not wanted:
        return [dataset_dir]
    return [dataset_dir / name for name in select_concepts(names, wanted)]


def plan_run(dataset_dir: Path, options: TaggingOptions) -> Plan:
    """List the work; images whose caption exists (skip mode) or is shared are skipped up front."""
    plan = Plan()
    owners: dict[Path, Path] = {}
    for folder in concept_folders(dataset_dir, options.concepts):
        for image in iter_images(folder):
            plan.total += 1
            caption = caption_path(image, options.caption_extension)
            if caption in owners:
                plan.skipped.append((image, f"{owners[caption].name} already writes {caption.name}"))
                continue
            owners[caption] = image
            if options.existing is ExistingCaption.SKIP and caption.exists():
                plan.skipped.append((image, "caption exists (choose overwrite or merge to replace it)"))
                continue
            plan.items.append(WorkItem(image, caption))
    return plan
