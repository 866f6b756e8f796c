"""The concepts of a dataset: its ``<repeats>_<name>`` folders, as sd-scripts subsets."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lora_studio.core.errors import InvalidInput
from lora_studio.core.layout import iter_images, parse_concept_folder


class Concept(BaseModel):
    """One subset of the dataset TOML: an image folder and how often it repeats per epoch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_dir: str = Field(min_length=1)
    repeats: int = Field(ge=1)
    # Used by sd-scripts as the caption of an image that has no caption file.
    class_tokens: str | None = None
    is_reg: bool = False


def scan_concepts(dataset_dir: Path) -> list[Concept]:
    """The ``N_name`` folders directly inside ``dataset_dir`` that hold images, sorted by name.

    Raises:
        InvalidInput: no such folder holds any image (sd-scripts would exit 0 with "No data found").
    """
    concepts = []
    folders = sorted(p for p in dataset_dir.iterdir() if p.is_dir()) if dataset_dir.is_dir() else []
    for folder in folders:
        parsed = parse_concept_folder(folder.name)
        if parsed is None or parsed.repeats < 1 or next(iter_images(folder), None) is None:
            continue
        concepts.append(
            Concept(image_dir=str(folder.absolute()), repeats=parsed.repeats, class_tokens=parsed.concept)
        )
    if not concepts:
        raise InvalidInput(
            f"No concept folder with images in {dataset_dir}.",
            hint="Put the images in sub-folders named <repeats>_<concept>, e.g. 10_mychar.",
        )
    return concepts
