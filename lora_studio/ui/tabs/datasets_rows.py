"""Pure formatting for the Datasets tab: service results → table rows and short texts (no gradio).

People see "concept" and "repeats", never the ``10_cat`` folder convention, so every path the
service gives as ``10_cat/a.png`` is shown as ``cat / a.png``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_studio.core.layout import parse_concept_folder
from lora_studio.services.datasets import (
    DatasetStats,
    DatasetSummary,
    GalleryPage,
    ImportReport,
    ImportStatus,
)

DATASET_HEADERS = ["dataset", "images", "captioned", "size", "concepts (repeats)"]
CONCEPT_HEADERS = ["concept", "repeats", "images", "captioned", "size"]
REPORT_HEADERS = ["file", "result", "reason / notes", "saved as"]
DETAIL_HEADERS = ["file", "concept", "size", "resolution", "caption", "note"]
COUNT_HEADERS = {"resolution": ["resolution", "images"], "aspect": ["aspect ratio", "images"]}
BUCKET_HEADERS = ["bucket", "images", "with repeats"]
SMALL_HEADERS = ["image", "width", "height"]
IMAGE_HEADERS = ["image"]
Row = list[str | int]


def human_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"  # unreachable; keeps mypy sure of the return


def display_path(relative: str | None) -> str:
    """``10_cat/a.png`` → ``cat / a.png``; anything else unchanged."""
    if not relative:
        return ""
    folder, slash, name = relative.partition("/")
    parsed = parse_concept_folder(folder) if slash else None
    return f"{parsed.concept} / {name}" if parsed else relative


# -- datasets and concepts --------------------------------------------------------------------------


def dataset_rows(summaries: list[DatasetSummary]) -> list[Row]:
    return [
        [
            item.name,
            item.image_count,
            item.captioned_count,
            human_size(item.size_bytes),
            ", ".join(f"{concept.concept} ({concept.repeats})" for concept in item.concepts) or "—",
        ]
        for item in summaries
    ]


def concept_rows(summary: DatasetSummary) -> list[Row]:
    return [
        [item.concept, item.repeats, item.image_count, item.captioned_count, human_size(item.size_bytes)]
        for item in summary.concepts
    ]


def dataset_notes(summary: DatasetSummary) -> str:
    """One line about the dataset, plus what training would silently skip."""
    lines = [
        f"**{summary.name}**: {summary.image_count} images, {summary.captioned_count} captioned, "
        f"{human_size(summary.size_bytes)}, {len(summary.concepts)} concept(s)."
    ]
    if not summary.concepts:
        lines.append("No concept yet: add images below (the concept field names one).")
    if summary.loose_images:
        lines.append(
            f"⚠ {summary.loose_images} image(s) lie outside any concept; training ignores them. "
            "Import them again into a concept."
        )
    if summary.other_folders:
        lines.append(
            f"⚠ Training ignores these folders (no repeats in their name): {', '.join(summary.other_folders)}."
        )
    return "\n\n".join(lines)


# -- imports ----------------------------------------------------------------------------------------


def report_rows(report: ImportReport) -> list[Row]:
    return [[row.source, row.status.value, row.reason, display_path(row.final_path)] for row in report.rows]


def report_summary(report: ImportReport) -> str:
    text = (
        f"**{report.accepted} accepted**, {report.duplicates} duplicate(s) skipped, "
        f"**{report.rejected} rejected** into dataset **{report.dataset}**."
    )
    if not report.rows:
        return "Nothing to import: no files were given."
    if report.count(ImportStatus.REJECTED):
        text += " The table says why each rejected file was refused."
    return text


# -- gallery ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalleryView:
    """What the gallery section shows for one page."""

    # (thumbnail path, caption) for every item that has a thumbnail.
    images: list[tuple[str, str]]
    # The service path of each gallery image, in gallery order (a click gives only an index).
    image_paths: list[str]
    # (label, service path) for every item of the page: the delete selection.
    choices: list[tuple[str, str]]
    details: list[Row]
    page_text: str


def gallery_view(page: GalleryPage) -> GalleryView:
    images: list[tuple[str, str]] = []
    paths: list[str] = []
    details: list[Row] = []
    for item in page.items:
        if item.thumbnail is not None:
            images.append((str(item.thumbnail), item.filename))
            paths.append(item.path)
        note = item.problem or ("EXIF-rotated: trains as stored" if item.orientation != 1 else "")
        resolution = f"{item.width}x{item.height}" if item.width > 0 else "?"
        caption = "yes" if item.has_caption else "no"
        details.append([item.filename, item.concept, human_size(item.size_bytes), resolution, caption, note])
    choices = [(f"{item.concept} / {item.filename}", item.path) for item in page.items]
    first = (page.page - 1) * page.page_size + 1 if page.items else 0
    last = first + len(page.items) - 1 if page.items else 0
    text = f"Page {page.page} of {page.pages} · images {first}–{last} of {page.total}"
    return GalleryView(images, paths, choices, details, text if page.total else "No images yet.")


# -- statistics -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsView:
    summary: str
    resolutions: list[Row]
    aspects: list[Row]
    buckets: list[Row]
    small: list[Row]
    uncaptioned: list[Row]


def stats_view(stats: DatasetStats) -> StatsView:
    preview = stats.buckets
    width, height = preview.settings.resolution
    lines = [
        f"**{stats.dataset}**: {stats.image_count} images, {stats.captioned_count} captioned, "
        f"{len(stats.uncaptioned)} without caption, {len(stats.smaller_than_resolution)} smaller than "
        f"{width}x{height}. Mean aspect-ratio error of the buckets: {preview.mean_ar_error:.4f}."
    ]
    for count, label in (
        (len(stats.unreadable), "unreadable image(s)"),
        (len(stats.rotated), "EXIF-rotated image(s): sd-scripts trains them as stored (sideways)"),
        (len(preview.unassigned), "image(s) fit no bucket with these settings"),
        (len(preview.too_large), f"image(s) larger than {width}x{height} while bucketing is off"),
    ):
        if count:
            lines.append(f"⚠ {count} {label}.")
    return StatsView(
        summary="\n\n".join(lines),
        resolutions=[[row.label, row.count] for row in stats.resolutions],
        aspects=[[row.label, row.count] for row in stats.aspect_ratios],
        buckets=[[f"{r.resolution[0]}x{r.resolution[1]}", r.images, r.with_repeats] for r in preview.buckets],
        small=[[display_path(item.path), item.width, item.height] for item in stats.smaller_than_resolution],
        uncaptioned=[[display_path(path)] for path in stats.uncaptioned],
    )
