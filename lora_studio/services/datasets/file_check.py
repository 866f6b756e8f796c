"""Check one image and stage it: read, hash, verify, write to the staging folder.

What the checking processes run (check_pool.py), so it imports Pillow and our checks and no more;
zip entries, whose bytes only the importing process can read, go through ``check_data`` there.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from lora_studio.services.datasets.verify import ImageRejected, VerifiedImage, verify_image

# One batch per task: a task costs about as much as checking a small JPEG.
FileTask = tuple[str, str, str]  # source path, staged path without its extension, the name it came with


@dataclass(frozen=True, slots=True)
class Outcome:
    """A file's check: the staged copy and what it is, or why it is refused."""

    digest: str = ""
    staged: str | None = None
    image: VerifiedImage | None = None
    reason: str = ""


def check_data(data: bytes, filename: str, staged_base: str) -> Outcome:
    """Hash and verify ``data``; stage it (or its conversion) as ``staged_base`` + its extension."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = verify_image(data, filename)
    except ImageRejected as error:
        return Outcome(digest, reason=error.reason)
    staged = staged_base + image.extension
    write_new(staged, image.converted if image.converted is not None else data)
    return Outcome(digest, staged, image)


def check_file(task: FileTask) -> Outcome:
    source, staged_base, filename = task
    try:
        with open(source, "rb") as file:
            data = file.read()
    except OSError as error:
        return Outcome(reason=f"cannot be read: {error}")
    return check_data(data, filename, staged_base)


def check_files(tasks: list[FileTask]) -> list[Outcome]:
    return [check_file(task) for task in tasks]


def write_new(path: str, data: bytes) -> None:
    """Create ``path`` (never an existing file) holding ``data``; fewer layers than write_bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
