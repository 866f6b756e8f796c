"""Builders for test images and hostile files; everything is made here, nothing is downloaded."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image


def image_bytes(
    size: tuple[int, int] = (64, 48),
    *,
    fmt: str = "PNG",
    mode: str = "RGB",
    color: int | tuple[int, ...] = 0,
    orientation: int | None = None,
) -> bytes:
    image = Image.new(mode, size, color)
    buffer = io.BytesIO()
    kwargs: dict[str, object] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def distinct_png(index: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG whose bytes differ for every index (so no two count as duplicates)."""
    return image_bytes(size, color=(index % 256, (index // 256) % 256, 77))


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds no pixel data (a bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def animated_png(frames: int = 3) -> bytes:
    images = [Image.new("RGB", (32, 32), (40 * index, 0, 0)) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PNG", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def palette_with_transparency() -> bytes:
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (0, 0, 16, 16))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    return buffer.getvalue()


def sixteen_bit_png() -> bytes:
    image = Image.new("I;16", (32, 32), 40_000)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def hostile_files() -> dict[str, tuple[bytes, str | None]]:
    """name -> (content, expected words in the reason when rejected, or None when accepted)."""
    jpeg = image_bytes((64, 64), fmt="JPEG")
    return {
        "zero.png": (b"", "empty"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "page.png": (b"<!DOCTYPE html><html><body>not an image</body></html>", "HTML"),
        "text.jpg": (b"just some words, nothing else\n", "plain text"),
        "noise.webp": (bytes(range(256)) * 4, "not an image"),
        "bomb.png": (png_header_only(100_000, 100_000), "decompression"),
        "wide.png": (image_bytes((20_000, 1), mode="L"), "larger than"),
        "cmyk.jpg": (image_bytes((32, 32), fmt="JPEG", mode="CMYK", color=(0, 50, 50, 0)), None),
        "sixteen.png": (sixteen_bit_png(), None),
        "palette.png": (palette_with_transparency(), None),
        "animated.png": (animated_png(), None),
        "rotated.jpg": (image_bytes((40, 20), fmt="JPEG", orientation=6), None),
        "misnamed.png": (image_bytes((32, 32), fmt="JPEG", color=(1, 2, 3)), None),
        "bitmap.bmp": (image_bytes((32, 32), fmt="BMP", color=(9, 9, 9)), None),
        "web.webp": (image_bytes((32, 32), fmt="WEBP", color=(19, 9, 9)), None),
        "anim.gif": (image_bytes((32, 32), fmt="GIF", mode="P", color=3), None),
    }


def zip_bytes(entries: dict[str, bytes | str], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0
            info.create_system = 3
            archive.writestr(info, target)
    return buffer.getvalue()
