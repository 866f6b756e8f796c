"""Check one image file with Pillow before it may enter a dataset.

Every image is checked to its last byte (a header alone does not reveal truncation): JPEGs by
walking their segments to EOI (jpeg_structure.py; decoded as before when the walk cannot vouch
for one; one whose metadata Pillow would only store is described by the walk alone, without
Pillow's slower header parse), plain PNGs by Pillow's ``verify()`` (every chunk's CRC, up to IEND, without inflating
the pixels), everything else by a full decode. Pillow's
decompression-bomb guard stays on, and its warning level counts as a refusal too. Formats that
sd-scripts cannot read (it globs png/jpg/jpeg/webp/bmp) are converted to PNG, and 16-bit
greyscale is reduced to 8 bits (sd-scripts' ``convert("RGB")`` would clip it to white).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from lora_studio.services.datasets.jpeg_structure import JpegLayout, jpeg_layout

# Optional HEIC/HEIF support; Pillow reads AVIF natively since 11.3.
try:  # pragma: no cover - depends on the optional plugin
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover
    HEIF_SUPPORTED = False

MAX_SIDE = 16_384
# Kept as they are: what sd-scripts reads (MPO is a JPEG with extra frames, written by phones).
NATIVE_EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp"}
# Opened by Pillow but not globbed by sd-scripts: stored as PNG.
CONVERTED_FORMATS = frozenset({"AVIF", "HEIF", "TIFF", "GIF"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_KNOWN_MODES = (
    frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr"}) | _SIXTEEN_BIT_MODES
)
ORIENTATION_TAG = 0x0112


class ImageRejected(Exception):
    """Internal: one file is refused; ``reason`` is shown to the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerifiedImage:
    format: str
    width: int
    height: int
    mode: str
    orientation: int
    extension: str
    notes: tuple[str, ...]
    # New file content when the image had to be converted; None keeps the original bytes.
    converted: bytes | None = None


