"""Undo records for bulk caption operations, in ``<dataset>/.lora_studio/undo/``.

Protocol (crash-safe): before a bulk operation writes any caption, ``<id>.json`` (the old and
new content of every caption it will touch) is written atomically and fsynced, then
``<id>.meta.json`` with status ``pending``. Captions are replaced one by one by rename, so each is
old or new at any instant. At the end the meta becomes ``applied``. A record still ``pending``
when no operation runs means the operation was interrupted; undoing it restores every caption
that is old or new, which after a crash is all of them.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from lora_studio.core.atomic import write_bytes_atomic, write_json_atomic
from lora_studio.core.errors import ConfigInvalid
from lora_studio.services.captions.dataset_settings import STATE_FOLDER
from lora_studio.services.captions.models import UndoSummary

UNDO_FOLDER = "undo"
KEEP_RECORDS = 30
_RECORD_SUFFIX = ".json"
_META_SUFFIX = ".meta.json"


class UndoStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    UNDONE = "undone"


class UndoEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    caption: str  # relative to the dataset, "10_alice/001.txt"
    old: str | None  # exact old content; None: the file did not exist
    new: str  # exact content the operation writes


class UndoRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    id: str
    created: str
    description: str
    operation: dict[str, Any]
    entries: tuple[UndoEntry, ...]


class UndoMeta(BaseModel):
    """The small, mutable half of a record: listing history never parses the big file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    id: str
    created: str
    description: str
    captions: int
    status: UndoStatus

    def summary(self) -> UndoSummary:
        return UndoSummary(self.id, self.created, self.description, self.captions, self.status.value)


def undo_folder(dataset_dir: Path) -> Path:
    return dataset_dir / STATE_FOLDER / UNDO_FOLDER


def new_record_id(kind: str) -> str:
    """Sortable by time: ``20250101T120000.123456Z-add_tags``."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}-{kind}"


def write_record(folder: Path, record: UndoRecord) -> UndoMeta:
    """Persist the record (fsynced) and its ``pending`` meta; call before touching any caption."""
    write_bytes_atomic(folder / f"{record.id}{_RECORD_SUFFIX}", record.model_dump_json().encode("utf-8"))
    meta = UndoMeta(
        id=record.id,
        created=record.created,
        description=record.description,
        captions=len(record.entries),
        status=UndoStatus.PENDING,
    )
    write_meta(folder, meta)
    _fsync_folder(folder)  # the record's name is durable too, not only its bytes
    return meta


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # folders cannot be opened for fsync on Windows; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_meta(folder: Path, meta: UndoMeta) -> None:
    write_json_atomic(folder / f"{meta.id}{_META_SUFFIX}", meta.model_dump(mode="json"))


def load_record(folder: Path, record_id: str) -> UndoRecord:
    path = folder / f"{record_id}{_RECORD_SUFFIX}"
    try:
        return UndoRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ConfigInvalid(
            f"The undo record {path} cannot be read ({error}); it cannot be undone."
        ) from error


def list_metas(folder: Path) -> list[UndoMeta]:
    """Every readable record's meta, newest first."""
    if not folder.is_dir():
        return []
    metas = []
    for name in sorted(os.listdir(folder), reverse=True):
        if name.endswith(_META_SUFFIX):
            metas.append(_read_meta(folder / name))
    return metas


def _read_meta(path: Path) -> UndoMeta:
    try:
        return UndoMeta.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ConfigInvalid(f"The undo history file {path} is damaged ({error}); delete it.") from error


def prune(folder: Path, keep: int = KEEP_RECORDS) -> None:
    """Drop the oldest records beyond ``keep`` (the history is short by design)."""
    for meta in list_metas(folder)[keep:]:
        (folder / f"{meta.id}{_RECORD_SUFFIX}").unlink(missing_ok=True)
        (folder / f"{meta.id}{_META_SUFFIX}").unlink(missing_ok=True)
