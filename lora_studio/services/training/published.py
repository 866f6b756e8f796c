"""Run outputs made visible to the browser without serving the outputs folder.

Sample images are hard-linked (copied across file systems) into a folder under the served thumbnail
cache, once per version of each file (its mtime is in the copy's name), so a refresh every few seconds
costs one ``stat`` per image. Copies of versions that are gone are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lora_studio.services.training.outputs import SampleGrid


@dataclass(frozen=True)
class SampleImage:
    """One served sample: ``path`` lies in the served folder; ``caption`` reads "epoch 2 · prompt 1"."""

    path: Path
    caption: str
    row: str
    prompt_index: int


def publish_samples(grid: SampleGrid, folder: Path) -> list[SampleImage]:
    """Served copies of the grid's images in ``folder``, row by row (training order), prompt by prompt."""
    folder.mkdir(parents=True, exist_ok=True)
    published = []
    for row in grid.rows:
        for index in sorted(row.images):
            source = row.images[index]
            try:
                stamp = source.stat().st_mtime_ns
            except FileNotFoundError:
                continue  # sd-scripts replaced it between the listing and now; the next refresh has it
            target = folder / f"{source.stem}-{stamp}{source.suffix}"
            if not target.is_file():
                _place(source, target)
            published.append(SampleImage(target, f"{row.label} · prompt {index + 1}", row.label, index))
    _prune(folder, {item.path.name for item in published})
    return published


def _place(source: Path, target: Path) -> None:
    """Link or copy ``source`` to ``target`` through a temporary name, so a half copy is never served."""
    handle, temporary = tempfile.mkstemp(prefix=".part-", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    scratch = Path(temporary)
    try:
        scratch.unlink()
        try:
            os.link(source, scratch)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(source, scratch)
        scratch.replace(target)
    finally:
        scratch.unlink(missing_ok=True)


def _prune(folder: Path, keep: set[str]) -> None:
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep and not path.name.startswith(".part-"):
            path.unlink(missing_ok=True)
