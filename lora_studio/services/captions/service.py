"""CaptionService: the one object the Captions tab and ``python -m lora_studio captions`` call."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from pathlib import Path

from pydantic import ValidationError

from lora_studio.core.errors import (
    CaptionConflict,
    ConceptNotFound,
    DatasetNotFound,
    InvalidInput,
    NothingToUndo,
)
from lora_studio.core.layout import caption_path, parse_concept_folder
from lora_studio.core.paths import child_path, relative_inside
from lora_studio.core.settings import Settings
from lora_studio.services.captions import reports
from lora_studio.services.captions.bulk import OperationBase
from lora_studio.services.captions.changes import ProgressCallback, apply_plan, plan_changes, undo_record
from lora_studio.services.captions.character_tags import CharacterTags
from lora_studio.services.captions.dataset_settings import (
    CaptionExtension,
    CaptionSettings,
    load_caption_settings,
    save_caption_settings,
)
from lora_studio.services.captions.filtering import select
from lora_studio.services.captions.frequencies import COMMON_SHARE, SortBy, frequency_table, suggest
from lora_studio.services.captions.models import (
    ALL,
    BulkPreview,
    BulkResult,
    CaptionFilter,
    CaptionItem,
    CaptionPage,
    CaptionState,
    CaptionStats,
    ConceptInfo,
    Example,
    ExtensionReport,
    FrequencyTable,
    Suggestion,
    UndoResult,
    UndoSummary,
)
from lora_studio.services.captions.store import (
    CaptionCache,
    Entry,
    Scan,
    caption_content,
    concept_folders,
    image_path,
    read_caption,
    require_utf8,
    scan_dataset,
    write_caption_durable,
)
from lora_studio.services.captions.tags import one_line
from lora_studio.services.captions.thumbs import CaptionThumbnails
from lora_studio.services.captions.undo import list_metas, load_record, undo_folder


class CaptionService:
    """Browse, edit, bulk-edit and undo the captions of the datasets in ``settings.datasets_dir``.

    Datasets are named by folder (``"mychar"``), concepts by their folder (``"10_mychar"``),
    images and captions by their path inside the dataset (``"10_mychar/001.png"``).
    Every method may raise ``DatasetNotFound`` or ``InvalidName`` for a bad dataset name.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._cache = CaptionCache()
        self._write_lock = threading.RLock()
        self._thumbnails = CaptionThumbnails(settings.cache_dir / "thumbs")
        self._characters = CharacterTags(settings.models_dir)

    # -- settings ---------------------------------------------------------------------------

    def settings_for(self, dataset: str) -> CaptionSettings:
        return load_caption_settings(self._dataset_dir(dataset))

    def update_settings(
        self,
        dataset: str,
        *,
        caption_extension: CaptionExtension | None = None,
        style_set: bool | None = None,
    ) -> CaptionSettings:
        """Change the dataset's caption extension and/or style-set flag; None keeps a value.

        Raises:
            InvalidInput: an extension other than ``.txt`` / ``.caption``.
        """
        folder = self._dataset_dir(dataset)
        changes = {"caption_extension": caption_extension, "style_set": style_set}
        current = load_caption_settings(folder)
        try:
            updated = CaptionSettings.model_validate(
                current.model_dump() | {key: value for key, value in changes.items() if value is not None}
            )
        except ValidationError as error:
            raise InvalidInput(f"Invalid caption settings: {error.errors()[0]['msg']}.") from error
        with self._write_lock:
            save_caption_settings(folder, updated)
        return updated

    # -- browsing ---------------------------------------------------------------------------

    def concepts(self, dataset: str) -> tuple[ConceptInfo, ...]:
        folder = self._dataset_dir(dataset)
        extension = load_caption_settings(folder).caption_extension
        infos = []
        for name in concept_folders(folder):
            parsed = parse_concept_folder(name)
            assert parsed is not None  # concept_folders only returns parseable names
            entries = scan_dataset(folder, [name], extension, self._cache).entries
            captioned = sum(1 for entry in entries if entry.parsed.state.has_text)
            infos.append(ConceptInfo(name, parsed.repeats, parsed.concept, len(entries), captioned))
        return tuple(infos)

    def page(
        self, dataset: str, *, selection: CaptionFilter = ALL, offset: int = 0, limit: int = 24
    ) -> CaptionPage:
        """One page of images with their captions, filtered.

        Raises:
            ConceptNotFound: ``selection.concept`` is not a concept folder of the dataset.
            InvalidInput: negative offset or a limit below 1.
        """
        if offset < 0 or limit < 1:
            raise InvalidInput(f"offset must be >= 0 and limit >= 1 (got {offset}, {limit}).")
        _, scan = self._scan(dataset, selection)
        chosen = select(scan.entries, selection)
        items = tuple(reports.item(entry) for entry in chosen[offset : offset + limit])
        return CaptionPage(items=items, total=len(chosen), offset=offset, limit=limit)

    def get_caption(self, dataset: str, image: str) -> CaptionItem:
        """Raises: ImageNotFound (deleted or renamed), InvalidInput / InvalidName (bad path)."""
        folder = self._dataset_dir(dataset)
        path = image_path(folder, image)
        return self._item(folder, path)

    def save_caption(
        self,
        dataset: str,
        image: str,
        text: str,
        *,
        expected_text: str | None = None,
        overwrite_non_utf8: bool = False,
    ) -> CaptionItem:
        """Save one caption (atomic, UTF-8, one line) and return it as now stored.

        Args:
            expected_text: the caption as the editor loaded it; if the file holds something
                else now, nothing is written (another edit would be lost silently otherwise).
            overwrite_non_utf8: the person confirmed replacing a caption that is not UTF-8.

        Raises:
            ImageNotFound: the image no longer exists (the caption is not written).
            CaptionNotUtf8: the current file is not UTF-8 and ``overwrite_non_utf8`` is False.
            CaptionConflict: the file changed since ``expected_text`` was read.
            InvalidInput: the new text is empty (sd-scripts stops on empty caption files).
        """
        folder = self._dataset_dir(dataset)
        path = image_path(folder, image)
        target = caption_path(path, load_caption_settings(folder).caption_extension)
        new_text = one_line(text)
        if not new_text:
            raise InvalidInput(
                "An empty caption stops sd-scripts; write at least one word.", hint="Nothing was saved."
            )
        with self._write_lock:
            current = read_caption(target)
            if not overwrite_non_utf8:
                require_utf8(current, target.relative_to(folder).as_posix())
            if expected_text is not None and one_line(expected_text) != current.text:
                raise CaptionConflict(
                    f"The caption of {image} changed on disk since it was opened; nothing was saved.",
                    hint="Copy your text, reload the caption, and apply your edit again.",
                )
            if current.state is not CaptionState.OK or current.text != new_text:
                write_caption_durable(target, caption_content(new_text))
        return self._item(folder, path)

    def thumbnails(self, dataset: str, images: Sequence[str]) -> tuple[Path, ...]:
        """Thumbnail files (under ``cache_dir/thumbs``) for images of a page, in order.

        An image that cannot be read or no longer exists gets a placeholder file instead.

        Raises:
            InvalidName, PathEscape: a hostile image path (nothing is made).
        """
        folder = self._dataset_dir(dataset)
        paths = [relative_inside(folder, image) for image in images]
        return self._thumbnails.for_images(paths)

    # -- reports ----------------------------------------------------------------------------

    def stats(self, dataset: str, *, concept: str | None = None) -> CaptionStats:
        """Counts and one clear message per problem: missing, empty, non-UTF-8, orphan captions, extension."""
        folder, scan = self._scan(dataset, CaptionFilter(concept=concept))
        return reports.stats(dataset, scan, self._extension_report(folder, scan))

    def extension_report(self, dataset: str) -> ExtensionReport:
        folder, scan = self._scan(dataset, ALL)
        return self._extension_report(folder, scan)

    def frequencies(
        self,
        dataset: str,
        *,
        selection: CaptionFilter = ALL,
        search: str = "",
        sort_by: SortBy = "count",
        descending: bool = True,
        limit: int | None = None,
    ) -> FrequencyTable:
        """Tags with the number and share of (filtered) images holding them."""
        _, scan = self._scan(dataset, selection)
        entries = select(scan.entries, selection)
        return frequency_table(entries, search=search, sort_by=sort_by, descending=descending, limit=limit)

    def suggestions(
        self,
        dataset: str,
        *,
        selection: CaptionFilter = ALL,
        character_tags: Collection[str] | None = None,
        style_set: bool | None = None,
        common_share: float = COMMON_SHARE,
    ) -> tuple[Suggestion, ...]:
        """Tag-hygiene suggestions.

        Args:
            character_tags: character tag names (category 4 of the tagger's selected_tags.csv);
                without them no character suggestion can be made.
            style_set: overrides the dataset's saved ``style_set`` flag.
            common_share: share of images from which a tag counts as "in every image".
        """
        folder, scan = self._scan(dataset, selection)
        is_style = load_caption_settings(folder).style_set if style_set is None else style_set
        return suggest(
            select(scan.entries, selection),
            character_tags=character_tags,
            style_set=is_style,
            common_share=common_share,
        )

    def known_character_tags(self) -> frozenset[str]:
        """Character tags of the taggers downloaded on this machine, for ``suggestions(character_tags=...)``."""
        return self._characters.known()

    # -- bulk operations --------------------------------------------------------------------

    def preview(
        self, dataset: str, operation: OperationBase, *, selection: CaptionFilter = ALL, examples: int = 5
    ) -> BulkPreview:
        """How many captions ``operation`` would change, with a few before/after examples.

        Raises:
            InvalidInput: the operation is invalid (e.g. a bad regular expression).
        """
        operation.check()
        _, scan = self._scan(dataset, selection)
        plan = plan_changes(select(scan.entries, selection), operation)
        shown = tuple(
            Example(c.entry.image, c.entry.parsed.text, c.new_text) for c in plan.changes[:examples]
        )
        return BulkPreview(
            operation.describe(),
            plan.matched,
            len(plan.changes),
            shown,
            plan.skipped_not_utf8,
            plan.skipped_empty,
        )

    def apply(
        self,
        dataset: str,
        operation: OperationBase,
        *,
        selection: CaptionFilter = ALL,
        skip_non_utf8: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> BulkResult:
        """Run ``operation`` over the selected captions; its undo record is written first.

        Raises:
            InvalidInput: the operation is invalid (e.g. a bad regular expression).
            CaptionNotUtf8: selected captions are not UTF-8 and ``skip_non_utf8`` is False
                (nothing is changed).
        """
        operation.check()
        with self._write_lock:
            folder, scan = self._scan(dataset, selection)
            plan = plan_changes(select(scan.entries, selection), operation)
            if plan.skipped_not_utf8 and not skip_non_utf8:
                raise reports.not_utf8_error(plan.skipped_not_utf8)
            undo_id = None
            if plan.changes:
                undo_id = apply_plan(folder, plan, operation, self._cache, on_progress=on_progress)
        return BulkResult(
            operation.describe(),
            undo_id,
            plan.matched,
            len(plan.changes),
            plan.skipped_not_utf8,
            plan.skipped_empty,
        )

    def history(self, dataset: str, *, limit: int = 10) -> tuple[UndoSummary, ...]:
        """Recent bulk operations, newest first ("pending" when not running = interrupted)."""
        return tuple(meta.summary() for meta in list_metas(undo_folder(self._dataset_dir(dataset)))[:limit])

    def undo_last(self, dataset: str, *, force: bool = False) -> UndoResult:
        """Restore the captions of the newest bulk operation not undone yet (also an interrupted one).

        Raises:
            NothingToUndo: no such operation.
            CaptionConflict: captions were edited since and ``force`` is False (nothing changed).
        """
        folder = self._dataset_dir(dataset)
        with self._write_lock:
            records = undo_folder(folder)
            meta = next((m for m in list_metas(records) if m.status != "undone"), None)
            if meta is None:
                raise NothingToUndo(f"No bulk caption operation of {dataset!r} is left to undo.")
            record = load_record(records, meta.id)
            restored, conflicts = undo_record(folder, record, meta, force=force)
        return UndoResult(meta.id, meta.description, restored, tuple(conflicts))

    # -- internals --------------------------------------------------------------------------

    def _dataset_dir(self, dataset: str) -> Path:
        folder = child_path(self._settings.datasets_dir, dataset)
        if not folder.is_dir():
            raise DatasetNotFound(dataset, hint="Create or import it on the Datasets tab first.")
        return folder

    def _scan(self, dataset: str, selection: CaptionFilter) -> tuple[Path, Scan]:
        folder = self._dataset_dir(dataset)
        extension = load_caption_settings(folder).caption_extension
        if selection.concept is None:
            folders = concept_folders(folder)
        else:
            concept_dir = child_path(folder, selection.concept)
            if parse_concept_folder(selection.concept) is None or not concept_dir.is_dir():
                raise ConceptNotFound(selection.concept, hint=f"Pick one of {concept_folders(folder)}.")
            folders = [selection.concept]
        return folder, scan_dataset(folder, folders, extension, self._cache)

    def _extension_report(self, folder: Path, scan: Scan) -> ExtensionReport:
        return reports.extension_report(load_caption_settings(folder).caption_extension, scan)

    def _item(self, folder: Path, image: Path) -> CaptionItem:
        extension = load_caption_settings(folder).caption_extension
        concept = image.parent.name
        parsed = read_caption(caption_path(image, extension))
        entry = Entry(f"{concept}/{image.name}", concept, f"{concept}/{image.stem}{extension}", parsed)
        return reports.item(entry)
