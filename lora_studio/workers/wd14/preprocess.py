"""Image → model input, exactly as SmilingWolf's reference (wd-tagger Space ``prepare_image``) does it.

Transparency is composited on white, the picture is centred on a white square, resized to the model
size with BICUBIC, and handed over as float32 BGR 0..255. Two shortcuts keep the result bit-identical
to the reference (a test proves it): opaque images skip the alpha composite, and square images skip
the padding. JPEG draft (DCT-scaled) decoding is *not* used: on our varied test set it moved the input
by up to 11 (mean absolute difference, 0..255 scale), far over the 1.0 we allow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})

RgbArray = npt.NDArray[np.uint8]
ModelArray = npt.NDArray[np.float32]


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def flatten_on_white(image: Image.Image) -> Image.Image:
    """Any mode → RGB, transparent parts white (the reference composites RGBA onto a white canvas)."""
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*WHITE, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def pad_to_square(image: Image.Image) -> Image.Image:
    """Centre ``image`` on a white square of its longer side (left/top get the smaller half)."""
    width, height = image.size
    side = max(width, height)
    if width == height:
        return image
    canvas = Image.new("RGB", (side, side), WHITE)
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def prepare_image(image: Image.Image, height: int, width: int) -> RgbArray:
    """A decoded image → uint8 RGB ``[height, width, 3]`` ready for ``to_model_input``."""
    square = pad_to_square(flatten_on_white(image))
    if square.size != (width, height):
        square = square.resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(square, dtype=np.uint8)


def prepare_file(path: Path, height: int, width: int) -> RgbArray:
    """Open, decode and prepare one image file. Raises whatever Pillow raises for a bad file."""
    with Image.open(path) as image:
        image.load()
        return prepare_image(image, height, width)


def to_model_input(rgb: RgbArray, out: ModelArray) -> None:
    """uint8 RGB → float32 BGR 0..255, written into ``out`` (one slot of the batch buffer)."""
    np.copyto(out, rgb[:, :, ::-1], casting="unsafe")


def space_reference_input(image: Image.Image, size: int) -> ModelArray:
    """SmilingWolf's Space ``prepare_image``, verbatim in behaviour: the yardstick for tests and benchmarks.

    Returns float32 BGR ``[size, size, 3]`` (without the batch axis).
    """
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (255, 255, 255))
    canvas.alpha_composite(rgba)
    rgb = canvas.convert("RGB")
    max_dim = max(rgb.size)
    pad_left = (max_dim - rgb.size[0]) // 2
    pad_top = (max_dim - rgb.size[1]) // 2
    padded = Image.new("RGB", (max_dim, max_dim), (255, 255, 255))
    padded.paste(rgb, (pad_left, pad_top))
    if max_dim != size:
        padded = padded.resize((size, size), Image.Resampling.BICUBIC)
    array = np.asarray(padded, dtype=np.float32)
    return np.ascontiguousarray(array[:, :, ::-1])