def verify_image(data: bytes, filename: str) -> VerifiedImage:
    """Decode ``data`` fully and describe it, or raise ImageRejected with a reason."""
    if not data:
        raise ImageRejected("the file is empty (0 bytes)")
    layout = jpeg_layout(data) if data.startswith(b"\xff\xd8\xff") else None
    if layout is not None and layout.plain_metadata:
        plain = _plain_jpeg(layout, filename)
        if plain is not None:
            return plain
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _inspect(image, filename, data, layout)
    except UnidentifiedImageError:
        if not HEIF_SUPPORTED and filename.lower().endswith((".heic", ".heif")):
            raise ImageRejected("HEIC/HEIF needs the optional pillow-heif package; save it as JPEG") from None
        raise ImageRejected(_unidentified_reason(data)) from None
    except Image.DecompressionBombError as error:
        raise ImageRejected(
            f"refused by Pillow's decompression-bomb guard: {error} Downscale it first."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected(f"the image is truncated or damaged (Pillow: {error})") from None


def _plain_jpeg(layout: JpegLayout, filename: str) -> VerifiedImage | None:
    """What ``_inspect`` finds for a sound JPEG with plain metadata (no EXIF: orientation 1),
    straight from the walk; None leaves CMYK and oversized images to Pillow's path and wording."""
    mode = {1: "L", 3: "RGB"}.get(layout.components)
    width, height = layout.width, layout.height
    limit = Image.MAX_IMAGE_PIXELS
    if mode is None or (limit is not None and width * height > limit) or max(width, height) > MAX_SIDE:
        return None
    notes: list[str] = []
    extension = _extension("JPEG", filename, notes)
    return VerifiedImage("JPEG", width, height, mode, 1, extension, tuple(notes))


def _inspect(image: Image.Image, filename: str, data: bytes, layout: JpegLayout | None) -> VerifiedImage:
    fmt = image.format or "unknown"
    if fmt not in NATIVE_EXTENSIONS and fmt not in CONVERTED_FORMATS:
        raise ImageRejected(f"{fmt} images are not supported; save it as PNG, JPEG or WebP")
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    # Checked here rather than by turning Pillow's warning into an error: warning filters are
    # process-wide and not thread-safe, and verification runs in worker threads.
    if limit is not None and width * height > limit:
        raise ImageRejected(
            f"{width}x{height} = {width * height:,} pixels is over Pillow's decompression-bomb "
            f"limit of {limit:,}; downscale the image first"
        )
    if max(width, height) > MAX_SIDE:
        raise ImageRejected(f"{width}x{height} px is larger than {MAX_SIDE} px on a side; downscale it first")
    if image.mode not in _KNOWN_MODES:
        raise ImageRejected(f"colour mode {image.mode} is not supported; save it as 8-bit RGB")
    decoded = _load_unless_sound(image, fmt, data, layout)
    notes = _notes(image)
    # A verified PNG cannot be read any more: its EXIF is what came before the pixels (checked).
    orientation = _orientation(image) if decoded or "exif" in image.info else 1
    if orientation != 1:
        notes.append(
            f"EXIF orientation {orientation}: shown upright here, but sd-scripts ignores EXIF "
            "and trains it rotated"
        )
    converted: bytes | None = None
    if fmt in CONVERTED_FORMATS or image.mode in _SIXTEEN_BIT_MODES:
        converted = _to_png(image)
        notes.append(f"converted from {fmt} ({image.mode}) to 8-bit PNG, which sd-scripts reads")
        extension = ".png"
    else:
        extension = _extension(fmt, filename, notes)
    return VerifiedImage(fmt, width, height, image.mode, orientation, extension, tuple(notes), converted)


def _load_unless_sound(image: Image.Image, fmt: str, data: bytes, layout: JpegLayout | None) -> bool:
    """Decode ``image`` unless its structure alone proves it complete (JPEG: 3-15x cheaper, PNG:
    CRCs instead of inflating); False when it was not decoded. ``layout``: the JPEG walk's result."""
    if fmt in ("JPEG", "MPO") and layout is not None:
        return False
    if fmt == "PNG" and _png_verifiable(image, data):
        image.verify()  # raises on a bad CRC or a missing chunk, as a decode would
        return False
    if fmt in ("JPEG", "MPO"):
        # Decode at 1/8 scale: every byte of the scan is still entropy-decoded (truncation
        # still fails, with Pillow's own message), but the costly full-size IDCT is skipped.
        width, height = image.size
        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
    image.load()
    return True


def _png_verifiable(image: Image.Image, data: bytes) -> bool:
    """Whether checking the chunks is enough: no pixels are needed for the notes (alpha usage)
    or a conversion (16 bit), and no EXIF hides after the pixels (verify would skip it)."""
    if image.mode not in ("1", "L", "P", "RGB") or "Raw profile type exif" in image.info:
        return False
    start = getattr(image, "tile", None)
    after_pixels = start[0][2] if start else 0
    return "exif" in image.info or data.find(b"eXIf", after_pixels) < 0


def _notes(image: Image.Image) -> list[str]:
    notes = []
    frames = int(getattr(image, "n_frames", 1))
    # MPO (phone JPEGs) carry a second frame for depth or preview: not an animation.
    if image.format != "MPO" and getattr(image, "is_animated", False) and frames > 1:
        notes.append(f"animated ({frames} frames): only the first frame is used")
    if image.mode == "CMYK":
        notes.append("CMYK colours: sd-scripts converts them to RGB, colours may shift")
    if _uses_transparency(image):
        notes.append("has transparency: sd-scripts drops it unless alpha_mask is on")
    return notes


def _uses_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        extrema = image.getchannel("A").getextrema()
        low = extrema[0]
        return isinstance(low, int | float) and low < 255
    return image.mode == "P" and "transparency" in image.info


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, SyntaxError, ValueError):  # broken EXIF is not a broken image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _extension(fmt: str, filename: str, notes: list[str]) -> str:
    given = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    expected = NATIVE_EXTENSIONS[fmt]
    if expected == ".jpg" and given in (".jpg", ".jpeg"):
        return given
    if given != expected:
        notes.append(f"the content is {fmt}; saved with the extension {expected}")
    return expected


def _to_png(image: Image.Image) -> bytes:
    frame = image
    if image.mode in _SIXTEEN_BIT_MODES:
        # Scale 16-bit (or wider) values down to 0..255 instead of clipping them.
        extrema = image.getextrema()
        high = extrema[1]
        scale = 255.0 / 65535.0 if isinstance(high, int | float) and high > 255 else 1.0
        frame = image.convert("F").point(lambda value: value * scale).convert("L")
    elif image.mode == "CMYK" or image.mode == "YCbCr":
        frame = image.convert("RGB")
    buffer = io.BytesIO()
    frame.save(buffer, "PNG")
    return buffer.getvalue()


def _unidentified_reason(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<svg", b"<")):
        return "not an image: the content is HTML/XML text (a web page saved under an image name?)"
    if head.startswith(b"pk\x03\x04"):
        return "not an image: the content is a zip archive"
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "not an image format Pillow can read"
    return "not an image: the content is plain text"


def exif_transposed(image: Image.Image) -> Image.Image:
    """``image`` turned upright by its EXIF orientation (for thumbnails)."""
    return ImageOps.exif_transpose(image) or image
