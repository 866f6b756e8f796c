"""PNGs checked by their chunks' CRCs (no inflating) still refuse truncated and damaged files."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from PIL import Image

from lora_studio.services.datasets.verify import ImageRejected, verify_image
from tests.datasets.corpus import image_bytes


def noisy_png(mode: str = "RGB") -> bytes:
    rng = random.Random(3)
    image = Image.frombytes("RGB", (64, 48), bytes(rng.randrange(256) for _ in range(64 * 48 * 3)))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, "PNG")
    return buffer.getvalue()


def reason(data: bytes) -> str:
    with pytest.raises(ImageRejected) as caught:
        verify_image(data, "a.png")
    return caught.value.reason


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "1", "RGBA"])
def test_every_truncation_is_refused(mode: str) -> None:
    data = noisy_png(mode)
    assert verify_image(data, "a.png").width == 64
    for cut in range(8, len(data), 97):
        assert "truncated or damaged" in reason(data[:cut]) or "not an image" in reason(data[:cut]), cut


def test_a_damaged_byte_in_the_pixels_is_refused() -> None:
    data = bytearray(noisy_png())
    pixels = data.index(b"IDAT") + 40
    data[pixels] ^= 0xFF
    assert "damaged" in reason(bytes(data))


def test_whatever_is_accepted_decodes() -> None:
    rng = random.Random(5)
    original = noisy_png("P")
    for _ in range(200):
        damaged = bytearray(original)
        damaged[rng.randrange(8, len(damaged))] = rng.randrange(256)
        try:
            verify_image(bytes(damaged), "a.png")
        except ImageRejected:
            continue
        with Image.open(io.BytesIO(bytes(damaged))) as image:
            image.load()


def test_exif_orientation_is_still_reported() -> None:
    rotated = verify_image(image_bytes((40, 20), orientation=6), "a.png")
    assert rotated.orientation == 6
    assert any("EXIF orientation 6" in note for note in rotated.notes)


def test_exif_after_the_pixels_is_read_by_decoding() -> None:
    """An eXIf chunk after IDAT is invisible to a chunk check, so such a PNG is decoded."""
    exif = Image.Exif()
    exif[0x0112] = 8
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = len(payload).to_bytes(4, "big") + b"eXIf" + payload
    chunk += zlib.crc32(b"eXIf" + payload).to_bytes(4, "big")
    plain = noisy_png()
    end = plain.rindex(b"IEND") - 4
    late = plain[:end] + chunk + plain[end:]
    with Image.open(io.BytesIO(late)) as image:
        assert "exif" not in image.info
    assert verify_image(late, "a.png").orientation == 8
