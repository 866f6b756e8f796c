"""Import images into a dataset: verify in parallel, skip duplicates, never overwrite, all-or-report.

Each file is read once, then hashed and verified (file_check.py) and written to a hidden staging
folder inside the dataset (``.staging-<pid>-<id>``, which sd-scripts and our listings ignore):
files on disk in the app's checking processes (check_pool.py; Python threads would take turns on
the GIL), zip entries in threads of this process, which alone can read them. Names are planned as
the outcomes arrive. Only when every file has an outcome are the accepted ones moved into their
concept folders, each move one system call that refuses to replace an existing file. If anything
fails midway, what was moved is taken back out and the staging folder is removed: no partial
files remain.
"""

from __future__ import annotations

import os
import shutil
import uuid
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.errors import ImportFailed
from lora_studio.core.renames import move_no_replace
from lora_studio.services.datasets import check_pool
from lora_studio.services.datasets.catalog import DatasetCatalog, check_concept, check_repeats
from lora_studio.services.datasets.file_check import FileTask, Outcome, check_data
from lora_studio.services.datasets.models import ImportReport, ImportRow, ImportStatus
from lora_studio.services.datasets.naming import ExistingContent, NameBook
from lora_studio.services.datasets.sources import Candidate, CaptionSource, collect
from lora_studio.services.datasets.verify import VerifiedImage
from lora_studio.services.datasets.zipsafe import ZipLimits

ProgressCallback = Callable[[float, str], None]
BATCH = 8  # files per task handed to a worker thread
PROCESS_BATCH = 64  # files per task handed to a checking process (a task costs ~ a small file)
POOL_MIN_FILES = 32  # fewer files on disk are checked in this process: handing them over costs more
# Starting the processes costs ~0.4 s (the app starts them at launch); a one-off import (the CLI)
# starts them only for this many files or more, where they save more than that.
POOL_START_FILES = 2000
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
    staged: str | None = None  # the staged copy's path
    image: VerifiedImage | None = None
    reason: str = ""
    # Each caption's bytes, or why it could not be read (read here, while a zip is still open).
    captions: tuple[tuple[CaptionSource, bytes | str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Move:
    staged: str | Path
    target: Path


class Importer:
    def __init__(
        self,
        catalog: DatasetCatalog,
        *,
        workers: int | None = None,
        limits: ZipLimits | None = None,
        processes: bool = True,
    ) -> None:
        self.catalog = catalog
        # Threads for zip entries (and a few files): their reads are serialised per archive anyway.
        self.workers = workers or max(2, min(8, os.cpu_count() or 2))
        self.limits = limits or ZipLimits()
        self.processes = processes  # whether files on disk may go to the checking processes

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
            with ExitStack() as stack:  # zips stay open, and processes are waited for, until planned
                collected = collect(paths, stack, self.limits)
                checked = stack.enter_context(
                    closing(self._check_all(collected.candidates, staging, on_progress))
                )
                rows, moves, new_concepts = self._plan(dataset, checked, concept, repeats, staging)
            self._commit(dataset, moves, new_concepts)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            self.catalog.folders.invalidate(dataset)
        ordered = sorted(collected.rejected + rows, key=lambda row: row.source)
        return ImportReport(dataset=dataset.name, rows=tuple(ordered))

    def _check_all(
        self, candidates: list[Candidate], staging: Path, on_progress: ProgressCallback | None
    ) -> Generator[_Checked, None, None]:
        """Every candidate's outcome, in order, as soon as it is known (the plan is made meanwhile):
        files on disk in the checking processes when there are enough of them to gain from it, the
        rest (zip entries) in threads meanwhile. Close it to wait for the processes to finish."""
        total = len(candidates)
        done = 0

        def reported(result: _Checked) -> _Checked:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done / total, f"checked {done}/{total}: {result.candidate.source}")
            return result

        on_disk = [index for index, item in enumerate(candidates) if item.path is not None]
        wanted = POOL_MIN_FILES if check_pool.started() else POOL_START_FILES
        if not self.processes or len(on_disk) < wanted:
            on_disk = []
        in_process = sorted(set(range(total)) - set(on_disk))
        futures = [
            (batch, check_pool.submit([_file_task(candidates[index], staging, index) for index in batch]))
            for batch in _batches(on_disk, PROCESS_BATCH)
        ]
        try:
            ready: dict[int, _Checked] = {}
            with ThreadPoolExecutor(self.workers, thread_name_prefix="import") as pool:
                tasks = [
                    [(index, candidates[index], staging) for index in batch]
                    for batch in _batches(in_process, BATCH)
                ]
                for results in pool.map(_check_batch, tasks):
                    ready.update((index, reported(result)) for index, result in results)
            batches = iter(futures)
            for index in range(total):
                if index not in ready:  # the next process batch holds it: batches are in order
                    batch, future = next(batches)
                    for number, outcome in zip(batch, future.result(), strict=True):
                        ready[number] = reported(_from_outcome(candidates[number], outcome))
                yield ready.pop(index)
        except BrokenProcessPool:
            check_pool.discard()
            raise ImportFailed(
                "A process checking the images stopped (out of memory?); nothing was imported.",
                hint="Try again, or import fewer or smaller images at once.",
            ) from None
        finally:  # no checking process may still write into the staging folder once it is removed
            for _, future in futures:
                future.cancel()
            wait([future for _, future in futures])

    def _plan(
        self, dataset: Path, checked: Iterable[_Checked], concept: str, repeats: int | None, staging: Path
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
            final, rename_note = names.claim(
                folder, os.path.splitext(item.candidate.filename)[0], item.image.extension
            )
            notes = [*item.image.notes, *(n for n in (note, rename_note) if n)]
            moves.append(_Move(item.staged, final))
            caption, caption_notes = _stage_captions(item.captions, staging, final, moves)
            notes.extend(caption_notes)
            rows.append(
                ImportRow(
                    source,
                    ImportStatus.ACCEPTED,
                    "; ".join(notes),
                    final_path=_in_dataset(final),
                    caption_path=_in_dataset(caption) if caption else None,
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
                move_no_replace(move.staged, move.target)
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


def _in_dataset(path: Path) -> str:
    """``path`` (a file in a concept folder) relative to its dataset, as the report shows it."""
    return f"{path.parent.name}/{path.name}"


def _batches(indices: list[int], size: int) -> list[list[int]]:
    return [indices[start : start + size] for start in range(0, len(indices), size)]


def _file_task(candidate: Candidate, staging: Path, index: int) -> FileTask:
    return (str(candidate.path), f"{staging}/{index:06d}", candidate.filename)


def _check_batch(batch: list[tuple[int, Candidate, Path]]) -> list[tuple[int, _Checked]]:
    return [(index, _check_one(candidate, staging, index)) for index, candidate, staging in batch]


def _check_one(candidate: Candidate, staging: Path, index: int) -> _Checked:
    try:
        data = candidate.load()
    except READ_ERRORS as error:
        return _Checked(candidate, reason=f"cannot be read: {error}")
    return _from_outcome(candidate, check_data(data, candidate.filename, f"{staging}/{index:06d}"))


def _from_outcome(candidate: Candidate, outcome: Outcome) -> _Checked:
    if outcome.image is None or outcome.staged is None:
        return _Checked(candidate, outcome.digest, reason=outcome.reason)
    captions = tuple(_read_captions(candidate)) if candidate.captions else ()
    return _Checked(candidate, outcome.digest, outcome.staged, outcome.image, captions=captions)


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
