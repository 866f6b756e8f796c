"""Model files on disk: list them (with family from the header, cached by size + mtime), find where they are
used, delete them.

Hidden files and folders (``.cache/`` of huggingface_hub's local-dir downloads, ``.*.part`` partial URL
downloads) are never listed.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InvalidInput, InvalidModelFile, ModelNotFound, PathEscape
from lora_studio.core.paths import ensure_inside
from lora_studio.core.types import JobKind, ModelFamily
from lora_studio.services.models.family import Detection, LoraMetadata, detect, read_lora_metadata
from lora_studio.services.models.safetensors_header import SAFETENSORS_EXTENSIONS, read_header

# Formats sd-scripts also loads; their family cannot be read without unpickling, so we only list them.
OTHER_MODEL_EXTENSIONS = frozenset({".ckpt", ".pt", ".pth", ".bin"})
# Run files that name the models a training run used (job record, rendered TOMLs).
_USAGE_FILE_PATTERNS = ("job.json", "*.toml")
_MAX_USAGE_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class LocalModel:
    """One model file found on disk."""

    path: Path
    root: Path
    relative: str
    size_bytes: int
    modified: float
    detection: Detection
    dtype: str | None = None
    parameters: int = 0
    error: str | None = None
    lora: LoraMetadata | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> ModelKind:
        return self.detection.kind

    @property
    def family(self) -> ModelFamily | None:
        return self.detection.family


def inspect_file(path: Path, root: Path | None = None) -> LocalModel:
    """Describe one file from its header. A file whose header cannot be read is returned with ``error``.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    stat = path.stat()
    base = root if root is not None else path.parent
    relative = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name
    unknown = LocalModel(
        path=path,
        root=base,
        relative=relative,
        size_bytes=stat.st_size,
        modified=stat.st_mtime,
        detection=Detection(ModelKind.UNKNOWN),
    )
    if path.suffix.lower() not in SAFETENSORS_EXTENSIONS:
        return replace(
            unknown, error=f"{path.suffix} file: the family is only read from .safetensors headers"
        )
    try:
        header = read_header(path)
    except InvalidModelFile as error:
        return replace(unknown, error=str(error))
    detection = detect(header)
    lora = read_lora_metadata(header) if detection.kind is ModelKind.LORA else None
    return replace(
        unknown, detection=detection, dtype=header.main_dtype(), parameters=header.parameter_count, lora=lora
    )


class ModelIndex:
    """Lists model files under some roots; headers are re-read only when a file's size or mtime changes."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], LocalModel]] = {}
        self._lock = threading.Lock()

    def scan(self, roots: Sequence[Path]) -> list[LocalModel]:
        found: list[LocalModel] = []
        seen: set[Path] = set()
        for root in roots:
            for path in iter_model_files(root):
                if path in seen:
                    continue
                seen.add(path)
                model = self._describe(path, root)
                if model is not None:
                    found.append(model)
        with self._lock:
            for stale in set(self._cache) - seen:
                del self._cache[stale]
        return sorted(found, key=lambda model: (str(model.root), model.relative.lower()))

    def forget(self, path: Path) -> None:
        with self._lock:
            self._cache.pop(path, None)

    def _describe(self, path: Path, root: Path) -> LocalModel | None:
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted while we walked: simply not there any more
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp and cached[1].root == root:
            return cached[1]
        model = inspect_file(path, root)
        with self._lock:
            self._cache[path] = (stamp, model)
        return model


def iter_model_files(root: Path) -> Iterator[Path]:
    """Model files below ``root`` (absolute paths), skipping hidden entries and symlinked folders."""
    if not root.is_dir():
        return
    extensions = SAFETENSORS_EXTENSIONS | OTHER_MODEL_EXTENSIONS
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if not name.startswith(".") and path.suffix.lower() in extensions and path.is_file():
                yield path.absolute()


def find_usage(
    models: Iterable[LocalModel], runs_dir: Path, loras: Iterable[LocalModel] = ()
) -> dict[Path, list[str]]:
    """Where each model is used: training runs whose record or TOML names its path, and LoRAs trained on it."""
    texts = list(_run_texts(runs_dir))
    lora_list = list(loras)
    usage: dict[Path, list[str]] = {}
    for model in models:
        places = [f"run {run_id}" for run_id, text in texts if str(model.path) in text]
        places += [
            f"LoRA {lora.relative}"
            for lora in lora_list
            if lora.lora is not None and lora.lora.base_model == model.name
        ]
        usage[model.path] = places
    return usage


def _run_texts(runs_dir: Path) -> Iterator[tuple[str, str]]:
    if not runs_dir.is_dir():
        return
    for run in sorted(runs_dir.iterdir()):
        if not run.is_dir() or run.name.startswith(".") or _is_download_run(run):
            continue
        parts = []
        for pattern in _USAGE_FILE_PATTERNS:
            for file in run.glob(pattern):
                if file.is_file() and file.stat().st_size <= _MAX_USAGE_FILE_BYTES:
                    parts.append(file.read_text(encoding="utf-8", errors="replace"))
        # Paths inside JSON have escaped backslashes on Windows; forward slashes are unchanged.
        yield run.name, "\n".join(parts).replace("\\\\", "\\")


def _is_download_run(run: Path) -> bool:
    """A download job names the file it fetched, which is not a use of that file."""
    try:
        record = json.loads((run / "job.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):  # no record (or a half-written one): judge by its files
        return False
    spec = record.get("spec") if isinstance(record, dict) else None
    return isinstance(spec, dict) and spec.get("kind") == JobKind.DOWNLOAD.value


def resolve_model_path(path: str | Path, roots: Sequence[Path]) -> tuple[Path, Path]:
    """Turn a path a person gave (absolute, or relative to a root) into (file, root), refusing escapes.

    Raises:
        PathEscape: the path is outside every models folder.
        ModelNotFound: no such file.
    """
    given = Path(path)
    escapes = 0
    for root in roots:
        candidate = given if given.is_absolute() else root / given
        try:
            real = ensure_inside(root, candidate)
        except PathEscape:
            escapes += 1
            continue
        if real.is_file():
            return candidate.absolute(), root
    if roots and escapes == len(roots):
        raise PathEscape(str(path), ", ".join(str(root) for root in roots))
    raise ModelNotFound(str(path), hint="Refresh the list; the file may have been moved or deleted.")


def delete_model(path: str | Path, roots: Sequence[Path], *, confirm: str) -> Path:
    """Delete one model file after the person typed its file name as confirmation.

    Raises:
        InvalidInput: ``confirm`` is not the file's name.
        PathEscape / ModelNotFound: as ``resolve_model_path``.
    """
    file, _root = resolve_model_path(path, roots)
    if confirm != file.name:
        raise InvalidInput(
            f"Not deleted: the confirmation {confirm!r} does not match {file.name!r}.",
            hint="Type the exact file name to confirm the deletion.",
        )
    file.unlink()
    return file
