"""Gallery thumbnails: made on first request in worker threads, cached under ``cache_dir/thumbs``.

A thumbnail's file name is a hash of the image's path, size and mtime, so a changed image
gets a new thumbnail and the stale one is never shown. Thumbnails are turned upright by the
image's EXIF orientation and written as small JPEGs (alpha flattened on light grey).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from lora_studio.services.datasets.verify import exif_transposed

THUMB_SIZE = 256
THUMB_QUALITY = 82
_BACKGROUND = (236, 236, 236)


def _workers() -> int:
    return max(2, min(8, os.cpu_count() or 2))


class ThumbnailCache:
    """Create and find thumbnails; safe to call from several threads."""

    def __init__(self, folder: Path, *, size: int = THUMB_SIZE) -> None:
        self.folder = folder
        self.size = size
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def path_for(self, image: Path, *, size_bytes: int, mtime_ns: int) -> Path:
        key = f"{image.resolve()}|{size_bytes}|{mtime_ns}|{self.size}".encode()
        digest = hashlib.sha1(key, usedforsecurity=False).hexdigest()
        return self.folder / digest[:2] / f"{digest}.jpg"

    def ensure(self, image: Path) -> tuple[Path | None, str | None]:
        """(thumbnail, None), or (None, problem) when the image cannot be read."""
        try:
            stat = image.stat()
        except FileNotFoundError:
            return None, "the image is gone"
        target = self.path_for(image, size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
        if target.is_file() and target.stat().st_size > 0:
            return target, None
        try:
            _write_quietly(target, self.render(image))
        except UnidentifiedImageError:
            return None, "not an image Pillow can read"
        except Image.DecompressionBombError as error:
            return None, str(error)
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            return None, f"cannot be read: {error}"
        return target, None

    def ensure_many(self, images: Sequence[Path]) -> list[tuple[Path | None, str | None]]:
        """Make the missing thumbnails of ``images`` in parallel (Pillow decodes without the GIL)."""
        if len(images) <= 1:
            return [self.ensure(image) for image in images]
        return list(self._executor().map(self.ensure, images))

    def discard(self, image: Path, *, size_bytes: int, mtime_ns: int) -> None:
        self.path_for(image, size_bytes=size_bytes, mtime_ns=mtime_ns).unlink(missing_ok=True)

    def render(self, image: Path) -> bytes:
        with Image.open(image) as source:
            # JPEG can decode at 1/2..1/8 scale directly: much faster for big photos.
            source.draft("RGB", (self.size, self.size))
            upright = exif_transposed(source)
            upright.thumbnail((self.size, self.size), Image.Resampling.BILINEAR)
            flat = _flatten(upright)
        buffer = io.BytesIO()
        flat.save(buffer, "JPEG", quality=THUMB_QUALITY)
        return buffer.getvalue()

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(_workers(), thread_name_prefix="thumbs")
            return self._pool


def _write_quietly(target: Path, data: bytes) -> None:
    """Write via a temporary name and rename, without fsync: a thumbnail lost in a crash is
    simply made again (an empty one counts as missing), and fsync per file made pages slow."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{threading.get_ident()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, _BACKGROUND)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return image.convert("F").point(lambda value: value * (255.0 / 65535.0)).convert("RGB")
    return image.convert("RGB")
