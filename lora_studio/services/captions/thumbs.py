"""Thumbnails for the caption browser, shared with the Datasets gallery (same cache folder, same files).

The caption browser pages through a *filtered* list of images, which the datasets gallery cannot
page, so it asks for the thumbnails of exactly the images it shows. An image that cannot be read
(or vanished since the page was listed) gets a plain placeholder, so the gallery never loses a
slot and its indexes keep matching the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from lora_studio.core.atomic import write_bytes_atomic
from lora_studio.services.datasets.thumbnails import THUMB_SIZE, ThumbnailCache

PLACEHOLDER_NAME = "caption-placeholder.png"
_PLACEHOLDER_GREY = (205, 205, 205)


class CaptionThumbnails:
    """Thumbnail files for images of a dataset; made on first request, cached under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache = ThumbnailCache(folder)

    def for_images(self, images: Sequence[Path]) -> tuple[Path, ...]:
        """One file per image, in order: its thumbnail, or the placeholder when it cannot be read."""
        made = self._cache.ensure_many(images)
        return tuple(thumb if thumb is not None else self.placeholder() for thumb, _ in made)

    def placeholder(self) -> Path:
        path = self.folder / PLACEHOLDER_NAME
        if not path.is_file():
            buffer = io.BytesIO()
            Image.new("RGB", (THUMB_SIZE, THUMB_SIZE), _PLACEHOLDER_GREY).save(buffer, "PNG")
            write_bytes_atomic(path, buffer.getvalue())
        return path
