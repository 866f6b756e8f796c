"""The JPEG segment walk: vouches for complete files, never for one Pillow would refuse."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from lora_studio.services.datasets import verify
from lora_studio.services.datasets.jpeg_structure import jpeg_is_complete, jpeg_layout
from lora_studio.services.datasets.verify import ImageRejected, VerifiedImage, verify_image


def photo(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """A noisy gradient: real entropy-coded data, with stuffed 0xFF bytes."""
    rng = random.Random(7)
    width, height = size
    data = bytes(
        min(255, max(0, (x * 255 // width + y + channel * 40) % 256 + rng.randint(-30, 30)))
        for y in range(height)
        for x in range(width)
        for channel in range(3)
    )
    return Image.frombytes("RGB", size, data)


def jpeg(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pillow_loads(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        return False
    return True


def variants() -> dict[str, bytes]:
    base = photo()
    exif = Image.Exif()
    exif[0x0112] = 6
    found = {
        "baseline": jpeg(base),
        "progressive": jpeg(base, progressive=True),
        "optimized": jpeg(base, optimize=True, quality=95),
        "no subsampling": jpeg(base, subsampling=0),
        "restart markers": jpeg(base, restart_marker_blocks=1),
        "progressive + restarts": jpeg(base, progressive=True, restart_marker_rows=1),
        "greyscale": jpeg(base.convert("L")),
        "cmyk": jpeg(base.convert("CMYK")),
        "exif": jpeg(base, exif=exif.tobytes()),
        "marker bytes in a profile": jpeg(base, icc_profile=b"\xff\xd9" * 64),
        "mpo": jpeg(base, "MPO", save_all=True, append_images=[base.rotate(90)]),
    }
    found["bytes after EOI"] = found["baseline"] + b"trailing data"
    found["fill bytes before EOI"] = found["baseline"][:-2] + b"\xff\xff\xff\xd9"
    return found


@pytest.mark.parametrize("name", list(variants()))
def test_complete_files_are_vouched_for(name: str) -> None:
    data = variants()[name]
    assert pillow_loads(data)
    assert jpeg_is_complete(data)


def test_no_truncation_is_vouched_for() -> None:
    for name, data in variants().items():
        # Cut before the image's EOI: an MPO's first frame is the image (Pillow and sd-scripts
        # read only that one), and what follows an EOI is not part of the image.
        end = data.index(b"\xff\xd9\xff\xd8") + 1 if name == "mpo" else len(data) - 1
        if name == "bytes after EOI":
            end = len(data) - len(b"trailing data") - 1
        for cut in range(2, end, 23):
            assert not jpeg_is_complete(data[:cut]), (name, cut)


def test_whatever_it_vouches_for_pillow_decodes() -> None:
    """Damaged files: the walk may pass them to the decoder, but never vouch for one Pillow refuses."""
    rng = random.Random(11)
    vouched = 0
    for data in variants().values():
        for _ in range(60):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                damaged[rng.randrange(2, len(damaged))] = rng.randrange(256)
            if jpeg_is_complete(bytes(damaged)):
                vouched += 1
                assert pillow_loads(bytes(damaged))
    assert vouched > 0  # damage inside the entropy data goes unnoticed by libjpeg too


def test_a_bogus_huffman_table_is_left_to_pillow() -> None:
    data = jpeg(photo())
    table = data.index(b"\xff\xc4") + 4  # class/id byte of the first table, then 16 counts
    bogus = data[: table + 1] + bytes([2]) + data[table + 2 :]  # two 1-bit codes: libjpeg refuses
    assert not jpeg_is_complete(bogus)
    with pytest.raises(ImageRejected, match="damaged"):
        verify_image(bogus, "a.jpg")


def test_what_the_walk_cannot_vouch_for_is_decoded_as_before() -> None:
    data = jpeg(photo())
    assert "truncated" in _reason(data[: len(data) - 2])
    assert verify_image(data, "a.jpg").format == "JPEG"


def _reason(data: bytes) -> str:
    with pytest.raises(ImageRejected) as caught:
        verify_image(data, "a.jpg")
    return caught.value.reason


def _pillow_path(data: bytes, filename: str, monkeypatch: pytest.MonkeyPatch) -> VerifiedImage:
    with monkeypatch.context() as patched:
        patched.setattr(verify, "_plain_jpeg", lambda layout, filename: None)
        return verify_image(data, filename)


PLAIN = {
    "baseline",
    "progressive",
    "optimized",
    "no subsampling",
    "restart markers",
    "progressive + restarts",
    "greyscale",
    "bytes after EOI",
    "fill bytes before EOI",
    "comment",
    "xmp",
}


def test_plain_jpegs_are_described_without_pillow_exactly_as_pillow_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The walk alone describes a JPEG only when its metadata is stored, not parsed, by Pillow;
    its verdict is the one Pillow's path gives, for every name the file may come under."""
    found = variants()
    found["comment"] = jpeg(photo(), comment=b"made by a test")
    found["xmp"] = jpeg(photo(), xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    for name, data in found.items():
        layout = jpeg_layout(data)
        assert layout is not None, name
        assert (layout.plain_metadata and layout.components != 4) == (name in PLAIN), name
        for filename in ("a.jpg", "a.JPEG", "a.jfif", "a.png", "noextension"):
            assert verify_image(data, filename) == _pillow_path(data, filename, monkeypatch), (name, filename)


def test_metadata_pillow_cannot_parse_is_left_to_pillow() -> None:
    """A JFIF segment too short for its version field: Pillow's header parse fails on it."""
    data = jpeg(photo())
    app0 = data.index(b"\xff\xe0")
    length = int.from_bytes(data[app0 + 2 : app0 + 4], "big")
    short = data[:app0] + b"\xff\xe0\x00\x07JFIF\x00" + data[app0 + 2 + length :]
    layout = jpeg_layout(short)
    assert layout is not None and not layout.plain_metadata
    assert not pillow_opens(short)
    with pytest.raises(ImageRejected):
        verify_image(short, "a.jpg")


def test_damaged_plain_jpegs_are_described_as_pillow_describes_them() -> None:
    rng = random.Random(5)
    described = 0
    for name, data in variants().items():
        if name not in PLAIN:
            continue
        for _ in range(60):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                damaged[rng.randrange(2, len(damaged))] = rng.randrange(256)
            layout = jpeg_layout(bytes(damaged))
            if layout is None or not layout.plain_metadata or layout.components == 4:
                continue
            described += 1
            with Image.open(io.BytesIO(bytes(damaged))) as image:
                assert (image.format, image.size) == ("JPEG", (layout.width, layout.height))
                assert image.mode == {1: "L", 3: "RGB"}[layout.components]
                image.load()
    assert described > 0


def pillow_opens(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)):
            return True
    except (OSError, SyntaxError, ValueError, EOFError):
        return False
