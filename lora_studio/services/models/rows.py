"""What the Models tab shows, as plain rows: catalog entries, local model files, LoRA outputs, and how a
download job ended. Pure functions over the service's data; no UI toolkit here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lora_studio.config.catalog import CatalogEntry
from lora_studio.core.types import JobStatus
from lora_studio.services.models.family import LoraMetadata
from lora_studio.services.models.local import LocalModel

# The worker prints its one explanatory line with this prefix (see lora_studio.workers.download.main).
ERROR_PREFIX = "ERROR: "
_SAVED_PREFIX = "saved: "
TOP_TAGS = 8


@dataclass(frozen=True)
class CatalogRow:
    id: str
    name: str
    family: str
    kind: str
    size: str
    gated: str  # markdown: a link to the page where the licence is accepted
    licence: str  # markdown


@dataclass(frozen=True)
class LocalRow:
    file: str
    family: str
    kind: str
    size: str
    used_by: str
    note: str


@dataclass(frozen=True)
class LoraRow:
    file: str
    base_model: str
    family: str
    dim_alpha: str  # "8 / 4"
    steps: str  # "120 (epoch 3/3)"
    resolution: str
    size: str
    modified: str
    tags: str


def format_size(size_bytes: int | None) -> str:
    """ "6.94 GB", "335.0 MB", "12.3 kB"; "" when unknown."""
    if size_bytes is None:
        return ""
    for scale, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if size_bytes >= scale:
            digits = 2 if unit == "GB" else 1
            return f"{size_bytes / scale:.{digits}f} {unit}"
    return f"{size_bytes} B"


def _link(text: str, url: str) -> str:
    return f"[{text.replace(']', ')')}]({url.replace(')', '%29')})"


def catalog_row(entry: CatalogEntry) -> CatalogRow:
    licence = _link(entry.licence, entry.licence_url) if entry.licence_url else entry.licence
    return CatalogRow(
        id=entry.id,
        name=entry.name,
        family=entry.family.value if entry.family else "any",
        kind=entry.kind.value,
        size=format_size(entry.size_bytes),
        gated=_link("yes: accept the licence", entry.page_url) if entry.gated else "no",
        licence=licence,
    )


def display_path(model: LocalModel, main_root: Path) -> str:
    """Relative to the workspace's models/ folder; the full path for files in an extra folder."""
    return model.relative if model.root == main_root else str(model.path)


def local_row(model: LocalModel, main_root: Path, used_by: Sequence[str]) -> LocalRow:
    note = model.error or (f"variant: {model.detection.variant}" if model.detection.variant else "")
    return LocalRow(
        file=display_path(model, main_root),
        family=model.family.value if model.family else "",
        kind=model.kind.value,
        size=format_size(model.size_bytes),
        used_by=", ".join(used_by),
        note=note,
    )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def lora_row(model: LocalModel) -> LoraRow:
    meta = model.lora or LoraMetadata()
    tags = ", ".join(f"{tag} ({count})" for tag, count in meta.top_tags(TOP_TAGS))
    dim_alpha = " / ".join(
        _number(value) for value in (meta.network_dim, meta.network_alpha) if value is not None
    )
    steps = _number(meta.steps)
    if meta.epoch is not None:
        epoch = f"{meta.epoch}/{meta.num_epochs}" if meta.num_epochs else str(meta.epoch)
        steps = f"{steps} (epoch {epoch})".strip()
    return LoraRow(
        file=model.relative,
        base_model=meta.base_model or "",
        family=model.family.value if model.family else "",
        dim_alpha=dim_alpha,
        steps=steps,
        resolution=meta.resolution or "",
        size=format_size(model.size_bytes),
        modified=time.strftime("%Y-%m-%d %H:%M", time.localtime(model.modified)),
        tags=tags,
    )


def local_rows(
    models: Iterable[LocalModel], main_root: Path, usage: Mapping[Path, Sequence[str]]
) -> list[LocalRow]:
    return [local_row(model, main_root, usage.get(model.path, ())) for model in models]


def download_outcome(status: JobStatus, reason: str | None, log_lines: Sequence[str]) -> str:
    """One markdown line on how a download job ended ("" while it runs).

    A failure shows the worker's own explanation (what to do for a gated model, a missing file, a full
    disk); the job's generic reason ("exit code 3") only when the log has none.
    """
    if status.is_active:
        return ""
    if status is JobStatus.SUCCEEDED:
        saved = last_with_prefix(log_lines, _SAVED_PREFIX)
        return f"**Downloaded** to `{saved}`." if saved else "**Downloaded.**"
    if status is JobStatus.STOPPED:
        return "**Download stopped.** Start it again to resume where it stopped."
    explanation = last_with_prefix(log_lines, ERROR_PREFIX)
    return f"**Download failed:** {explanation or reason or 'see the log above.'}"


def last_with_prefix(lines: Sequence[str], prefix: str) -> str | None:
    """The rest of the last log line starting with ``prefix`` (a worker's own outcome line)."""
    for line in reversed(lines):
        stripped = line.strip()
        if stripped.startswith(prefix):
            return stripped[len(prefix) :].strip()
    return None
