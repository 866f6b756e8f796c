"""Read a safetensors file's header (tensor names, dtypes, shapes, ``__metadata__``) without its tensors.

Format: 8 bytes little-endian header length N, then N bytes of JSON
``{"name": {"dtype": "F16", "shape": [..], "data_offsets": [a, b]}, ..., "__metadata__": {str: str}}``,
then the tensor bytes. Only the first 8 + N bytes are read, and N is bounded so that a hostile or broken
file cannot make us allocate gigabytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from math import prod
from pathlib import Path

from lora_studio.core.errors import InvalidModelFile

# Real headers are far below this (SDXL checkpoints: ~200 KB; LoRAs with tag frequencies: a few MB).
MAX_HEADER_BYTES = 100 * 1024 * 1024
SAFETENSORS_EXTENSIONS = frozenset({".safetensors", ".sft"})

DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    """The parsed header of one file."""

    tensors: dict[str, TensorInfo]
    metadata: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0

    @property
    def parameter_count(self) -> int:
        return sum(info.numel for info in self.tensors.values())

    def main_dtype(self) -> str | None:
        """The dtype holding the most parameters (what a person calls "an fp16 file")."""
        totals: dict[str, int] = {}
        for info in self.tensors.values():
            totals[info.dtype] = totals.get(info.dtype, 0) + info.numel
        return max(totals, key=lambda dtype: totals[dtype]) if totals else None


def read_header(path: Path, *, max_header_bytes: int = MAX_HEADER_BYTES) -> SafetensorsHeader:
    """Parse the header of the safetensors file at ``path``; tensor data is never read.

    Raises:
        InvalidModelFile: the file is too short, its header length is implausible, or the header is
            not the JSON object the format describes.
        FileNotFoundError: ``path`` does not exist.
    """
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise InvalidModelFile(f"{path.name} is too short to be a safetensors file.")
        (length,) = struct.unpack("<Q", prefix)
        size = path.stat().st_size
        if length < 2 or length > max_header_bytes or length > size - 8:
            raise InvalidModelFile(
                f"{path.name} is not a safetensors file (header length {length} for a {size}-byte file).",
                hint="It may be truncated (an interrupted download) or another format (.ckpt, .bin).",
            )
        raw = handle.read(length)
    return parse_header(raw, name=path.name)


def parse_header(raw: bytes, *, name: str = "file") -> SafetensorsHeader:
    """Parse header JSON bytes (the part after the 8-byte length).

    Raises:
        InvalidModelFile: not JSON, not an object, or entries without dtype/shape.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidModelFile(f"{name} has a header that is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidModelFile(f"{name} has a header that is not a JSON object.")
    metadata_raw = data.pop("__metadata__", None) or {}
    if not isinstance(metadata_raw, dict):
        raise InvalidModelFile(f"{name} has __metadata__ that is not an object.")
    metadata = {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in metadata_raw.items()
    }
    tensors: dict[str, TensorInfo] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise InvalidModelFile(f"{name}: tensor {key!r} has no dtype/shape entry.")
        dtype, shape = entry.get("dtype"), entry.get("shape")
        if not isinstance(dtype, str) or not isinstance(shape, list):
            raise InvalidModelFile(f"{name}: tensor {key!r} has no dtype/shape entry.")
        if not all(isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in shape):
            raise InvalidModelFile(f"{name}: tensor {key!r} has an invalid shape {shape!r}.")
        tensors[key] = TensorInfo(dtype=dtype, shape=tuple(shape))
    return SafetensorsHeader(tensors=tensors, metadata=metadata, header_bytes=len(raw))


def encode_header(
    tensors: dict[str, tuple[str, tuple[int, ...]]], metadata: dict[str, str] | None = None
) -> tuple[bytes, int]:
    """The 8-byte length plus header JSON for these tensors, and the size of the data that follows."""
    header: dict[str, object] = {}
    offset = 0
    for key, (dtype, shape) in tensors.items():
        nbytes = prod(shape) * DTYPE_BYTES[dtype]
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw, offset


def build_safetensors(
    tensors: dict[str, tuple[str, tuple[int, ...]]], metadata: dict[str, str] | None = None
) -> bytes:
    """A valid safetensors file with zero-filled tensors, in memory (fixtures; small shapes only)."""
    head, data_size = encode_header(tensors, metadata)
    return head + bytes(data_size)


def write_safetensors(
    path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]], metadata: dict[str, str] | None = None
) -> None:
    """Write a valid safetensors file whose zero data is a sparse hole: real shapes cost no disk (fixtures)."""
    head, data_size = encode_header(tensors, metadata)
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + data_size)
