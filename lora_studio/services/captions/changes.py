"""Plan a bulk operation over scanned captions, apply it with an undo record, and undo it.

``plan_changes`` is pure. ``apply_plan`` and ``undo_record`` touch the disk following the protocol
in ``undo.py``: the undo record is durable before the first caption changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lora_studio.core.errors import CaptionConflict
from lora_studio.core.paths import relative_inside, safe_name
from lora_studio.services.captions.bulk import OperationBase
from lora_studio.services.captions.models import CaptionState
from lora_studio.services.captions.store import (
    CaptionCache,
    Entry,
    caption_content,
    parse_caption_bytes,
    remove_stale_temps,
)
from lora_studio.services.captions.tags import one_line
from lora_studio.services.captions.undo import (
    UndoEntry,
    UndoMeta,
    UndoRecord,
    UndoStatus,
    new_record_id,
    prune,
    undo_folder,
    write_meta,
    write_record,
)
from lora_studio.services.captions.writer import CaptionWriter, flush_file_system

ProgressCallback = Callable[[float, str], None]
PROGRESS_EVERY = 200  # captions between two progress calls


@dataclass(frozen=True)
class Change:
    entry: Entry
    new_text: str


@dataclass(frozen=True)
class Plan:
    matched: int
    changes: tuple[Change, ...]
    skipped_not_utf8: tuple[str, ...]
    skipped_empty: tuple[str, ...]


def plan_changes(entries: Sequence[Entry], operation: OperationBase) -> Plan:
    """Which captions ``operation`` changes and to what; nothing is written."""
    changes: list[Change] = []
    not_utf8: list[str] = []
    emptied: list[str] = []
    for entry in entries:
        if entry.parsed.state is CaptionState.NOT_UTF8:
            not_utf8.append(entry.caption)
            continue
        new_text = one_line(operation.apply_split(entry.parsed.text, list(entry.parsed.tags)))
        if new_text == entry.parsed.text:
            continue
        if not new_text:
            emptied.append(entry.caption)  # sd-scripts stops on an empty caption file
            continue
        changes.append(Change(entry, new_text))
    return Plan(len(entries), tuple(changes), tuple(not_utf8), tuple(emptied))


def apply_plan(
    dataset_dir: Path,
    plan: Plan,
    operation: OperationBase,
    cache: CaptionCache,
    *,
    on_progress: ProgressCallback | None = None,
) -> str:
    """Write the undo record, then every changed caption; returns the undo record's id.

    Safe without one fsync per caption (20,000 of them would cost more than the edit itself):
    1. the undo record (old and new content of every caption) is fsynced, with its folder,
       before the first caption changes;
    2. each caption then changes in one atomic step (``CaptionWriter``), so a killed process
       leaves every caption old or new, and the record says ``pending``;
    3. after a power cut, captions not yet written back may be old, new or garbage (file systems
       do not order file data against renames), but the durable record holds both texts of
       each: undo restores them all (those that are neither are listed; undo with force);
    4. one syncfs at the end makes the new captions durable before the record says ``applied``.
    """
    folder = undo_folder(dataset_dir)
    kind = str(operation.model_dump().get("kind", "edit"))
    record = UndoRecord(
        id=new_record_id(kind),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        description=operation.describe(),
        operation=operation.model_dump(mode="json"),
        entries=tuple(
            UndoEntry(caption=c.entry.caption, old=c.entry.parsed.raw, new=caption_content(c.new_text))
            for c in plan.changes
        ),
    )
    meta = write_record(folder, record)
    total = len(record.entries)
    root = str(dataset_dir)
    with CaptionWriter() as writer:
        for done, undo_entry in enumerate(record.entries, start=1):
            path = os.path.join(root, undo_entry.caption)  # checked names from our own scan
            data = undo_entry.new.encode("utf-8")
            # Remembering what we wrote saves re-reading it on the next table or filter.
            cache.put(path, writer.write(path, data), parse_caption_bytes(data))
            if on_progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                on_progress(done / total, f"{done}/{total} captions")
    flush_file_system(root)
    write_meta(folder, meta.model_copy(update={"status": UndoStatus.APPLIED}))
    prune(folder)
    return record.id


def undo_record(
    dataset_dir: Path, record: UndoRecord, meta: UndoMeta, *, force: bool
) -> tuple[int, list[str]]:
    """Restore the old content of every caption in ``record``; returns (restored, conflicts).

    A caption that is neither the old nor the new content was edited since, or whose folder is
    gone: it is a conflict, and without ``force`` nothing at all is restored (with ``force`` the
    edited ones are overwritten; those without a folder stay gone).

    Raises:
        CaptionConflict: conflicts were found and ``force`` is False.
    """
    todo: list[tuple[str, str | None]] = []
    conflicts: list[str] = []
    folders: dict[str, Path | None] = {}  # concept folder -> its checked path, None when gone
    lost = 0
    for entry in record.entries:
        path = _checked_caption(dataset_dir, entry.caption, folders)
        if path is None:
            conflicts.append(entry.caption)  # its concept folder was deleted or renamed since
            lost += 1
            continue
        current = _current_bytes(path)
        if current == _encoded(entry.old):
            continue
        if current != entry.new.encode("utf-8"):
            conflicts.append(entry.caption)
        todo.append((path, entry.old))
    if conflicts and not force:
        shown = ", ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
        raise CaptionConflict(
            f"{len(conflicts)} captions were edited (or their folder removed) after "
            f"'{record.description}' ({shown}); nothing was undone.",
            hint="Undo with force to overwrite those edits too.",
        )
    with CaptionWriter() as writer:
        for path, old in todo:
            if old is None:
                Path(path).unlink(missing_ok=True)
            else:
                writer.write(path, old.encode("utf-8"))
    for folder in folders.values():
        if folder is not None:
            remove_stale_temps(folder)
    flush_file_system(str(dataset_dir))
    write_meta(undo_folder(dataset_dir), meta.model_copy(update={"status": UndoStatus.UNDONE}))
    return len(record.entries) - lost, conflicts


def _checked_caption(dataset_dir: Path, caption: str, folders: dict[str, Path | None]) -> str | None:
    """The path of a caption named in a record (a file the person could edit), checked once per
    folder: resolving 20,000 paths one by one cost more than the whole undo. None: folder gone."""
    folder, _, name = caption.rpartition("/")
    if folder not in folders:
        checked = relative_inside(dataset_dir, folder)  # raises for "..", absolute paths, escapes
        folders[folder] = checked if checked.is_dir() else None
    base = folders[folder]
    if base is None:
        return None
    safe_name(name)  # raises for "", "..", separators; the name is used as recorded (NFD stays NFD)
    return os.path.join(base, name)


def _current_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _encoded(content: str | None) -> bytes | None:
    return None if content is None else content.encode("utf-8")
