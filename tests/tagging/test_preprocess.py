"""Preprocessing is bit-identical to SmilingWolf's Space on a varied image set (MAD 0 <= 1.0)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lora_studio.workers.wd14.preprocess import prepare_file, space_reference_input, to_model_input


def _photo_like(size, seed):
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(30):
        x, y = rng.integers(0, size[0]), rng.integers(0, size[1])
        draw.ellipse((x, y, x + 60, y + 40), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw.text((10, 10), "WD14 text edges", fill=(0, 0, 0))
    return base


def _noise(size, seed=1):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size[::-1], 3), dtype=np.uint8))


def _encode(image, fmt, **kw):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def _transparent(size):
    image = _photo_like(size, 3).convert("RGBA")
    alpha = Image.linear_gradient("L").resize(size)
    image.putalpha(alpha)
    return image


CASES = {
    "photo_jpeg_landscape": lambda: _encode(_photo_like((900, 600), 0), "JPEG", quality=90),
    "noise_jpeg_square": lambda: _encode(_noise((700, 700)), "JPEG", quality=95),
    "photo_png_portrait": lambda: _encode(_photo_like((400, 620), 2), "PNG"),
    "rgba_png_gradient_alpha": lambda: _encode(_transparent((520, 480)), "PNG"),
    "la_png": lambda: _encode(_transparent((300, 300)).convert("LA"), "PNG"),
    "palette_with_transparency": lambda: _encode(
        _photo_like((500, 300), 4).convert("P", palette=Image.Palette.ADAPTIVE), "PNG", transparency=0
    ),
    "grey_jpeg": lambda: _encode(_photo_like((640, 480), 5).convert("L"), "JPEG"),
    "cmyk_jpeg": lambda: _encode(_photo_like((480, 640), 6).convert("CMYK"), "JPEG"),
    "small_upscaled_webp": lambda: _encode(_photo_like((120, 90), 7), "WEBP"),
    "exact_size": lambda: _encode(_photo_like((448, 448), 8), "PNG"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_prepared_input_matches_the_space_reference(case, tmp_path):
    path = tmp_path / f"{case}.img"
    path.write_bytes(CASES[case]())
    with Image.open(path) as image:
        reference = space_reference_input(image, 448)
    batch = np.empty((1, 448, 448, 3), dtype=np.float32)
    to_model_input(prepare_file(path, 448, 448), batch[0])
    mad = float(np.abs(batch[0] - reference).mean())
    assert mad <= 1.0  # the bound; our shortcuts are exact, so in fact:
    assert mad == 0.0


def test_transparent_pixels_become_white_and_padding_is_white_and_centred(tmp_path):
    image = Image.new("RGBA", (40, 20), (255, 0, 0, 0))  # fully transparent red
    image.paste((0, 0, 255, 255), (0, 0, 40, 20))
    image.putpixel((0, 0), (255, 0, 0, 0))
    image.save(tmp_path / "t.png")
    rgb = prepare_file(tmp_path / "t.png", 40, 40)
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[39, 20]) == (255, 255, 255)  # padding
    assert tuple(rgb[20, 20]) == (0, 0, 255)  # image centred vertically (rows 10..29)
    assert tuple(rgb[10, 0]) == (255, 255, 255)  # the transparent pixel


def test_model_input_is_bgr_float():
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    out = np.empty((2, 2, 3), dtype=np.float32)
    to_model_input(rgb, out)
    assert out.dtype == np.float32 and out[0, 0].tolist() == [0.0, 0.0, 200.0]
