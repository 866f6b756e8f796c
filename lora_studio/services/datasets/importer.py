"""Import images into a dataset: verify in parallel, skip duplicates, never overwrite, all-or-report.

Each file is read once, then hashed and verified (verify.py) in a worker thread and written to a hidden
staging folder inside the dataset (``.staging-<pid>-<id>``, which sd-scripts and our
listings ignore). Only when every file has an outcome are the accepted ones moved into their
concept folders, each move refusing to replace an existing file. If anything fails midway,
what was moved is taken back out and the staging folder is removed: no partial files remain.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from lora_studio.services.datasets.catalog import DatasetCatalog, check_concept, check_repeats
from lora_studio.services.datasets.models import ImportReport, ImportRow, ImportStatus
from lora_studio.services.datasets.naming import ExistingContent, NameBook
from lora_studio.services.datasets.sources import Candidate, CaptionSource, collect
from lora_studio.services.datasets.verify import ImageRejected, VerifiedImage, verify_image
from lora_studio.services.datasets.zipsafe import ZipLimits

ProgressCallback = Callable[[float, str], None]
BATCH = 8  # files per task handed to a worker thread
# What reading a file or a zip entry can raise: bad CRC (BadZipFile), broken deflate data
# (zlib.error), encrypted or unsupported entries (RuntimeError, NotImplementedError).
READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


@dataclass(frozen=True, slots=True)
class _Checked:
    """A worker's outcome for one candidate."""

    candidate: Candidate
    digest: str = ""
    staged: Path | None = None
    image: VerifiedImage | None = None
    reason: str = ""
    # Each caption's bytes, or why it could not be read (read here, while a zip is still open).
    captions: tuple[tuple[CaptionSource, bytes | str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Move:
    staged: Path
    target: Path


class Importer:
    def __init__(
        self, catalog: DatasetCatalog, *, workers: int | None = None, limits: ZipLimits | None = None
    ) -> None:
        self.catalog = catalog
        # One thread per core: JPEG checks are mostly Python (GIL-bound); more threads only contend.
        self.workers = workers or max(2, min(8, os.cpu_count() or 2))
        self.limits = limits or ZipLimits()

    def run(
        self,
        dataset: Path,
        paths: list[Path],
        *,
        concept: str,
        repeats: int | None,
        on_progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import ``paths`` (image files, zips, folders) into ``dataset``; ``concept`` receives files
        that are not inside an ``N_name`` folder. ``repeats`` None keeps an existing concept's
        repeats (new concepts get DEFAULT_REPEATS)."""
        concept = check_concept(concept)
        repeats = check_repeats(repeats) if repeats is not None else None
        _remove_stale_staging(dataset)
        staging = dataset / f".staging-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        try:
            with ExitStack() as stack:
                collected = collect(paths, stack, self.limits)
                checked = self._check_all(collected.candidates, staging, on_progress)
            rows, moves, new_concepts = self._plan(dataset, checked, concept, repeats, staging)
            self._commit(dataset, moves, new_concepts)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self.catalog.folders.invalidate(dataset)
        ordered = sorted(collected.rejected + rows, key=lambda row: row.source)
        return ImportReport(dataset=dataset.name, rows=tuple(ordered))

    def _check_all(
        self, candidates: list[Candidate], staging: Path, on_progress: ProgressCallback | None
    ) -> list[_Checked]:
        total = len(candidates)
        results: list[_Checked] = []
        # Small batches: one future per file costs as much as checking a small JPEG.
        batches = [
            [
                (item, staging / f"{index:06d}")
                for index, item in enumerate(candidates[start : start + BATCH], start)
            ]
            for start in range(0, total, BATCH)
        ]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="import") as pool:
            for batch in pool.map(_check_batch, batches):
                for checked in batch:
                    results.append(checked)
                    if on_progress is not None:
                        done = len(results)
                        on_progress(done / total, f"checked {done}/{total}: {checked.candidate.source}")
        return results

    def _plan(
        self, dataset: Path, checked: list[_Checked], concept: str, repeats: int | None, staging: Path
    ) -> tuple[list[ImportRow], list[_Move], dict[str, int]]:
        """Decide every outcome and final name; touches nothing outside ``staging``."""
        existing = ExistingContent(self.catalog, dataset)
        names = NameBook(self.catalog, dataset)
        seen: dict[str, str] = {}
        rows: list[ImportRow] = []
        moves: list[_Move] = []
        new_concepts: dict[str, int] = {}
        for item in checked:
            source = item.candidate.source
            if item.image is None or item.staged is None:
                rows.append(ImportRow(source, ImportStatus.REJECTED, item.reason))
                continue
            first = seen.get(item.digest) or existing.find(item.candidate.size, item.digest)
            if first is not None:
                rows.append(ImportRow(source, ImportStatus.DUPLICATE, f"same content as {first}; skipped"))
                continue
            seen[item.digest] = source
            target_concept = item.candidate.concept or concept
            target_repeats = item.candidate.repeats or repeats
            folder, note = names.concept_folder(target_concept, target_repeats, new_concepts)
            final, rename_note = names.claim(folder, Path(item.candidate.filename).stem, item.image.extension)
            notes = [*item.image.notes, *(n for n in (note, rename_note) if n)]
            moves.append(_Move(item.staged, final))
            caption, caption_notes = _stage_captions(item.captions, staging, final, moves)
            notes.extend(caption_notes)
            rows.append(
                ImportRow(
                    source,
                    ImportStatus.ACCEPTED,
                    "; ".join(notes),
                    final_path=final.relative_to(dataset).as_posix(),
                    caption_path=caption.relative_to(dataset).as_posix() if caption else None,
                )
            )
        return rows, moves, new_concepts

    def _commit(self, dataset: Path, moves: list[_Move], new_concepts: dict[str, int]) -> None:
        created: list[Path] = []
        moved: list[Path] = []
        try:
            for concept, repeats in new_concepts.items():
                created.append(self.catalog.add_concept(dataset, concept, repeats))
            for move in moves:
                _move_no_overwrite(move.staged, move.target)
                moved.append(move.target)
        except BaseException:
            for path in reversed(moved):
                path.unlink(missing_ok=True)
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:  # someone else put files there meanwhile: keep them
                    continue
            raise
        finally:
            for folder in {move.target.parent for move in moves}:
                self.catalog.folders.invalidate(folder)


def _check_batch(batch: list[tuple[Candidate, Path]]) -> list[_Checked]:
    return [_check_one(candidate, staged_base) for candidate, staged_base in batch]


def _check_one(candidate: Candidate, staged_base: Path) -> _Checked:
    try:
        data = candidate.load()
    except READ_ERRORS as error:
        return _Checked(candidate, reason=f"cannot be read: {error}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = verify_image(data, candidate.filename)
    except ImageRejected as error:
        return _Checked(candidate, digest, reason=error.reason)
    staged = staged_base.with_suffix(image.extension)
    staged.write_bytes(image.converted if image.converted is not None else data)
    return _Checked(candidate, digest, staged, image, captions=tuple(_read_captions(candidate)))


def _read_captions(candidate: Candidate) -> list[tuple[CaptionSource, bytes | str]]:
    read: list[tuple[CaptionSource, bytes | str]] = []
    for caption in candidate.captions:
        try:
            read.append((caption, caption.load()))
        except READ_ERRORS as error:  # an unreadable caption does not spoil its image
            read.append((caption, f"caption {caption.source} dropped: {error}"))
    return read


def _stage_captions(
    captions: tuple[tuple[CaptionSource, bytes | str], ...],
    staging: Path,
    image_target: Path,
    moves: list[_Move],
) -> tuple[Path | None, list[str]]:
    """Check the captions that came with an image and stage them beside it; returns the first."""
    first: Path | None = None
    notes: list[str] = []
    for caption, data in captions:
        if isinstance(data, str):
            notes.append(data)
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            notes.append(f"caption {caption.source} dropped: not UTF-8 text")
            continue
        if not text.strip():
            notes.append(f"caption {caption.source} dropped: empty (sd-scripts refuses empty caption files)")
            continue
        staged = staging / f"{uuid.uuid4().hex}{caption.extension}"
        staged.write_text(text, encoding="utf-8")
        target = image_target.with_suffix(caption.extension)
        moves.append(_Move(staged, target))
        first = first or target
    return first, notes


def _move_no_overwrite(source: Path, target: Path) -> None:
    """Move within one file system, failing with FileExistsError instead of replacing ``target``."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # hard links unsupported here: fall back to a checked rename
        if target.exists():
            raise FileExistsError(target) from None
        os.rename(source, target)
        return
    source.unlink()


def _remove_stale_staging(dataset: Path) -> None:
    """Remove staging folders left by a process that died mid-import."""
    for entry in dataset.glob(".staging-*"):
        pid_text = entry.name.split("-")[1] if entry.name.count("-") >= 2 else ""
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(entry, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
